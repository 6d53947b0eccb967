package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/privacy"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/pushtest"
)

// person is an account whose name and email are unmistakable anywhere.
type person struct {
	api.AuthResponse
	name, email string
}

// newPerson signs a volunteer up (or, for staff, has one made and consent)
// with a marked name and email.
func newPerson(t testing.TB, e *apptest.Env, role, regionCode string) person {
	t.Helper()
	tag := auth.NewID()[24:]
	p := person{name: "Kartika Wiranegara " + tag, email: "kartika.w" + tag + "@pos-pribadi.example"}
	if role == api.RoleVolunteer {
		r := call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"email": p.email, "password": apptest.Password, "name": p.name,
			"region_code": regionCode, "privacy_version": e.App.Notice.Version})
		must(t, "signup", r, http.StatusCreated, "")
		r.Decode(t, &p.AuthResponse)
		return p
	}
	p.AuthResponse = marked(t, e, role, regionCode)
	p.name, p.email = p.User.Name, p.User.Email
	return p
}

// distinctPNG is a small PNG-looking file no other upload shares.
func distinctPNG() []byte {
	b := make([]byte, 64)
	rand.Read(b)
	return append(append([]byte{}, pngHead...), b...)
}

func review(t testing.TB, e *apptest.Env, token, id, decision string) {
	t.Helper()
	must(t, "review "+decision, call(t, e, token, "POST", reportPath(id, "/review"), map[string]any{"decision": decision, "note": "catatan koordinator"}), http.StatusOK, "")
}

func verify(t testing.TB, e *apptest.Env, token, id string) {
	t.Helper()
	must(t, "verify", call(t, e, token, "POST", reportPath(id, "/verification"), map[string]any{"decision": "verified", "note": "terverifikasi"}), http.StatusOK, "")
}

// world is a history around one volunteer, v, among other people.
type world struct {
	v, coord, other, officer person
	org                      api.Org
	task, task2              api.Task
	claim, otherClaim        api.Claim
	verified, pending        api.Report
	otherReport              api.Report
	verifiedFile, pendFile   []byte
	alert                    api.Alert
}

func newWorld(t *testing.T, e *apptest.Env) *world {
	t.Helper()
	w := &world{}
	w.officer = newPerson(t, e, api.RoleOfficer, "31")
	w.coord = newPerson(t, e, api.RoleVolunteer, "3171")
	w.v = newPerson(t, e, api.RoleVolunteer, "3171")
	w.other = newPerson(t, e, api.RoleVolunteer, "3171")
	admin := e.User(t, api.RoleAdmin, "Admin", "")
	w.org = createOrg(t, e, tok(admin), "31", w.coord.email)
	code := invite(t, e, tok(w.coord.AuthResponse), w.org, 10).Code
	// The join's answer (with the member's name) is kept for replays.
	r := e.Do(t, "POST", orgPath(w.org, "/memberships"), map[string]any{"invite_code": code}, append(apptest.Bearer(tok(w.v.AuthResponse)), "Idempotency-Key", "gabung-"+w.v.User.ID)...)
	must(t, "join", r, http.StatusCreated, "")
	must(t, "other joins", join(t, e, tok(w.other.AuthResponse), w.org, code), http.StatusCreated, "")
	w.task = createTask(t, e, tok(w.coord.AuthResponse), taskBody(w.org.ID, 5, "region_code", "3171"))
	w.task2 = createTask(t, e, tok(w.coord.AuthResponse), taskBody(w.org.ID, 5, "region_code", "3171"))
	w.claim = claimTask(t, e, tok(w.v.AuthResponse), w.task.ID)
	w.otherClaim = claimTask(t, e, tok(w.other.AuthResponse), w.task.ID)
	claimTask(t, e, tok(w.v.AuthResponse), w.task2.ID) // stays active

	body := reportBody(w.org.ID, "3171", "")
	body["claim_id"] = w.claim.ID
	w.verified = submitReport(t, e, tok(w.v.AuthResponse), body)
	w.verifiedFile = distinctPNG()
	must(t, "evidence", upload(t, e, tok(w.v.AuthResponse), w.verified.ID, "file", "bukti.png", "image/png", bytes.NewReader(w.verifiedFile)), http.StatusCreated, "")
	review(t, e, tok(w.coord.AuthResponse), w.verified.ID, "endorse")
	verify(t, e, tok(w.officer.AuthResponse), w.verified.ID)
	must(t, "takedown", call(t, e, tok(w.officer.AuthResponse), "POST", reportPath(w.verified.ID, "/takedown"), map[string]any{"status": "requested", "platform_ref": "X-123"}), http.StatusOK, "")
	w.pending = submitReport(t, e, tok(w.v.AuthResponse), reportBody(w.org.ID, "3171", ""))
	w.pendFile = distinctPNG()
	must(t, "evidence 2", upload(t, e, tok(w.v.AuthResponse), w.pending.ID, "file", "bukti2.png", "image/png", bytes.NewReader(w.pendFile)), http.StatusCreated, "")
	w.otherReport = submitReport(t, e, tok(w.other.AuthResponse), reportBody(w.org.ID, "3171", ""))
	must(t, "other evidence", upload(t, e, tok(w.other.AuthResponse), w.otherReport.ID, "file", "lain.png", "image/png", bytes.NewReader(distinctPNG())), http.StatusCreated, "")

	// An alert citing the verified report, acknowledged on v's feed.
	feed := openFeed(t, e, tok(w.v.AuthResponse), nil)
	w.alert = createAlert(t, e, tok(w.officer.AuthResponse), alertBody("3171", w.verified.ID))
	ev, _ := feed.await("alert.published", "id", w.alert.ID)
	feed.ack(ev.Stream, ev.Seq)
	feed.barrier()
	waitRows(t, e, "alert_ack_counts", "alert_id = ?", 1, w.alert.ID)
	must(t, "move", patchMe(t, e, tok(w.v.AuthResponse), map[string]any{"region_code": "3173"}), http.StatusOK, "")
	return w
}

func export(t testing.TB, e *apptest.Env, token, format string) apptest.Response {
	t.Helper()
	path := "/v1/me/export"
	if format != "" {
		path += "?format=" + format
	}
	return call(t, e, token, "GET", path, nil)
}

