package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

// missingUUID is a well-formed id nothing has.
const missingUUID = "0190c0de-0000-7000-8000-000000000000"

// mustFail runs a command that must fail with an error containing each of
// want, and returns the error.
func (u *user) mustFail(args []string, want ...string) error {
	u.t.Helper()
	_, err := u.run(args...)
	if err == nil {
		u.t.Fatalf("jarimu %s: got no error, want %q", strings.Join(args, " "), want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			u.t.Errorf("jarimu %s: got %q, want %q in it", strings.Join(args, " "), err, w)
		}
	}
	return err
}

// mustUsage runs a command given wrongly: it must fail with a usageError
// (exit status 2) naming want.
func (u *user) mustUsage(args []string, want string) {
	u.t.Helper()
	err := u.mustFail(args, want)
	if exitCode(err) != 2 {
		u.t.Errorf("jarimu %s: got exit status %d (%v), want 2", strings.Join(args, " "), exitCode(err), err)
	}
}

// wantFields checks that out has each want.
func wantFields(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: got %q, want %q in it", what, out, w)
		}
	}
}

// A coordinator runs an organisation from the command line: an officer
// registers it with her as coordinator; she makes an invite, volunteers
// join with it, she approves one and rejects another, changes roles,
// manages a task, reviews a report and removes a member.
func TestCLICoordinator(t *testing.T) {
	w := newWorld(t)
	for _, e := range []string{"dewi@example.org", "budi@example.org", "eko@example.org"} {
		w.volunteer(e)
	}
	admin := w.person("admin@bawaslu.go.id")
	dewi, budi, eko := w.person("dewi@example.org"), w.person("budi@example.org"), w.person("eko@example.org")

	var org api.Org
	admin.mustJSON(&org, "org", "register", "--name", "Perludem Jakarta", "--number", "B-12/2029", "--until",
		time.Now().AddDate(1, 0, 0).Format("2006-01-02"), "--region", "31", "--coordinator", "dewi@example.org")
	if org.Status != api.OrgAccredited || org.Name != "Perludem Jakarta" {
		t.Fatalf("org register: got %+v", org)
	}

	// Dewi coordinates one organisation: --org may be left out.
	var inv api.Invite
	dewi.mustJSON(&inv, "invite", "create", "--uses", "5", "--expires", "2d")
	if inv.OrgID != org.ID || inv.Code == "" || inv.MaxUses != 5 || time.Until(inv.ExpiresAt) < 47*time.Hour {
		t.Fatalf("invite create: got %+v", inv)
	}
	wantFields(t, "invite create", dewi.must("invite", "create", "--org", org.ID), "(shown once)", "jarimu join "+org.ID+" --code ")
	budi.mustFail([]string{"invite", "create", "--org", org.ID}, "forbidden: ", "next: ")
	eko.mustUsage([]string{"invite", "create"}, "--org is required: you coordinate 0 organisations")
	dewi.mustUsage([]string{"invite", "create", "--expires", "soon"}, `--expires "soon": want a duration`)

	// Budi asks to join; Eko joins with the code.
	var m api.Membership
	budi.mustJSON(&m, "join", org.ID)
	if m.Status != api.MembershipPending {
		t.Fatalf("join: got %+v, want pending", m)
	}
	budiID := m.UserID
	wantFields(t, "join --code", eko.must("join", org.ID, "--code", inv.Code), "status:", "active")
	budi.mustFail([]string{"join", org.ID, "--code", "WRONG-CODE"}, "membership-")
	eko.mustFail([]string{"join", missingUUID, "--code", inv.Code}, "not-found: ")
	eko.mustUsage([]string{"join"}, "usage: jarimu join ORG_ID")

	out := dewi.must("members", "--status", "pending")
	wantFields(t, "members --status pending", out, "NAME", "Relawan", "pending", budiID)
	var ms []api.Membership
	dewi.mustJSON(&ms, "members", "--org", org.ID, "--status", "active")
	if len(ms) != 2 { // Dewi and Eko
		t.Fatalf("members --json: got %+v, want Dewi and Eko active", ms)
	}
	ekoID := ms[0].UserID
	if ms[0].Role == api.RoleCoordinator {
		ekoID = ms[1].UserID
	}
	dewi.mustUsage([]string{"member", "reject", budiID}, "--reason is required")
	dewi.mustUsage([]string{"member", "reject"}, "usage: jarimu member reject USER_ID")
	dewi.mustJSON(&m, "member", "reject", budiID, "--reason", "belum dikenal")
	if m.Status != api.MembershipRejected || m.Reason != "belum dikenal" {
		t.Errorf("member reject: got %+v", m)
	}
	budi.must("join", org.ID)
	wantFields(t, "member approve", dewi.must("member", "approve", budiID), "active", budiID)
	dewi.mustFail([]string{"member", "approve", ekoID}, "not-pending: ")
	dewi.mustFail([]string{"member", "approve", missingUUID}, "not-found: ")
	dewi.mustJSON(&m, "member", "role", budiID, "--role", "coordinator")
	if m.Role != api.RoleCoordinator {
		t.Errorf("member role: got %+v", m)
	}
	dewi.mustFail([]string{"member", "role", budiID, "--role", "boss"}, "validation: ", "role: ")
	dewi.must("member", "role", budiID, "--role", "member", "--org", org.ID)

	// Tasks: create, edit, assign, close.
	var task api.Task
	dewi.mustJSON(&task, "task", "create", "--org", org.ID, "--title", "Pantau hoaks TPS Jakarta", "--kind", "social_media",
		"--platform", "x", "--target", "#pemilu", "--region", "31", "--slots", "2", "--due", "3d")
	if task.Slots != 2 || task.OrgID == nil || *task.OrgID != org.ID || task.DueAt == nil {
		t.Fatalf("task create: got %+v", task)
	}
	dewi.mustUsage([]string{"task", "create", "--title", "Tanpa jenis"}, "--kind is required")
	budi.mustFail([]string{"task", "create", "--org", org.ID, "--title", "Bukan koordinator", "--kind", "other"}, "next: ")
	wantFields(t, "task edit", dewi.must("task", "edit", task.ID, "--slots", "3", "--title", "Pantau hoaks TPS DKI"),
		"0/3 taken", "Pantau hoaks TPS DKI")
	dewi.mustUsage([]string{"task", "edit", task.ID}, "nothing to change")
	var claim api.Claim
	dewi.mustJSON(&claim, "task", "assign", task.ID, "--user", budiID)
	if claim.UserID != budiID || claim.Status != api.ClaimActive || claim.AssignedBy == nil {
		t.Fatalf("task assign: got %+v", claim)
	}
	wantFields(t, "task show", budi.must("task", "show", task.ID), "1/3 taken", "my claim:", claim.ID)
	dewi.mustFail([]string{"task", "show", missingUUID}, "not-found: ")

	// Reports of the org: Dewi reviews Budi's.
	var rep api.Report
	budi.mustJSON(&rep, "report", "--url", "https://x.com/akun/status/9", "--platform", "x", "--category", "disinformation",
		"--summary", "Hoaks jadwal pencoblosan di Jakarta", "--org", org.ID, "--region", "31")
	budi.mustFail([]string{"report", "review", rep.ID, "--decision", "endorse"}, "own-report: ")
	eko.mustFail([]string{"report", "review", rep.ID, "--decision", "endorse"}, "next: ")
	dewi.mustFail([]string{"report", "review", rep.ID, "--decision", "reject"}, "validation: ", "note: ")
	wantFields(t, "report review", dewi.must("report", "review", rep.ID, "--decision", "endorse"), "status:", "endorsed")
	var reps []api.Report
	dewi.mustJSON(&reps, "reports", "--org", org.ID)
	if len(reps) != 1 || reps[0].ID != rep.ID || reps[0].Status != api.ReportEndorsed {
		t.Errorf("reports --org: got %+v", reps)
	}

	wantFields(t, "task close", dewi.must("task", "close", task.ID), "status:", "closed")
	wantFields(t, "member remove", dewi.must("member", "remove", budiID), "removed "+budiID)
	dewi.mustJSON(&ms, "members", "--status", "removed")
	if len(ms) != 1 || ms[0].UserID != budiID {
		t.Errorf("members --status removed: got %+v", ms)
	}
}