// The export holds everything about the caller, in both forms, and nothing
// about anyone else.
func TestExport(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		r := export(t, e, tok(w.v.AuthResponse), "")
		must(t, "export", r, http.StatusOK, "")
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="jarimu-data-`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		var doc struct {
			Format        string                     `json:"format"`
			Profile       privacy.Profile            `json:"profile"`
			Consents      []api.Consent              `json:"consents"`
			Memberships   []api.MembershipSummary    `json:"memberships"`
			Claims        []map[string]any           `json:"claims"`
			Reports       []api.Report               `json:"reports"`
			Sessions      []api.Session              `json:"sessions"`
			Devices       []api.Device               `json:"devices"`
			AlertAcks     []map[string]any           `json:"alert_acks"`
			QueuedMail    []map[string]any           `json:"queued_mail"`
			Notifications []map[string]any           `json:"notifications"`
			Audit         []api.AuditEntry           `json:"audit"`
			Extra         map[string]json.RawMessage `json:"-"`
		}
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.DisallowUnknownFields()
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			t.Fatalf("export is not JSON: %v\n%s", err, r.Body)
		}
		if doc.Format != privacy.ExportFormat || doc.Profile.Email != w.v.email || doc.Profile.Name != w.v.name || doc.Profile.LastSeenAt == nil {
			t.Errorf("profile: %+v", doc.Profile)
		}
		if len(doc.Consents) != 1 || doc.Consents[0].Version != e.App.Notice.Version {
			t.Errorf("consents: %+v", doc.Consents)
		}
		if len(doc.Memberships) != 1 || doc.Memberships[0].OrgID != w.org.ID {
			t.Errorf("memberships: %+v", doc.Memberships)
		}
		if len(doc.Claims) != 2 || doc.Claims[0]["id"] != w.claim.ID || doc.Claims[0]["task_title"] != w.task.Title {
			t.Errorf("claims: %+v", doc.Claims)
		}
		if len(doc.Reports) != 2 || doc.Reports[0].ID != w.verified.ID || doc.Reports[0].Status != api.ReportVerified ||
			len(doc.Reports[0].Evidence) != 1 || doc.Reports[0].Evidence[0].SHA256 != sha(w.verifiedFile) ||
			len(doc.Reports[0].Takedown) != 1 || doc.Reports[0].ReviewNote != "catatan koordinator" || doc.Reports[1].ID != w.pending.ID {
			t.Errorf("reports: %+v", doc.Reports)
		}
		if len(doc.Sessions) < 1 || len(doc.Devices) < 1 {
			t.Errorf("sessions %d, devices %d", len(doc.Sessions), len(doc.Devices))
		}
		if doc.AlertAcks != nil { // acks are stored as counts that name nobody
			t.Errorf("alert acks in the export: %+v", doc.AlertAcks)
		}
		if doc.QueuedMail == nil {
			t.Error("queued_mail missing")
		}
		names := map[string]bool{}
		for _, n := range doc.Notifications {
			names[fmt.Sprint(n["event"])] = true
		}
		if !names["membership.decided"] || !names["report.status_changed"] {
			t.Errorf("notifications: %v", names)
		}
		actions := map[string]bool{}
		for _, a := range doc.Audit {
			actions[a.Action] = true
			if a.ActorID != nil && *a.ActorID != w.v.User.ID {
				t.Errorf("audit entry %s names another actor %s", a.Action, *a.ActorID)
			}
		}
		for _, want := range []string{"user.region_change", "report.verified", "report.endorse"} {
			if !actions[want] {
				t.Errorf("audit lacks %s: %v", want, actions)
			}
		}
		for _, other := range []person{w.coord, w.other, w.officer} {
			for _, s := range []string{other.name, other.email, other.User.ID} {
				if bytes.Contains(r.Body, []byte(s)) {
					t.Errorf("the export holds %q, of another person", s)
				}
			}
		}
		for _, s := range []string{w.otherReport.ID, w.otherClaim.ID} {
			if bytes.Contains(r.Body, []byte(s)) {
				t.Errorf("the export holds %s, another person's", s)
			}
		}

		z := export(t, e, tok(w.v.AuthResponse), "zip")
		must(t, "zip", z, http.StatusOK, "")
		zr, err := zip.NewReader(bytes.NewReader(z.Body), int64(len(z.Body)))
		if err != nil {
			t.Fatalf("not a zip: %v", err)
		}
		got := map[string][]byte{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
		if !json.Valid(got["jarimu-data.json"]) || !bytes.Contains(got["jarimu-data.json"], []byte(w.v.email)) {
			t.Error("the zip's jarimu-data.json is not the export")
		}
		if !bytes.Equal(got["evidence/"+sha(w.verifiedFile)+".png"], w.verifiedFile) || !bytes.Equal(got["evidence/"+sha(w.pendFile)+".png"], w.pendFile) {
			t.Errorf("the zip's evidence files: %d entries", len(got))
		}
		if len(got) != 3 {
			t.Errorf("the zip has %d entries, want 3", len(got))
		}
		must(t, "bad format", export(t, e, tok(w.v.AuthResponse), "xml"), http.StatusBadRequest, "bad-query")
		must(t, "anonymous", export(t, e, "", ""), http.StatusUnauthorized, "unauthenticated")
	})
}

// scanDatabase lists every place in every table (table.column) whose text
// holds one of needles, case-insensitively: every text, JSON and binary
// column of every table.
func scanDatabase(t testing.TB, e *apptest.Env, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	type col struct{ table, name, kind string }
	var cols []col
	d := e.App.DB
	if d.Postgres() {
		var rows []struct {
			Table string `bun:"table_name"`
			Name  string `bun:"column_name"`
			Type  string `bun:"data_type"`
		}
		err := d.NewRaw(`SELECT table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')`).Scan(ctx, &rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			cols = append(cols, col{r.Table, r.Name, r.Type})
		}
	} else {
		var tables []string
		if err := d.NewRaw("SELECT name FROM sqlite_master WHERE type = 'table'").Scan(ctx, &tables); err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			var info []struct {
				Name string `bun:"name"`
				Type string `bun:"type"`
			}
			if err := d.NewRaw("SELECT name, type FROM pragma_table_info(?)", tb).Scan(ctx, &info); err != nil {
				t.Fatal(err)
			}
			for _, c := range info {
				cols = append(cols, col{tb, c.Name, c.Type})
			}
		}
	}
	if len(cols) < 50 {
		t.Fatalf("found only %d columns to scan", len(cols))
	}
	var found []string
	for _, c := range cols {
		for _, n := range needles {
			expr := "lower(CAST(? AS TEXT)) LIKE ?"
			arg := any("%" + strings.ToLower(n) + "%")
			if c.kind == "bytea" {
				expr, arg = "position(convert_to(?, 'UTF8') in ?) > 0", n
				cnt, err := d.NewSelect().TableExpr("?", bun.Ident(c.table)).Where(expr, arg, bun.Ident(c.name)).Count(ctx)
				if err != nil {
					t.Fatalf("scan %s.%s: %v", c.table, c.name, err)
				}
				if cnt > 0 {
					found = append(found, c.table+"."+c.name)
				}
				continue
			}
			cnt, err := d.NewSelect().TableExpr("?", bun.Ident(c.table)).Where(expr, bun.Ident(c.name), arg).Count(ctx)
			if err != nil {
				t.Fatalf("scan %s.%s: %v", c.table, c.name, err)
			}
			if cnt > 0 {
				found = append(found, fmt.Sprintf("%s.%s (%q)", c.table, c.name, n))
			}
		}
	}
	return found
}