// An officer verifies reports and follows their takedown, decides on the
// accreditation of the organisations of the region (an admin registers
// them) and runs alerts, all on the command line; a volunteer trying the
// same is told the problem.
func TestCLIOfficer(t *testing.T) {
	w := newWorld(t)
	w.volunteer("citra@example.org")
	admin, officer, citra := w.person("admin@bawaslu.go.id"), w.person("jkt@bawaslu.go.id"), w.person("citra@example.org")

	file := func(url string) api.Report {
		var r api.Report
		citra.mustJSON(&r, "report", "--url", url, "--platform", "tiktok", "--category", "money_politics",
			"--summary", "Bagi-bagi amplop di video kampanye", "--region", "3171")
		return r
	}
	first, second, third := file("https://tiktok.com/@a/video/1"), file("https://tiktok.com/@a/video/2"), file("https://tiktok.com/@a/video/3")

	out := officer.must("reports", "--status", "submitted")
	wantFields(t, "reports", out, "OBSERVED", "money_politics", first.ID, second.ID, third.ID)
	var reps []api.Report
	officer.mustJSON(&reps, "reports", "--status", "submitted", "--limit", "2")
	if len(reps) != 2 {
		t.Errorf("reports --limit 2: got %d", len(reps))
	}

	citra.mustFail([]string{"report", "verify", first.ID}, "own-report: ")
	wantFields(t, "report verify", officer.must("report", "verify", first.ID, "--note", "terbukti", "--public-summary", "Klaim pembagian uang di TPS tidak benar."),
		"status:", "verified", "terbukti", "published as:", "Klaim pembagian uang di TPS tidak benar.")
	officer.mustUsage([]string{"report", "reject", second.ID}, "--note is required")
	wantFields(t, "report reject", officer.must("report", "reject", second.ID, "--note", "bukan pelanggaran"), "rejected", "bukan pelanggaran")
	officer.mustUsage([]string{"report", "duplicate", third.ID}, "--of is required")
	var dup api.Report
	officer.mustJSON(&dup, "report", "duplicate", third.ID, "--of", first.ID)
	if dup.Status != api.ReportDuplicate || dup.DuplicateOf == nil || *dup.DuplicateOf != first.ID {
		t.Errorf("report duplicate: got %+v", dup)
	}
	officer.mustFail([]string{"report", "verify", missingUUID}, "not-found: ")

	officer.must("report", "takedown", first.ID, "--status", "requested", "--ref", "TIKET-4411")
	officer.must("report", "takedown", first.ID, "--status", "taken_down")
	officer.mustFail([]string{"report", "takedown", first.ID, "--status", "gone"}, "validation: ", "status: ")
	citra.mustFail([]string{"report", "takedown", first.ID, "--status", "refused"}, "own-report: ")
	out = officer.must("report", "show", first.ID)
	wantFields(t, "report show", out, "takedown:", "requested", "TIKET-4411", "taken_down")
	var shown api.Report
	citra.mustJSON(&shown, "report", "show", first.ID)
	if len(shown.Takedown) != 2 {
		t.Errorf("report show --json: got takedown %+v, want 2 steps", shown.Takedown)
	}

	// The registry.
	var org api.Org
	admin.mustJSON(&org, "org", "register", "--name", "JPPR DKI", "--number", "B-7/2029", "--until", time.Now().AddDate(0, 6, 0).Format(time.RFC3339), "--region", "31")
	admin.mustUsage([]string{"org", "register", "--name", "Tanpa nomor"}, "--number, --until are required")
	officer.mustFail([]string{"org", "register", "--name", "Bukan nasional", "--number", "X-1", "--until", "30d"}, "forbidden: ", "next: ")
	officer.mustUsage([]string{"org", "suspend", org.ID}, "--reason is required")
	citra.mustFail([]string{"org", "suspend", org.ID, "--reason", "bukan petugas"}, "next: ")
	wantFields(t, "org suspend", officer.must("org", "suspend", org.ID, "--reason", "laporan dana belum diserahkan"), "suspended")
	officer.mustUsage([]string{"org", "renew", org.ID, "--reason", "diperpanjang"}, "--until is required")
	officer.mustJSON(&org, "org", "renew", org.ID, "--until", "2031-06-30", "--reason", "akreditasi diperpanjang")
	if org.Status != api.OrgAccredited || org.AccreditedUntil.Year() != 2031 {
		t.Errorf("org renew: got %+v", org)
	}
	officer.mustJSON(&org, "org", "revoke", org.ID, "--reason", "melanggar kode etik")
	if org.Status != api.OrgRevoked {
		t.Errorf("org revoke: got %+v", org)
	}
	anon := &user{t: t, w: w, dir: t.TempDir()}
	wantFields(t, "org show", anon.must("org", "show", org.ID, "--server", w.url), "revoked", "decisions:", "suspend", "renew", "revoke", "melanggar kode etik")
	anon.mustFail([]string{"org", "show", missingUUID, "--server", w.url}, "not-found: ")

	// Alerts: send, reach, retract.
	out = officer.must("alert", "send", "--title", "Politik uang di Jakarta", "--body", "Laporkan amplop.", "--severity", "warning",
		"--region", "31", "--report", first.ID)
	id := fieldOf(out, "alert")
	var reach api.Reach
	officer.mustJSON(&reach, "alert", "reach", id)
	if reach.AlertID != id || reach.Meant < 1 {
		t.Errorf("alert reach: got %+v, want Citra of DKI Jakarta counted", reach)
	}
	wantFields(t, "alert reach", officer.must("alert", "reach", id), "meant for:", "delivered:", "delay p50:")
	citra.mustFail([]string{"alert", "reach", id}, "next: ")
	officer.mustUsage([]string{"alert", "retract", id}, "--reason is required")
	citra.mustFail([]string{"alert", "retract", id, "--reason", "bukan petugas"}, "next: ")
	wantFields(t, "alert retract", officer.must("alert", "retract", id, "--reason", "salah wilayah"), "retracted:", "salah wilayah")
	wantFields(t, "alert show", anon.must("alert", "show", id, "--server", w.url), "Politik uang di Jakarta", "retracted:", "salah wilayah")
	officer.mustFail([]string{"alert", "reach", missingUUID}, "not-found: ")
}