// feedClosed reads c until the server closes it and returns the close code.
func feedClosed(t testing.TB, c *feedClient) int {
	t.Helper()
	for {
		_, err := c.read(5 * time.Second)
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("want the server to close the feed: %v", err)
		}
	}
}

// The owner erases their account: nothing of their name or email is left
// anywhere in the database or in open data; what others see still reads
// correctly (the verified report, its evidence, the alert citing it, its
// reach); unverified reports and their files are gone; memberships and
// claims ended; the feed closed; the email may sign up again.
func TestErasure(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		admin := e.User(t, api.RoleAdmin, "AdminDua", "")
		o2 := createOrg(t, e, tok(admin), "31", "")
		must(t, "pending join", join(t, e, tok(w.v.AuthResponse), o2, ""), http.StatusCreated, "")
		reachBefore := call(t, e, tok(w.officer.AuthResponse), "GET", "/v1/alerts/"+w.alert.ID+"/reach", nil)
		must(t, "reach", reachBefore, http.StatusOK, "")
		feed := openFeed(t, e, tok(w.v.AuthResponse), nil)
		if got := scanDatabase(t, e, w.v.name, w.v.email); len(got) == 0 {
			t.Fatal("the scan finds nothing before the erasure: it proves nothing")
		}
		// The unverified report goes on to the officers, and the
		// coordinator's answer (the report) is stored for retries.
		r := e.Do(t, "POST", reportPath(w.pending.ID, "/review"), map[string]any{"decision": "endorse", "note": "teruskan"},
			append(apptest.Bearer(tok(w.coord.AuthResponse)), "Idempotency-Key", "dukung-"+w.pending.ID)...)
		must(t, "endorse", r, http.StatusOK, "")
		if got := scanDatabase(t, e, w.pending.Summary); len(got) < 3 {
			t.Fatalf("before the erasure the pending report's summary is in %v: want the report, its events and the stored answer", got)
		}

		must(t, "no password", call(t, e, tok(w.v.AuthResponse), "DELETE", "/v1/me", map[string]any{}), http.StatusUnprocessableEntity, "validation")
		must(t, "wrong password", call(t, e, tok(w.v.AuthResponse), "DELETE", "/v1/me", map[string]any{"password": "bukan-sandinya-2029"}), http.StatusForbidden, "wrong-password")
		must(t, "erase", call(t, e, tok(w.v.AuthResponse), "DELETE", "/v1/me", map[string]any{"password": apptest.Password}), http.StatusNoContent, "")
		if code := feedClosed(t, feed); code != 4401 {
			t.Errorf("feed closed with %d, want 4401", code)
		}
		if got := scanDatabase(t, e, w.v.name, w.v.email); len(got) > 0 {
			t.Errorf("the erased name or email is still in: %v", got)
		}
		// The unverified report is gone, and so is what it said from the
		// reviewers' feed events; the verified one's events keep it.
		if got := scanDatabase(t, e, w.pending.Summary, w.pending.NormalizedURL); len(got) > 0 {
			t.Errorf("the deleted report's text is still in: %v", got)
		}
		// The coordinators' stream and the officers' (after endorsement).
		for _, rd := range []struct {
			who    person
			stream string
			status string // of the deleted report's event there
		}{{w.coord, "review:" + w.org.ID, api.ReportSubmitted}, {w.officer, "review:31", api.ReportEndorsed}} {
			rf := openFeed(t, e, tok(rd.who.AuthResponse), map[string]int64{rd.stream: 0})
			submitted := map[string]map[string]any{}
			for _, f := range rf.barrier() {
				if f.Type == "event" && f.Stream == rd.stream && f.Event == "report.submitted" {
					var d map[string]any
					if err := json.Unmarshal(f.Data, &d); err != nil {
						t.Fatalf("%v: %v", f, err)
					}
					submitted[f.field("id")] = d
				}
			}
			if d := submitted[w.pending.ID]; d["deleted"] != true || d["reporter_erased"] != true || d["summary"] != nil || d["url"] != nil ||
				d["org_id"] != w.org.ID || d["status"] != rd.status || len(d) != 10 {
				t.Errorf("%s: the deleted report's event now reads %v", rd.stream, d)
			}
			if d := submitted[w.verified.ID]; d["deleted"] != nil || d["reporter_erased"] != true || d["summary"] != w.verified.Summary {
				t.Errorf("%s: the kept report's event now reads %v", rd.stream, d)
			}
			if rd.stream == "review:"+w.org.ID {
				if d := submitted[w.otherReport.ID]; d["reporter_erased"] != nil || d["summary"] != w.otherReport.Summary {
					t.Errorf("another reporter's event now reads %v", d)
				}
			}
		}
		for _, path := range []string{"/v1/open/alerts.json", "/v1/open/alerts.csv", "/v1/open/orgs.json", "/v1/open/orgs.csv", "/v1/open/stats.json?group_by=region"} {
			r := call(t, e, "", "GET", path, nil)
			if r.Status != 200 || bytes.Contains(r.Body, []byte(w.v.name)) || bytes.Contains(r.Body, []byte(w.v.email)) {
				t.Errorf("%s: %d, or holds the erased person", path, r.Status)
			}
		}

		// What stays reads as before.
		rep := getReport(t, e, tok(w.officer.AuthResponse), w.verified.ID)
		if rep.Status != api.ReportVerified || !rep.ReporterErased || len(rep.Evidence) != 1 || len(rep.Takedown) != 1 {
			t.Errorf("the verified report: %+v", rep)
		}
		f := call(t, e, tok(w.officer.AuthResponse), "GET", reportPath(w.verified.ID, "/evidence/"+sha(w.verifiedFile)), nil)
		if f.Status != 200 || !bytes.Equal(f.Body, w.verifiedFile) {
			t.Errorf("its evidence file: %d", f.Status)
		}
		var al api.Alert
		r = call(t, e, "", "GET", "/v1/alerts/"+w.alert.ID, nil)
		must(t, "alert", r, http.StatusOK, "")
		r.Decode(t, &al)
		if len(al.ReportIDs) != 1 || al.ReportIDs[0] != w.verified.ID {
			t.Errorf("the alert: %+v", al)
		}
		reachAfter := call(t, e, tok(w.officer.AuthResponse), "GET", "/v1/alerts/"+w.alert.ID+"/reach", nil)
		if !bytes.Equal(reachAfter.Body, reachBefore.Body) {
			t.Errorf("reach changed: %s, was %s", reachAfter.Body, reachBefore.Body)
		}
		must(t, "other's report", call(t, e, tok(w.officer.AuthResponse), "GET", reportPath(w.otherReport.ID, ""), nil), http.StatusOK, "")
		must(t, "other's login", login(t, e, w.other.email, apptest.Password, ""), http.StatusOK, "")

		// What goes is gone.
		must(t, "unverified report", call(t, e, tok(w.officer.AuthResponse), "GET", reportPath(w.pending.ID, ""), nil), http.StatusNotFound, "")
		if rc, err := e.App.Reports.OpenFile(context.Background(), sha(w.pendFile)); err == nil {
			rc.Close()
			t.Error("the unverified report's evidence file is still stored")
		}
		if n := count(t, e, "memberships", "user_id = ? AND status IN ('active', 'pending')", w.v.User.ID); n != 0 {
			t.Errorf("%d memberships still open", n)
		}
		if n := count(t, e, "claims", "user_id = ? AND status = 'active'", w.v.User.ID); n != 0 {
			t.Errorf("%d claims still active", n)
		}
		if n := count(t, e, "claims", "user_id = ? AND end_reason = ?", w.v.User.ID, api.ClaimEndErased); n != 2 {
			t.Errorf("%d claims ended for the erasure, want 2", n)
		}
		for _, table := range []string{"refresh_tokens", "device_tokens", "consents", "password_resets", "mail_outbox", "idempotency_keys"} {
			if n := count(t, e, table, "user_id = ?", w.v.User.ID); n != 0 {
				t.Errorf("%s: %d rows left", table, n)
			}
		}
		must(t, "old token", call(t, e, tok(w.v.AuthResponse), "GET", "/v1/me", nil), http.StatusUnauthorized, "invalid-token")
		must(t, "refresh", refresh(t, e, w.v.Tokens.RefreshToken), http.StatusUnauthorized, "invalid-refresh-token")
		must(t, "login", login(t, e, w.v.email, apptest.Password, w.v.DeviceToken), http.StatusUnauthorized, "invalid-credentials")
		if n := count(t, e, "audit_log", "action = 'user.erase' AND target_id = ?", w.v.User.ID); n != 1 {
			t.Errorf("got %d user.erase entries, want 1", n)
		}

		// Irreversible; the email is free again.
		var u api.User
		r = call(t, e, tok(admin), "GET", "/v1/admin/users/"+w.v.User.ID, nil)
		r.Decode(t, &u)
		if u.Status != api.UserErased || u.Name != "" {
			t.Errorf("the erased account: %+v", u)
		}
		must(t, "reactivate", call(t, e, tok(admin), "PATCH", "/v1/admin/users/"+w.v.User.ID, map[string]any{"status": "active"}), http.StatusConflict, "account-erased")
		must(t, "erase again", call(t, e, tok(admin), "POST", "/v1/admin/users/"+w.v.User.ID+"/erasure", map[string]any{"reason": "permintaan ulang"}), http.StatusConflict, "account-erased")
		r = call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"email": w.v.email, "password": apptest.Password, "name": "Orang Baru", "privacy_version": e.App.Notice.Version})
		must(t, "sign up again", r, http.StatusCreated, "")
	})
}

// An admin erases another account (a staff account here, whose creation the
// trail recorded with its name and email) with a reason; nobody else may.
func TestAdminErasure(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, api.RoleAdmin, "Admin", "")
		staff := newPerson(t, e, api.RoleOfficer, "32")
		v := newPerson(t, e, api.RoleVolunteer, "32")
		path := "/v1/admin/users/" + staff.User.ID + "/erasure"
		must(t, "volunteer", call(t, e, tok(v.AuthResponse), "POST", path, map[string]any{"reason": "x"}), http.StatusForbidden, "forbidden")
		must(t, "officer", call(t, e, tok(staff.AuthResponse), "POST", "/v1/admin/users/"+v.User.ID+"/erasure", map[string]any{"reason": "x"}), http.StatusForbidden, "forbidden")
		must(t, "no reason", call(t, e, tok(admin), "POST", path, map[string]any{"reason": ""}), http.StatusUnprocessableEntity, "validation")
		must(t, "self", call(t, e, tok(admin), "POST", "/v1/admin/users/"+admin.User.ID+"/erasure", map[string]any{"reason": "x"}), http.StatusConflict, "self-suspension")
		must(t, "unknown", call(t, e, tok(admin), "POST", "/v1/admin/users/"+auth.NewID()+"/erasure", map[string]any{"reason": "x"}), http.StatusNotFound, "")
		r := call(t, e, tok(admin), "POST", path, map[string]any{"reason": "permintaan subjek data no. 7/2029"})
		must(t, "erase", r, http.StatusOK, "")
		var out privacy.Erasure
		r.Decode(t, &out)
		if out.By != "admin" || out.UserID != staff.User.ID || out.AuditEntriesFixed < 1 {
			t.Errorf("answer %s", r.Body)
		}
		if got := scanDatabase(t, e, staff.name, staff.email); len(got) > 0 {
			t.Errorf("the erased name or email is still in: %v", got)
		}
		if got := scanDatabase(t, e, v.name, v.email); len(got) == 0 {
			t.Error("the bystander's data went too")
		}
		must(t, "staff token", call(t, e, tok(staff.AuthResponse), "GET", "/v1/me", nil), http.StatusUnauthorized, "invalid-token")
	})
}