// An admin makes, suspends and reactivates staff accounts.
func TestCLIAdmin(t *testing.T) {
	w := newWorld(t)
	admin, officer := w.person("admin@bawaslu.go.id"), w.person("jkt@bawaslu.go.id")

	var u api.User
	admin.mustJSONIn(&u, testPassword+"\n", "user", "create", "--email", "jabar@bawaslu.go.id", "--name", "Bawaslu Jabar", "--role", "officer", "--region", "32")
	if u.Role != api.RoleOfficer || u.RegionCode == nil || *u.RegionCode != "32" || u.Status != api.UserActive {
		t.Fatalf("user create: got %+v", u)
	}
	w.client("jabar@bawaslu.go.id") // the password given works
	out, err := admin.runIn("\n", "user", "create", "--email", "banten@bawaslu.go.id", "--name", "Bawaslu Banten", "--role", "officer", "--region", "36")
	if err != nil || !strings.Contains(out, "password (shown once): ") {
		t.Fatalf("user create with a generated password: got %q, %v", out, err)
	}
	// With --json, the account's fields and the password generated.
	var made struct {
		api.User
		Password string `json:"password"`
	}
	admin.mustJSONIn(&made, "\n", "user", "create", "--email", "bali@bawaslu.go.id", "--name", "Bawaslu Bali", "--role", "officer", "--region", "51")
	if made.Email != "bali@bawaslu.go.id" || made.ID == "" || len(made.Password) < 20 {
		t.Fatalf("user create --json with a generated password: got %+v", made)
	}
	if _, err := client.New(w.url).Login(context.Background(), "bali@bawaslu.go.id", made.Password); err != nil {
		t.Errorf("login with the password printed by user create --json: %v", err)
	}
	admin.mustUsage([]string{"user", "create", "--email", "x@bawaslu.go.id"}, "--name, --role are required")
	admin.mustFail([]string{"user", "create", "--email", "x@bawaslu.go.id", "--name", "X", "--role", "king"}, "validation: ", "role: ")
	officer.mustFail([]string{"user", "create", "--email", "y@bawaslu.go.id", "--name", "Y", "--role", "officer"}, "forbidden: ", "next: ")

	wantFields(t, "user show", admin.must("user", "show", u.ID), "jabar@bawaslu.go.id", "officer", "32")
	admin.mustFail([]string{"user", "show", missingUUID}, "not-found: ")
	officer.mustFail([]string{"user", "suspend", u.ID}, "forbidden: ")

	admin.mustJSON(&u, "user", "suspend", u.ID)
	if u.Status != api.UserSuspended {
		t.Fatalf("user suspend: got %+v", u)
	}
	if _, err := client.New(w.url).Login(context.Background(), "jabar@bawaslu.go.id", testPassword); err == nil {
		t.Error("login of a suspended account: got no error")
	}
	wantFields(t, "user reactivate", admin.must("user", "reactivate", u.ID), "status:", "active")
	w.client("jabar@bawaslu.go.id")
}