// The retention, after the election: unverified reports and their files,
// ended claims and inactive volunteer accounts past their periods go;
// verified reports, active claims, recent things and staff accounts stay.
func TestRetention(t *testing.T) {
	election := time.Now().UTC().Add(-100 * 24 * time.Hour)
	ret := func(o *app.Options) {
		o.Retention = privacy.Retention{ElectionDate: election, Reports: 30 * 24 * time.Hour, Claims: 30 * 24 * time.Hour, Accounts: 60 * 24 * time.Hour}
	}
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newWorld(t, e)
		old := election.Add(-24 * time.Hour)
		// Everything of the world happened before the election...
		exec(t, e, "UPDATE reports SET created_at = ?", old)
		exec(t, e, "UPDATE claims SET ended_at = ?, status = 'released' WHERE id = ?", old, w.otherClaim.ID)
		exec(t, e, "UPDATE users SET last_seen_at = ? WHERE id IN (?, ?)", old, w.other.User.ID, w.officer.User.ID)
		// ...but one report after the cut-off, and v was seen lately.
		recent := submitReport(t, e, tok(w.coord.AuthResponse), reportBody(w.org.ID, "3171", ""))
		st, err := e.App.Privacy.Retain(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Reports != 2 || st.Claims != 1 || st.Accounts != 1 {
			t.Errorf("retention did %+v, want 2 reports, 1 claim, 1 account", st)
		}
		must(t, "verified stays", call(t, e, tok(w.officer.AuthResponse), "GET", reportPath(w.verified.ID, ""), nil), http.StatusOK, "")
		must(t, "recent stays", call(t, e, tok(w.coord.AuthResponse), "GET", reportPath(recent.ID, ""), nil), http.StatusOK, "")
		must(t, "pending goes", call(t, e, tok(w.officer.AuthResponse), "GET", reportPath(w.pending.ID, ""), nil), http.StatusNotFound, "")
		if rc, err := e.App.Reports.OpenFile(context.Background(), sha(w.pendFile)); err == nil {
			rc.Close()
			t.Error("the deleted report's file is still stored")
		}
		if n := count(t, e, "claims", "id = ?", w.otherClaim.ID); n != 0 {
			t.Error("the ended claim stays")
		}
		if n := count(t, e, "claims", "id = ?", w.claim.ID); n != 1 {
			t.Error("the claim a verified report was filed under went")
		}
		var u api.User
		r := call(t, e, tok(e.User(t, api.RoleAdmin, "Admin", "")), "GET", "/v1/admin/users/"+w.other.User.ID, nil)
		r.Decode(t, &u)
		if u.Status != api.UserErased {
			t.Errorf("the inactive volunteer is %s, want erased", u.Status)
		}
		must(t, "officer stays", login(t, e, w.officer.email, apptest.Password, ""), http.StatusOK, "")
		must(t, "v stays", login(t, e, w.v.email, apptest.Password, ""), http.StatusOK, "")
		again, err := e.App.Privacy.Retain(context.Background())
		if err != nil || again != (privacy.RetainStats{}) {
			t.Errorf("a second run did %+v, %v; want nothing", again, err)
		}

		// Listed as inactive, then signed in before its turn: read again
		// under the erasure's lock, it is kept.
		late := newPerson(t, e, api.RoleVolunteer, "32")
		exec(t, e, "UPDATE users SET last_seen_at = ?, created_at = ? WHERE id = ?", old, old, late.User.ID)
		ids, err := e.App.Auth.Inactive(context.Background(), election, 100)
		if err != nil || !slices.Contains(ids, late.User.ID) {
			t.Fatalf("inactive accounts %v (%v), want %s listed", ids, err, late.User.ID)
		}
		must(t, "the late sign-in", login(t, e, late.email, apptest.Password, ""), http.StatusOK, "")
		if erased, err := e.App.Privacy.EraseInactive(context.Background(), late.User.ID, election); err != nil || erased {
			t.Fatalf("erasing an account used since it was listed: %v, %v; want kept", erased, err)
		}
		must(t, "the late one stays", login(t, e, late.email, apptest.Password, ""), http.StatusOK, "")
	}, ret)
}

// A claim's task title in the export is the org's current title, so it is
// shown only while the person may still see the task: after they left the
// org, a title the coordinator changed since is not read by them.
func TestExportTitlesOfTasksLeft(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, api.RoleAdmin, "Admin", "")
		coord := newPerson(t, e, api.RoleVolunteer, "3171")
		v := newPerson(t, e, api.RoleVolunteer, "3171")
		o := createOrg(t, e, tok(admin), "31", coord.email)
		must(t, "join", join(t, e, tok(v.AuthResponse), o, invite(t, e, tok(coord.AuthResponse), o, 1).Code), http.StatusCreated, "")
		tk := createTask(t, e, tok(coord.AuthResponse), taskBody(o.ID, 5, "region_code", "3171"))
		c := claimTask(t, e, tok(v.AuthResponse), tk.ID)
		claims := func() []map[string]any {
			t.Helper()
			r := export(t, e, tok(v.AuthResponse), "")
			must(t, "export", r, http.StatusOK, "")
			var doc struct {
				Claims []map[string]any `json:"claims"`
			}
			r.Decode(t, &doc)
			return doc.Claims
		}
		if cs := claims(); len(cs) != 1 || cs[0]["id"] != c.ID || cs[0]["task_title"] != tk.Title {
			t.Fatalf("a member's export: claims %v, want its claim with the title %q", cs, tk.Title)
		}
		must(t, "leave", call(t, e, tok(v.AuthResponse), "DELETE", "/v1/orgs/"+o.ID+"/memberships/"+v.User.ID, nil), http.StatusNoContent, "")
		must(t, "rename", call(t, e, tok(coord.AuthResponse), "PATCH", taskPath(tk.ID, ""), map[string]any{"title": "Rencana rahasia setelah dia keluar"}), http.StatusOK, "")
		cs := claims()
		if len(cs) != 1 || cs[0]["id"] != c.ID || cs[0]["task_id"] != tk.ID {
			t.Fatalf("after leaving: claims %v, want the claim still", cs)
		}
		if title, ok := cs[0]["task_title"]; ok {
			t.Fatalf("after leaving: the export shows the task's title %q", title)
		}
	})
}

// The export reads a page of rows at a time: a history longer than several
// pages comes out whole, in order, once each.
func TestExportPages(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := volunteer(t, e, "Panjang")
		ctx := context.Background()
		err := e.App.Events.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for i := range 450 {
				if _, err := event.Append(ctx, tx, auth.UserStream(v.User.ID), "test.note", map[string]int{"n": i}); err != nil {
					return err
				}
				if i < 410 {
					if err := audit.Record(ctx, tx, audit.System, "test.note", "user", v.User.ID, nil, map[string]int{"n": i}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r := export(t, e, tok(v), "")
		must(t, "export", r, http.StatusOK, "")
		var doc struct {
			Notifications []struct {
				Seq  int64          `json:"seq"`
				Data map[string]int `json:"data"`
			} `json:"notifications"`
			Audit []api.AuditEntry `json:"audit"`
		}
		r.Decode(t, &doc)
		if len(doc.Notifications) != 450 || len(doc.Audit) != 410 {
			t.Fatalf("got %d notifications and %d audit entries, want 450 and 410", len(doc.Notifications), len(doc.Audit))
		}
		for i, n := range doc.Notifications {
			if n.Data["n"] != i {
				t.Fatalf("notification %d is number %d", i, n.Data["n"])
			}
		}
		for i := 1; i < len(doc.Audit); i++ {
			if doc.Audit[i].ID <= doc.Audit[i-1].ID {
				t.Fatalf("audit entries out of order at %d", i)
			}
		}
	})
}

// A file whose deletion fails at the erasure (the store refuses) is not
// left behind: it stays queued, and the delete_evidence chore deletes it
// once the store works again. A file another report brought again since is
// kept, and leaves the queue all the same.
func TestErasedEvidenceDeletionRetried(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			dir := t.TempDir()
			e := apptest.Start(t, b, func(o *app.Options) { o.EvidenceDir = dir })
			// The chore is the app's: it ran at start.
			deadline := time.Now().Add(5 * time.Second)
			for e.App.Chores.Stats()["delete_evidence"].Runs == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the delete_evidence chore did not run at start")
				}
				time.Sleep(10 * time.Millisecond)
			}
			v, w, stuck, again := reportWithTwoFiles(t, e)
			// Both files' deletions fail: a directory that is not empty
			// where each file is (os.Remove refuses it, even to root).
			path := func(b []byte) string { s := sha(b); return filepath.Join(dir, s[:2], s) }
			for _, f := range [][]byte{stuck, again} {
				must0(t, os.Remove(path(f)))
				must0(t, os.MkdirAll(filepath.Join(path(f), "x"), 0o755))
			}
			must(t, "erase", call(t, e, tok(v.AuthResponse), "DELETE", "/v1/me", map[string]any{"password": apptest.Password}), http.StatusNoContent, "")
			ctx := context.Background()
			if n, err := e.App.Reports.SweepFiles(ctx); n != 0 || err == nil {
				t.Fatalf("sweep while the store refuses: %d deleted, %v; want none and the error", n, err)
			}
			// The store works again; another report brings one of the
			// files meanwhile.
			for _, f := range [][]byte{stuck, again} {
				must0(t, os.RemoveAll(path(f)))
				must0(t, os.WriteFile(path(f), f, 0o644))
			}
			r2 := submitReport(t, e, tok(w.AuthResponse), reportBody("", "3171", ""))
			must(t, "the same file again", upload(t, e, tok(w.AuthResponse), r2.ID, "file", "c.png", "image/png", bytes.NewReader(again)), http.StatusCreated, "")
			if n, err := e.App.Reports.SweepFiles(ctx); n != 1 || err != nil {
				t.Fatalf("sweep: %d deleted, %v; want the one no report refers to", n, err)
			}
			if _, err := os.Stat(path(stuck)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the erased person's file is still stored (%v)", err)
			}
			f := call(t, e, tok(w.AuthResponse), "GET", reportPath(r2.ID, "/evidence/"+sha(again)), nil)
			if f.Status != http.StatusOK || !bytes.Equal(f.Body, again) {
				t.Errorf("the file another report brought again: %d", f.Status)
			}
			if n, err := e.App.Reports.SweepFiles(ctx); n != 0 || err != nil {
				t.Fatalf("a sweep after: %d, %v; want an empty queue", n, err)
			}
		})
	}
}

// reportWithTwoFiles makes a volunteer with a report of two new evidence
// files, and another volunteer of the same region.
func reportWithTwoFiles(t *testing.T, e *apptest.Env) (v, w person, a, b []byte) {
	t.Helper()
	v = newPerson(t, e, api.RoleVolunteer, "3171")
	w = newPerson(t, e, api.RoleVolunteer, "3171")
	a, b = distinctPNG(), distinctPNG()
	r := submitReport(t, e, tok(v.AuthResponse), reportBody("", "3171", ""))
	must(t, "a file", upload(t, e, tok(v.AuthResponse), r.ID, "file", "a.png", "image/png", bytes.NewReader(a)), http.StatusCreated, "")
	must(t, "another file", upload(t, e, tok(v.AuthResponse), r.ID, "file", "b.png", "image/png", bytes.NewReader(b)), http.StatusCreated, "")
	return v, w, a, b
}

func must0(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// An erasure deletes the files of the reports it deletes from either
// evidence store, and keeps a file another report still refers to.
func TestErasureDeletesEvidenceFiles(t *testing.T) {
	for _, st := range apptest.Stores {
		t.Run(st, func(t *testing.T) {
			opt, _ := apptest.StoreOption(t, st)
			e := apptest.Start(t, "sqlite", opt)
			v, w, own, shared := reportWithTwoFiles(t, e)
			r2 := submitReport(t, e, tok(w.AuthResponse), reportBody("", "3171", ""))
			must(t, "the same file by another", upload(t, e, tok(w.AuthResponse), r2.ID, "file", "c.png", "image/png", bytes.NewReader(shared)), http.StatusCreated, "")
			must(t, "erase", call(t, e, tok(v.AuthResponse), "DELETE", "/v1/me", map[string]any{"password": apptest.Password}), http.StatusNoContent, "")
			if rc, err := e.App.Reports.OpenFile(context.Background(), sha(own)); err == nil {
				rc.Close()
				t.Error("the erased person's file is still stored")
			}
			f := call(t, e, tok(w.AuthResponse), "GET", reportPath(r2.ID, "/evidence/"+sha(shared)), nil)
			if f.Status != http.StatusOK || !bytes.Equal(f.Body, shared) {
				t.Errorf("the file another report refers to: %d", f.Status)
			}
			// Nothing is left queued: the deleted file went, the shared
			// one left the queue as in use.
			if n, err := e.App.DB.NewSelect().Table("evidence_deletions").Count(context.Background()); n != 0 || err != nil {
				t.Errorf("%d files queued after the erasure (%v), want none", n, err)
			}
		})
	}
}

// An erasure takes the person's name out of other users' stored answers
// without letting their retries run again: a volunteer named like a word
// of another's stored report ("submitted") erases their account, and the
// other's retry of the report is refused (idempotency-applied), not filed
// twice; the answer no longer holds the word. Refusals are forgotten.
func TestErasureWithholdsOthersAnswers(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		b := volunteer(t, e, "pelapor")
		hdr := append(apptest.Bearer(tok(b)), "Idempotency-Key", "laporan-b")
		body := reportBody("", "3171", "")
		must(t, "report", e.Do(t, "POST", "/v1/reports", body, hdr...), http.StatusCreated, "")
		n := e.Count(t, "reports")
		a := e.User(t, api.RoleVolunteer, api.ReportSubmitted, "")
		must(t, "erase", call(t, e, tok(a), "DELETE", "/v1/me", map[string]any{"password": apptest.Password}), http.StatusNoContent, "")
		r := e.Do(t, "POST", "/v1/reports", body, hdr...)
		check(t, "retry after another's erasure", r, http.StatusConflict, "idempotency-applied")
		if got := e.Count(t, "reports"); got != n {
			t.Errorf("the retry filed %d more reports", got-n)
		}
		for _, c := range scanDatabase(t, e, `"status":"submitted"`) {
			if strings.HasPrefix(c, "idempotency_keys.") {
				t.Errorf("the stored answer still holds the erased name: %s", c)
			}
		}
	})
}