func (u *user) mustJSONIn(v any, stdin string, args ...string) {
	u.t.Helper()
	out, err := u.runIn(stdin, append(args, "--json")...)
	if err != nil {
		u.t.Fatalf("jarimu %s: %v", strings.Join(args, " "), err)
	}
	if err := jsonUnmarshal(out, v); err != nil {
		u.t.Fatalf("jarimu %s --json: %v in %q", strings.Join(args, " "), err, out)
	}
}

// --server names the server everywhere, $JARIMU_SERVER too; --url still
// does, with a warning, except in jarimu report where it is the content.
func TestCLIServerFlag(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	env := envFunc(map[string]string{"JARIMU_CONFIG_DIR": dir, "JARIMU_SERVER": w.url})
	if err := run(context.Background(), []string{"alerts"}, env, nil, &out, &errOut); err != nil || !strings.Contains(out.String(), "no alerts") {
		t.Errorf("alerts with JARIMU_SERVER: got %q, %v", out.String(), err)
	}
	out.Reset()
	env = envFunc(map[string]string{"JARIMU_CONFIG_DIR": dir})
	if err := run(context.Background(), []string{"orgs", "--url", w.url}, env, nil, &out, &errOut); err != nil || !strings.Contains(out.String(), "no organisations") {
		t.Errorf("orgs --url: got %q, %v", out.String(), err)
	}
	if !strings.Contains(errOut.String(), "--url is deprecated for the server; use --server") {
		t.Errorf("orgs --url: got stderr %q, want a deprecation warning", errOut.String())
	}
	errOut.Reset()
	if err := run(context.Background(), []string{"orgs", "--server", w.url}, env, nil, &out, &errOut); err != nil || errOut.Len() > 0 {
		t.Errorf("orgs --server: got %v, stderr %q", err, errOut.String())
	}
	err := run(context.Background(), []string{"orgs", "--server", "ftp://example.org"}, env, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--server \"ftp://example.org\"") {
		t.Errorf("orgs --server ftp: got %v", err)
	}
	var ue usageError
	if err := run(context.Background(), []string{"orgs", "--colour"}, env, nil, &out, &errOut); !errors.As(err, &ue) {
		t.Errorf("orgs --colour: got %v, want a usage error", err)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// admin create-user --json prints the account, and the password when it
// generated one.
func TestAdminCreateUserJSON(t *testing.T) {
	env := envFunc(map[string]string{"JARIMU_DATA_DIR": t.TempDir()})
	var out bytes.Buffer
	err := run(context.Background(), []string{"admin", "create-user", "--email", "jatim@bawaslu.go.id", "--name", "Bawaslu Jatim",
		"--role", "officer", "--region", "35", "--json"}, env, strings.NewReader("\n"), &out, io.Discard)
	var got struct {
		User     api.User `json:"user"`
		Password string   `json:"password"`
	}
	if err != nil || json.Unmarshal(out.Bytes(), &got) != nil {
		t.Fatalf("admin create-user --json: got %q, %v", out.String(), err)
	}
	if got.User.Email != "jatim@bawaslu.go.id" || got.User.Role != api.RoleOfficer || len(got.Password) < 20 {
		t.Errorf("admin create-user --json: got %+v", got)
	}
	out.Reset()
	err = run(context.Background(), []string{"admin", "create-user", "--email", "jatim2@bawaslu.go.id", "--name", "Bawaslu Jatim",
		"--role", "officer", "--json"}, env, strings.NewReader(testPassword+"\n"), &out, io.Discard)
	if err != nil || strings.Contains(out.String(), "password") {
		t.Errorf("admin create-user --json with a password given: got %q, %v, want no password printed", out.String(), err)
	}
	err = run(context.Background(), []string{"admin", "create-user", "--email", "x@bawaslu.go.id", "--name", "X", "--role", "volunteer"},
		env, strings.NewReader("\n"), io.Discard, io.Discard)
	if exitCode(err) != 2 {
		t.Errorf("admin create-user --role volunteer: got %v (exit %d), want a usage error", err, exitCode(err))
	}
}