// subscribeDevice registers a made-up browser of a default push service
// for token's account (nothing is ever pushed to it in these tests).
func subscribeDevice(t testing.TB, e *apptest.Env, token string, events ...string) api.PushSubscription {
	t.Helper()
	dev := pushtest.DeviceAt(t, "https://fcm.googleapis.com/fcm/send/perangkat-"+auth.NewID())
	body := map[string]any{"endpoint": dev.Endpoint, "keys": map[string]string{"p256dh": dev.P256dh(), "auth": dev.Auth()}}
	if events != nil {
		body["events"] = events
	}
	r := call(t, e, token, "POST", "/v1/push/subscriptions", body)
	must(t, "subscribe", r, http.StatusCreated, "")
	var s api.PushSubscription
	r.Decode(t, &s)
	return s
}

// An erasure deletes the account's push devices (endpoint and keys) and
// empties the notes it wrote completing claims; the counts are audited.
func TestErasureDeletesDevicesAndNotes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, api.RoleAdmin, "Admin", "")
		coord, o := taskOrg(t, e, admin, "31")
		v := newPerson(t, e, api.RoleVolunteer, "3171")
		must(t, "join", join(t, e, tok(v.AuthResponse), o, invite(t, e, tok(coord), o, 5).Code), http.StatusCreated, "")
		c := claimTask(t, e, tok(v.AuthResponse), createTask(t, e, tok(coord), taskBody(o.ID, 2)).ID)
		note := "akun ini milik tetangga saya " + auth.NewID()
		must(t, "complete", call(t, e, tok(v.AuthResponse), "POST", claimPath(c.ID, "/complete"), map[string]any{"outcome": "done", "note": note}), http.StatusOK, "")
		dev := subscribeDevice(t, e, tok(v.AuthResponse))
		if got := scanDatabase(t, e, note, dev.Endpoint); len(got) < 2 {
			t.Fatalf("before the erasure the note and endpoint are in %v: the scan proves nothing", got)
		}
		must(t, "erase", call(t, e, tok(v.AuthResponse), "DELETE", "/v1/me", map[string]any{"password": apptest.Password}), http.StatusNoContent, "")
		if n := count(t, e, "push_subscriptions", "user_id = ?", v.User.ID); n != 0 {
			t.Errorf("%d push subscriptions left", n)
		}
		if got := scanDatabase(t, e, note, dev.Endpoint); len(got) > 0 {
			t.Errorf("the note or the endpoint is still in %v", got)
		}
		if n := count(t, e, "claims", "id = ? AND status = 'completed' AND outcome = 'done'", c.ID); n != 1 {
			t.Errorf("the completed claim's outcome is gone")
		}
		var after string
		if err := e.App.DB.NewSelect().Table("audit_log").ColumnExpr("CAST(after AS TEXT)").Where("action = 'user.erase' AND target_id = ?", v.User.ID).Scan(context.Background(), &after); err != nil {
			t.Fatal(err)
		}
		var er privacy.Erasure
		if err := json.Unmarshal([]byte(after), &er); err != nil {
			t.Fatal(err)
		}
		if er.PushDevices != 1 || er.ClaimNotes != 1 {
			t.Errorf("audited counts: %+v", er)
		}
	})
}

// A write let in before its account was erased or suspended, whose
// transaction runs after, is refused as the account's tokens are (401
// invalid-token) and stores nothing: a report, evidence, a push device.
func TestWritesRefusedAfterAccountEnds(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		admin := e.User(t, api.RoleAdmin, "Admin", "")
		erased, suspended := volunteer(t, e, "dihapus"), volunteer(t, e, "ditangguhkan")
		own := submitReport(t, e, tok(suspended), reportBody("", "3171", ""))
		must(t, "erase", call(t, e, tok(erased), "DELETE", "/v1/me", map[string]any{"password": apptest.Password}), http.StatusNoContent, "")
		must(t, "suspend", call(t, e, tok(admin), "PATCH", "/v1/admin/users/"+suspended.User.ID, map[string]any{"status": "suspended"}), http.StatusOK, "")
		var req api.CreateReportRequest
		j, _ := json.Marshal(reportBody("", "3171", ""))
		if err := json.Unmarshal(j, &req); err != nil {
			t.Fatal(err)
		}
		officer := e.User(t, api.RoleOfficer, "Pusat", "")
		pool := createTask(t, e, tok(officer), taskBody("", 5)) // the national pool: no membership to end
		dev := pushtest.DeviceAt(t, "https://fcm.googleapis.com/fcm/send/perangkat-"+auth.NewID())
		sub := api.SubscribeRequest{Endpoint: dev.Endpoint}
		sub.Keys.P256dh, sub.Keys.Auth = dev.P256dh(), dev.Auth()
		for _, u := range []api.AuthResponse{erased, suspended} {
			reports, devices := e.Count(t, "reports"), e.Count(t, "push_subscriptions")
			if _, err := e.App.Reports.Create(ctx, apptest.Principal(u), req); !problem.Is(err, "invalid-token") {
				t.Errorf("%s: report: %v, want invalid-token", u.User.Name, err)
			}
			if _, _, err := e.App.Push.Subscribe(ctx, u.User.ID, sub); !problem.Is(err, "invalid-token") {
				t.Errorf("%s: push device: %v, want invalid-token", u.User.Name, err)
			}
			claims := e.Count(t, "claims")
			if _, err := e.App.Tasks.Claim(ctx, apptest.Principal(u), pool.ID); !problem.Is(err, "invalid-token") {
				t.Errorf("%s: claim on the national pool: %v, want invalid-token", u.User.Name, err)
			}
			if _, err := e.App.Tasks.Assign(ctx, apptest.Principal(officer), pool.ID, u.User.ID); !problem.Is(err, "validation") {
				t.Errorf("%s: assigned a task of the national pool: %v, want validation", u.User.Name, err)
			}
			if e.Count(t, "reports") != reports || e.Count(t, "push_subscriptions") != devices || e.Count(t, "claims") != claims {
				t.Errorf("%s: a report, device or claim was stored", u.User.Name)
			}
		}
		// Evidence for the suspended reporter's own report: neither
		// attached nor left in the store.
		file := distinctPNG()
		if _, err := e.App.Reports.AddEvidence(ctx, apptest.Principal(suspended), own.ID, func() (io.Reader, error) {
			return bytes.NewReader(file), nil
		}); !problem.Is(err, "invalid-token") {
			t.Errorf("evidence after the suspension: %v, want invalid-token", err)
		}
		if n := count(t, e, "evidence", "report_id = ?", own.ID); n != 0 {
			t.Errorf("evidence after the suspension: %d files attached", n)
		}
		if rc, err := e.App.Reports.OpenFile(ctx, sha(file)); err == nil {
			rc.Close()
			t.Error("evidence after the suspension: the file is stored")
		}
		// A suspended member of an org is a member still: the claim's own
		// read of the membership reads the account too.
		coord, o := taskOrg(t, e, admin, "")
		member := taskMembers(t, e, coord, o, 1, "")[0]
		orgTask := createTask(t, e, tok(coord), taskBody(o.ID, 5))
		must(t, "suspend the member", call(t, e, tok(admin), "PATCH", "/v1/admin/users/"+member.User.ID, map[string]any{"status": "suspended"}), http.StatusOK, "")
		claims := e.Count(t, "claims")
		if _, err := e.App.Tasks.Claim(ctx, apptest.Principal(member), orgTask.ID); !problem.Is(err, "invalid-token") {
			t.Errorf("suspended member: claim on the org's task: %v, want invalid-token", err)
		}
		if e.Count(t, "claims") != claims {
			t.Error("suspended member: a claim was stored")
		}
	})
}

// A join racing the person's erasure never outlives it: it commits first
// and the erasure ends it, or it is refused after (401); no membership is
// left pending or active, and the name is nowhere in the database, not
// even in the reviewers' membership.requested events.
func TestJoinRacingErasure(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, api.RoleAdmin, "Admin", "")
		_, a := taskOrg(t, e, admin, "")
		coordB, b := taskOrg(t, e, admin, "")
		inv := invite(t, e, tok(coordB), b, 100)
		tally := map[string]int{}
		for range 8 {
			v := newPerson(t, e, api.RoleVolunteer, "32")
			rs := race(t, 3, func(i int) (string, string, string, string, any) {
				switch i {
				case 0:
					return e.URL, tok(v.AuthResponse), "POST", orgPath(a, "/memberships"), map[string]any{}
				case 1:
					return e.URL, tok(v.AuthResponse), "POST", orgPath(b, "/memberships"), map[string]any{"invite_code": inv.Code}
				}
				return e.URL, tok(admin), "POST", "/v1/admin/users/" + v.User.ID + "/erasure", map[string]any{"reason": "permintaan subjek data"}
			})
			if rs[2].Status != http.StatusOK {
				t.Fatalf("erasure: got %v", rs[2])
			}
			for _, r := range rs[:2] {
				if s := r.String(); s != "201" && s != "401 invalid-token" {
					t.Errorf("a join during the erasure: got %s", s)
				}
				tally[r.String()]++
			}
			if n := count(t, e, "memberships", "user_id = ? AND status IN ('pending', 'active')", v.User.ID); n != 0 {
				t.Errorf("%d memberships outlived the erasure", n)
			}
			if got := scanDatabase(t, e, v.name, v.email); len(got) > 0 {
				t.Errorf("the erased name or email is still in: %v", got)
			}
		}
		t.Logf("joins: %v", tally)
	})
}

// A coordinator removing or rejecting a member while the member's account
// is erased never deadlocks with the erasure: each takes the member's work
// lock before the org's row.
func TestMembershipChangeRacingErasure(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, api.RoleAdmin, "Admin", "")
		coord, o := taskOrg(t, e, admin, "")
		tk := createTask(t, e, tok(coord), taskBody(o.ID, 100))
		tally := map[string]int{}
		for i := range 8 {
			v := newPerson(t, e, api.RoleVolunteer, "32")
			path := memberPath(o, v.User.ID, "")
			if i%2 == 0 {
				addMember(t, e, tok(coord), o, v.AuthResponse)
				claimTask(t, e, tok(v.AuthResponse), tk.ID)
			} else {
				must(t, "request", join(t, e, tok(v.AuthResponse), o, ""), http.StatusCreated, "")
				path = memberPath(o, v.User.ID, "/decision")
			}
			rs := race(t, 2, func(j int) (string, string, string, string, any) {
				switch {
				case j == 1:
					return e.URL, tok(admin), "POST", "/v1/admin/users/" + v.User.ID + "/erasure", map[string]any{"reason": "permintaan subjek data"}
				case i%2 == 0:
					return e.URL, tok(coord), "DELETE", path, nil
				}
				return e.URL, tok(coord), "POST", path, map[string]any{"decision": "reject", "reason": "data diri tidak lengkap"}
			})
			if rs[1].Status != http.StatusOK {
				t.Fatalf("erasure: got %v", rs[1])
			}
			if rs[0].Status >= 500 {
				t.Errorf("the change during the erasure: got %v", rs[0])
			}
			tally[rs[0].String()]++
			if n := count(t, e, "claims", "user_id = ? AND status = 'active'", v.User.ID); n != 0 {
				t.Errorf("%d claims outlived the erasure", n)
			}
		}
		t.Logf("changes: %v", tally)
	})
}
