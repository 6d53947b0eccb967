package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/s3test"
)

// ---- report helpers --------------------------------------------------------

var reportSeq atomic.Int64

// reportBody is a valid POST /v1/reports body; orgID, regionCode and url may
// be "" (no org, national, a fresh URL).
func reportBody(orgID, regionCode, url string) map[string]any {
	n := reportSeq.Add(1)
	if url == "" {
		url = fmt.Sprintf("https://x.com/akun_hoaks/status/%d", 1790000000000+n)
	}
	b := map[string]any{
		"url":         url,
		"platform":    "x",
		"category":    "disinformation",
		"summary":     fmt.Sprintf("Unggahan #%d menyebut TPS dipindah tanpa pengumuman resmi KPU.", n),
		"observed_at": time.Now().Add(-time.Hour).UTC().Truncate(time.Second),
	}
	if orgID != "" {
		b["org_id"] = orgID
	}
	if regionCode != "" {
		b["region_code"] = regionCode
	}
	return b
}

func reportPath(id, rest string) string { return "/v1/reports/" + id + rest }

// submitReport files a report as token and fails the test unless it is 201.
func submitReport(t testing.TB, e *apptest.Env, token string, body map[string]any) api.Report {
	t.Helper()
	r := call(t, e, token, "POST", "/v1/reports", body)
	must(t, "submit report", r, http.StatusCreated, "")
	var rep api.Report
	r.Decode(t, &rep)
	if rep.Status != api.ReportSubmitted || rep.ID == "" || rep.ClusterID == "" || rep.ClusterSize < 1 {
		t.Fatalf("submit report: got %+v, want a submitted report in a cluster", rep)
	}
	return rep
}

func getReport(t testing.TB, e *apptest.Env, token, id string) api.Report {
	t.Helper()
	r := call(t, e, token, "GET", reportPath(id, ""), nil)
	must(t, "GET report", r, http.StatusOK, "")
	var rep api.Report
	r.Decode(t, &rep)
	return rep
}

// reportAction is one workflow call of the contract.
type reportAction struct {
	name string // "review endorse", "verification duplicate", "takedown refused", ...
	kind string // review, verification or takedown
	to   string // the decision or takedown status
}

var reportActions = []reportAction{
	{"review endorse", "review", "endorse"},
	{"review reject", "review", "reject"},
	{"verification verified", "verification", api.ReportVerified},
	{"verification rejected", "verification", api.ReportRejected},
	{"verification duplicate", "verification", api.ReportDuplicate},
	{"takedown requested", "takedown", api.TakedownRequested},
	{"takedown taken_down", "takedown", api.TakedownDone},
	{"takedown refused", "takedown", api.TakedownRefused},
}

func actionNamed(name string) reportAction {
	for _, a := range reportActions {
		if a.name == name {
			return a
		}
	}
	panic("no report action " + name)
}

// request is the action's path and a valid body (dupOf: the report a
// duplicate points to).
func (a reportAction) request(id, dupOf string) (string, map[string]any) {
	switch a.kind {
	case "review":
		b := map[string]any{"decision": a.to}
		if a.to == "reject" {
			b["note"] = "Tautan tidak memuat konten yang dilaporkan."
		}
		return reportPath(id, "/review"), b
	case "verification":
		b := map[string]any{"decision": a.to, "note": "Diperiksa oleh Bawaslu."}
		if a.to == api.ReportDuplicate {
			b["duplicate_of"] = dupOf
		}
		return reportPath(id, "/verification"), b
	default:
		return reportPath(id, "/takedown"), map[string]any{"status": a.to, "platform_ref": "X-CASE-2029-17", "note": "Surat ke platform."}
	}
}

// do sends the action as token.
func (a reportAction) do(t testing.TB, e *apptest.Env, token, id, dupOf string) apptest.Response {
	t.Helper()
	path, body := a.request(id, dupOf)
	return call(t, e, token, "POST", path, body)
}

// reportWorld is the cast of the report tests. Org A (DKI Jakarta, 31) has
// coordA, the reporter and another member (all of Jakarta Pusat, 3171); org
// B (Jawa Barat, 32) has coordB. vol is a volunteer of 3171 in no org.
type reportWorld struct {
	e                                   *apptest.Env
	admin, offNat, off31, off32         api.AuthResponse
	coordA, coordB, reporter, member    api.AuthResponse
	vol                                 api.AuthResponse
	orgA, orgB                          api.Org
	inviteA                             string
	dataDir                             string
	original                            api.Report // a report duplicates point to
	reportsMade, reportStepsMade, calls int
}

// worldOptions captures the data dir of the app apptest starts.
func worldOptions(dir *string) apptest.Option {
	return func(o *app.Options) { *dir = o.DataDir }
}

func newReportWorld(t testing.TB, e *apptest.Env, dataDir string) *reportWorld {
	t.Helper()
	w := &reportWorld{e: e, dataDir: dataDir}
	w.admin = e.User(t, "admin", "root", "")
	w.offNat = e.User(t, "officer", "pusat", "")
	w.off31 = e.User(t, "officer", "dki", "31")
	w.off32 = e.User(t, "officer", "jabar", "32")
	w.coordA = volunteer(t, e, "koordinatora")
	w.coordB = volunteer(t, e, "koordinatorb")
	w.orgA = createOrg(t, e, tok(w.admin), "31", w.coordA.User.Email)
	w.orgB = createOrg(t, e, tok(w.admin), "32", w.coordB.User.Email)
	w.inviteA = invite(t, e, tok(w.coordA), w.orgA, 50).Code
	var err error
	if w.reporter, err = newMember(e, w.orgA.ID, w.inviteA, "3171"); err != nil {
		t.Fatal(err)
	}
	if w.member, err = newMember(e, w.orgA.ID, w.inviteA, "3171"); err != nil {
		t.Fatal(err)
	}
	if w.vol, err = newMember(e, "", "", "3171"); err != nil {
		t.Fatal(err)
	}
	w.original = submitReport(t, e, tok(w.member), reportBody(w.orgA.ID, "3171", ""))
	return w
}

// reportState is a report's status and takedown status.
type reportState struct{ status, takedown string }

func (s reportState) String() string {
	if s.takedown == "" {
		return s.status
	}
	return s.status + "/" + s.takedown
}

// reportStates are the states the matrix starts from, with the actions
// (coordinator reviews, officer of 31 decides) that reach each.
var reportStates = []struct {
	state reportState
	path  []string
}{
	{reportState{api.ReportSubmitted, ""}, nil},
	{reportState{api.ReportEndorsed, ""}, []string{"review endorse"}},
	{reportState{api.ReportRejected, ""}, []string{"review reject"}},
	{reportState{api.ReportVerified, ""}, []string{"review endorse", "verification verified"}},
	{reportState{api.ReportDuplicate, ""}, []string{"verification duplicate"}},
	{reportState{api.ReportVerified, api.TakedownRequested}, []string{"verification verified", "takedown requested"}},
	{reportState{api.ReportVerified, api.TakedownDone}, []string{"verification verified", "takedown requested", "takedown taken_down"}},
	{reportState{api.ReportVerified, api.TakedownRefused}, []string{"verification verified", "takedown requested", "takedown refused"}},
}

// build files a report of org A as the reporter and walks it along path.
func (w *reportWorld) build(t testing.TB, path []string) api.Report {
	t.Helper()
	rep := submitReport(t, w.e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
	w.reportsMade++
	for _, name := range path {
		a := actionNamed(name)
		token := tok(w.off31)
		if a.kind == "review" {
			token = tok(w.coordA)
		}
		r := a.do(t, w.e, token, rep.ID, w.original.ID)
		must(t, "build: "+name, r, http.StatusOK, "")
		r.Decode(t, &rep)
		w.reportStepsMade++
	}
	return rep
}

// stateOf reads a report's state from the database.
func stateOf(t testing.TB, e *apptest.Env, id string) reportState {
	t.Helper()
	var row struct {
		Status   string  `bun:"status"`
		Takedown *string `bun:"takedown_status"`
	}
	if err := e.App.DB.NewSelect().Table("reports").Column("status", "takedown_status").Where("id = ?", id).Scan(context.Background(), &row); err != nil {
		t.Fatalf("report %s: %v", id, err)
	}
	s := reportState{status: row.Status}
	if row.Takedown != nil {
		s.takedown = *row.Takedown
	}
	return s
}

// fingerprint is everything a refused workflow call must leave alone: the
// report's row, its takedown history and evidence, the audit trail and the
// event log.
func fingerprint(t testing.TB, e *apptest.Env, id string) string {
	t.Helper()
	row := map[string]any{}
	err := e.App.DB.NewRaw(`SELECT r.*,
		(SELECT count(*) FROM takedowns WHERE report_id = r.id) AS n_takedowns,
		(SELECT count(*) FROM evidence WHERE report_id = r.id) AS n_evidence,
		(SELECT count(*) FROM audit_log) AS n_audit,
		(SELECT count(*) FROM events) AS n_events
		FROM reports r WHERE r.id = ?`, id).Scan(context.Background(), &row)
	if err != nil {
		t.Fatalf("report %s: %v", id, err)
	}
	for k, v := range row {
		if b, ok := v.([]byte); ok {
			row[k] = string(b)
		}
	}
	return fmt.Sprint(row)
}

// actor is one kind of caller of the matrix.
type actor int

const (
	byReporter actor = iota
	byCoordinator
	byOtherCoordinator
	byOfficer31
	byOfficer32
	byNationalOfficer
	byAdmin
	byVolunteer
)

var actorNames = []string{"reporter", "coordinator of the org", "coordinator of another org", "officer of 31",
	"officer of 32", "national officer", "admin", "plain volunteer"}

func (w *reportWorld) token(a actor) string {
	return tok([]api.AuthResponse{w.reporter, w.coordA, w.coordB, w.off31, w.off32, w.offNat, w.admin, w.vol}[a])
}

// expectWorkflow is the contract as a small model. The report is org A's,
// filed in 3171 by a member. It is visible to its reporter, the org's
// coordinators and the officers whose region covers 3171 (31, national;
// admins do everything officers do, everywhere); to anyone else it does not
// exist (404). Nobody decides on their own report (403 own-report).
// Coordinators review submitted reports; officers of the region decide
// submitted or endorsed ones; takedowns follow verified reports only, as
// requested and then taken_down or refused. Any other caller is 403, any
// other state 409: report-decided for a decided (verified, rejected,
// duplicate) report, except a verified one's takedown steps; otherwise
// report-transition.
func expectWorkflow(s reportState, a reportAction, who actor) (int, string) {
	visible := who == byReporter || who == byCoordinator || who == byOfficer31 || who == byNationalOfficer || who == byAdmin
	officer := who == byOfficer31 || who == byNationalOfficer || who == byAdmin
	decided := s.status == api.ReportVerified || s.status == api.ReportRejected || s.status == api.ReportDuplicate
	switch {
	case !visible:
		return http.StatusNotFound, "not-found"
	case who == byReporter:
		return http.StatusForbidden, "own-report"
	}
	switch a.kind {
	case "review":
		if who != byCoordinator {
			return http.StatusForbidden, "forbidden"
		}
		if decided {
			return http.StatusConflict, "report-decided"
		}
		if s.status != api.ReportSubmitted {
			return http.StatusConflict, "report-transition"
		}
	case "verification":
		if !officer {
			return http.StatusForbidden, "forbidden"
		}
		if decided {
			return http.StatusConflict, "report-decided"
		}
		if s.status != api.ReportSubmitted && s.status != api.ReportEndorsed {
			return http.StatusConflict, "report-transition"
		}
	case "takedown":
		if !officer {
			return http.StatusForbidden, "forbidden"
		}
		if s.status != api.ReportVerified && decided {
			return http.StatusConflict, "report-decided"
		}
		if s.status != api.ReportVerified {
			return http.StatusConflict, "report-transition"
		}
		before := map[string]string{api.TakedownRequested: "", api.TakedownDone: api.TakedownRequested, api.TakedownRefused: api.TakedownRequested}
		if before[a.to] != s.takedown {
			return http.StatusConflict, "takedown-transition"
		}
	}
	return http.StatusOK, ""
}

// after is the state an allowed action leads to.
func after(s reportState, a reportAction) reportState {
	switch {
	case a.name == "review endorse":
		return reportState{api.ReportEndorsed, ""}
	case a.name == "review reject":
		return reportState{api.ReportRejected, ""}
	case a.kind == "verification":
		return reportState{a.to, ""}
	}
	return reportState{s.status, a.to}
}

// ---- the transitions matrix ---------------------------------------------------

// Every (state, action, caller) of the workflow against the model: 200 only
// where the table allows, with exactly the state change, one audit row and
// the reporter told; otherwise the exact refusal, and nothing changes.
// Refusals run on one shared report per state; each allowed call gets a
// fresh report in that state.
func TestReportTransitionsMatrix(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		allowed, refused := 0, 0
		for _, st := range reportStates {
			shared := w.build(t, st.path)
			if got := stateOf(t, e, shared.ID); got != st.state {
				t.Fatalf("build %v: got state %v", st.state, got)
			}
			// GET follows visibility.
			for who := range actor(len(actorNames)) {
				want := http.StatusNotFound
				if code, _ := expectWorkflow(st.state, reportActions[0], who); code != http.StatusNotFound {
					want = http.StatusOK
				}
				check(t, fmt.Sprintf("%v: GET as %s", st.state, actorNames[who]), call(t, e, w.token(who), "GET", reportPath(shared.ID, ""), nil), want, "")
			}
			// The fingerprint counts audit rows and events everywhere; each
			// allowed call below takes a new one.
			before := fingerprint(t, e, shared.ID)
			for _, a := range reportActions {
				for who := range actor(len(actorNames)) {
					what := fmt.Sprintf("%v + %s by %s", st.state, a.name, actorNames[who])
					code, typ := expectWorkflow(st.state, a, who)
					if code != http.StatusOK {
						refused++
						check(t, what, a.do(t, e, w.token(who), shared.ID, w.original.ID), code, typ)
						if got := fingerprint(t, e, shared.ID); got != before {
							t.Errorf("%s: refused, yet the state changed:\n before %s\n after  %s", what, before, got)
							before = got
						}
						continue
					}
					allowed++
					fresh := w.build(t, st.path)
					audits := e.Count(t, "audit_log")
					told := len(named(taskEvents(t, e, "user:"+w.reporter.User.ID), "report.status_changed"))
					r := a.do(t, e, w.token(who), fresh.ID, w.original.ID)
					if !check(t, what, r, http.StatusOK, "") {
						continue
					}
					var rep api.Report
					r.Decode(t, &rep)
					want := after(st.state, a)
					if got := stateOf(t, e, fresh.ID); got != want || rep.Status != want.status {
						t.Errorf("%s: got state %v (answer %s), want %v", what, got, rep.Status, want)
					}
					if a.kind == "takedown" && (len(rep.Takedown) == 0 || rep.Takedown[len(rep.Takedown)-1].Status != a.to) {
						t.Errorf("%s: takedown history %+v does not end with %s", what, rep.Takedown, a.to)
					}
					if a.to == api.ReportDuplicate && (rep.DuplicateOf == nil || *rep.DuplicateOf != w.original.ID) {
						t.Errorf("%s: duplicate_of %v, want %s", what, rep.DuplicateOf, w.original.ID)
					}
					if n := e.Count(t, "audit_log") - audits; n != 1 {
						t.Errorf("%s: %d audit rows, want 1", what, n)
					}
					if n := len(named(taskEvents(t, e, "user:"+w.reporter.User.ID), "report.status_changed")) - told; n != 1 {
						t.Errorf("%s: the reporter got %d report.status_changed events, want 1", what, n)
					}
					before = fingerprint(t, e, shared.ID)
				}
			}
		}
		t.Logf("%d allowed and %d refused calls; %d reports built", allowed, refused, w.reportsMade)
		if allowed != 29 {
			t.Errorf("the model allowed %d calls, want 29 (the coordinator: 2; three officers: 3 decisions x 2 states + 1 request + 2 closing steps)", allowed)
		}
	})
}

// ---- own reports, rejection notes, the reporter told ----------------------

func TestReportOwnAndRejectionNotes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")

		// A coordinator who reported for their own org cannot review it, and
		// an officer who reported cannot verify it.
		own := submitReport(t, e, tok(w.coordA), reportBody(w.orgA.ID, "3171", ""))
		before := fingerprint(t, e, own.ID)
		check(t, "coordinator reviews own report", actionNamed("review endorse").do(t, e, tok(w.coordA), own.ID, ""), http.StatusForbidden, "own-report")
		check(t, "coordinator rejects own report", actionNamed("review reject").do(t, e, tok(w.coordA), own.ID, ""), http.StatusForbidden, "own-report")
		if fingerprint(t, e, own.ID) != before {
			t.Errorf("a refused own review changed the report")
		}
		byOfficer := submitReport(t, e, tok(w.off31), reportBody("", "3171", ""))
		check(t, "officer verifies own report", actionNamed("verification verified").do(t, e, tok(w.off31), byOfficer.ID, ""), http.StatusForbidden, "own-report")
		// Another officer of the region may.
		check(t, "another officer verifies it", actionNamed("verification verified").do(t, e, tok(w.offNat), byOfficer.ID, ""), http.StatusOK, "")
		check(t, "officer requests takedown of own report", actionNamed("takedown requested").do(t, e, tok(w.off31), byOfficer.ID, ""), http.StatusForbidden, "own-report")

		// A rejection needs a note (422 before anything changes).
		rep := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
		before = fingerprint(t, e, rep.ID)
		for _, body := range []map[string]any{{"decision": "reject"}, {"decision": "reject", "note": "   "}} {
			r := call(t, e, tok(w.coordA), "POST", reportPath(rep.ID, "/review"), body)
			if check(t, fmt.Sprintf("review %v", body), r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "note") {
				t.Errorf("review %v: the problem does not name note: %s", body, r.Body)
			}
		}
		r := call(t, e, tok(w.off31), "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "rejected"})
		if check(t, "verification rejected without note", r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "note") {
			t.Errorf("verification without note: the problem does not name note: %s", r.Body)
		}
		if fingerprint(t, e, rep.ID) != before {
			t.Errorf("a rejection without a note changed the report")
		}

		// The coordinator's note reaches the reporter: GET and the event.
		const note = "Tangkapan layar tidak menunjukkan tanggal unggahan; mohon lengkapi."
		r = call(t, e, tok(w.coordA), "POST", reportPath(rep.ID, "/review"), map[string]any{"decision": "reject", "note": note})
		must(t, "reject with note", r, http.StatusOK, "")
		got := getReport(t, e, tok(w.reporter), rep.ID)
		if got.Status != api.ReportRejected || got.ReviewNote != note {
			t.Errorf("reporter's GET: status %s note %q, want rejected with %q", got.Status, got.ReviewNote, note)
		}
		evs := about(t, named(events(t, e, "user:"+w.reporter.User.ID), "report.status_changed"), "report_id", rep.ID)
		if len(evs) != 1 {
			t.Fatalf("reporter's stream: %d report.status_changed for the report, want 1", len(evs))
		}
		wantPayload(t, evs[0], map[string]any{"status": "rejected", "review_note": note})

		// An officer's rejection note too.
		rep2 := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
		const note2 = "Konten bukan pelanggaran pemilu menurut Perbawaslu."
		must(t, "officer rejects", call(t, e, tok(w.off31), "POST", reportPath(rep2.ID, "/verification"), map[string]any{"decision": "rejected", "note": note2}), http.StatusOK, "")
		if got := getReport(t, e, tok(w.reporter), rep2.ID); got.Status != api.ReportRejected || got.VerifyNote != note2 {
			t.Errorf("reporter's GET: status %s verification note %q, want rejected with %q", got.Status, got.VerifyNote, note2)
		}
		evs = about(t, named(events(t, e, "user:"+w.reporter.User.ID), "report.status_changed"), "report_id", rep2.ID)
		if len(evs) != 1 {
			t.Fatalf("reporter's stream: %d report.status_changed for the second report, want 1", len(evs))
		}
		wantPayload(t, evs[0], map[string]any{"status": "rejected", "verification_note": note2})
	})
}

// ---- clusters -------------------------------------------------------------

func TestReportURLClusters(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		a := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", "https://www.detik.com/x?utm_source=a"))
		b := submitReport(t, e, tok(w.member), reportBody(w.orgA.ID, "3171", "http://detik.com/x#frag"))
		other := submitReport(t, e, tok(w.member), reportBody(w.orgA.ID, "3171", "https://detik.com/y"))
		if a.ClusterID != b.ClusterID || a.NormalizedURL != b.NormalizedURL {
			t.Errorf("clusters: %s (%s) and %s (%s), want one", a.ClusterID, a.NormalizedURL, b.ClusterID, b.NormalizedURL)
		}
		if a.URL != "https://www.detik.com/x?utm_source=a" {
			t.Errorf("url: got %q, want the URL as reported", a.URL)
		}
		if other.ClusterID == a.ClusterID || other.ClusterSize != 1 {
			t.Errorf("another page: cluster %s size %d, want its own cluster of 1", other.ClusterID, other.ClusterSize)
		}
		if a.ClusterSize != 1 || b.ClusterSize != 2 {
			t.Errorf("cluster sizes at creation: %d then %d, want 1 then 2", a.ClusterSize, b.ClusterSize)
		}
		if got := getReport(t, e, tok(w.coordA), a.ID); got.ClusterSize != 2 || got.ClusterID != b.ClusterID {
			t.Errorf("GET the first: cluster %s size %d, want %s size 2", got.ClusterID, got.ClusterSize, b.ClusterID)
		}
		r := call(t, e, tok(w.coordA), "GET", "/v1/reports?org_id="+w.orgA.ID, nil)
		must(t, "list", r, http.StatusOK, "")
		var page api.Page[api.Report]
		r.Decode(t, &page)
		for _, rep := range page.Items {
			if rep.ClusterID == a.ClusterID && rep.ClusterSize != 2 {
				t.Errorf("list: report %s cluster size %d, want 2", rep.ID, rep.ClusterSize)
			}
		}
	})
}

// ---- claims and accreditation ------------------------------------------------

func TestReportUnderClaim(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		task := createTask(t, e, tok(w.coordA), taskBody(w.orgA.ID, 5))
		mine := claimTask(t, e, tok(w.reporter), task.ID)
		theirs := claimTask(t, e, tok(w.member), task.ID)

		// Under one's own active claim, without org_id: the claim's org.
		body := reportBody("", "3171", "")
		body["claim_id"] = mine.ID
		rep := submitReport(t, e, tok(w.reporter), body)
		if rep.OrgID == nil || *rep.OrgID != w.orgA.ID || rep.ClaimID == nil || *rep.ClaimID != mine.ID {
			t.Errorf("report under a claim: org %v claim %v, want org %s claim %s", rep.OrgID, rep.ClaimID, w.orgA.ID, mine.ID)
		}
		if got := getReport(t, e, tok(w.coordA), rep.ID); got.OrgID == nil || *got.OrgID != w.orgA.ID {
			t.Errorf("coordinator's GET: org %v", got.OrgID)
		}

		n := e.Count(t, "reports")
		// Someone else's claim: 422 on claim_id.
		body = reportBody("", "3171", "")
		body["claim_id"] = theirs.ID
		r := call(t, e, tok(w.reporter), "POST", "/v1/reports", body)
		if check(t, "report under another's claim", r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "claim_id") {
			t.Errorf("another's claim: the problem does not name claim_id: %s", r.Body)
		}
		// A claim that does not exist: the same.
		body["claim_id"] = "01900000-0000-7000-8000-000000000000"
		check(t, "report under no claim", call(t, e, tok(w.reporter), "POST", "/v1/reports", body), http.StatusUnprocessableEntity, "validation")
		// A claim of another org with this org's id: 422 on org_id.
		taskB := createTask(t, e, tok(w.coordA), taskBody(w.orgA.ID, 5))
		c2 := claimTask(t, e, tok(w.reporter), taskB.ID)
		body = reportBody(w.orgB.ID, "3171", "")
		body["claim_id"] = c2.ID
		if r := call(t, e, tok(w.reporter), "POST", "/v1/reports", body); check(t, "claim with another org_id", r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "org_id") {
			t.Errorf("org_id mismatch: the problem does not name org_id: %s", r.Body)
		}

		// An expired lease (moved into the past): 409 claim-not-active.
		setLease(t, e, mine.ID, time.Now().Add(-time.Minute))
		body = reportBody("", "3171", "")
		body["claim_id"] = mine.ID
		check(t, "report under an expired claim", call(t, e, tok(w.reporter), "POST", "/v1/reports", body), http.StatusConflict, "claim-not-active")
		// A released claim too.
		must(t, "release", call(t, e, tok(w.reporter), "POST", claimPath(c2.ID, "/release"), nil), http.StatusOK, "")
		body["claim_id"] = c2.ID
		check(t, "report under a released claim", call(t, e, tok(w.reporter), "POST", "/v1/reports", body), http.StatusConflict, "claim-not-active")
		if got := e.Count(t, "reports"); got != n {
			t.Errorf("refused reports: %d rows, want %d", got, n)
		}

		// A completed claim still takes its report.
		taskC := createTask(t, e, tok(w.coordA), taskBody(w.orgA.ID, 5))
		c3 := claimTask(t, e, tok(w.member), taskC.ID)
		must(t, "complete", call(t, e, tok(w.member), "POST", claimPath(c3.ID, "/complete"), map[string]any{"outcome": "done"}), http.StatusOK, "")
		body = reportBody("", "3171", "")
		body["claim_id"] = c3.ID
		if rep := submitReport(t, e, tok(w.member), body); rep.OrgID == nil || *rep.OrgID != w.orgA.ID {
			t.Errorf("report under a completed claim: org %v", rep.OrgID)
		}
	})
}

func TestReportSuspendedOrg(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		task := createTask(t, e, tok(w.coordA), taskBody(w.orgA.ID, 5))
		c := claimTask(t, e, tok(w.reporter), task.ID)
		must(t, "suspend", call(t, e, tok(w.admin), "POST", orgPath(w.orgA, "/accreditation"), accreditation("suspend", "laporan dana kampanye belum diserahkan", nil)), http.StatusOK, "")
		n := e.Count(t, "reports")
		check(t, "report for a suspended org", call(t, e, tok(w.reporter), "POST", "/v1/reports", reportBody(w.orgA.ID, "3171", "")), http.StatusConflict, "org-not-accredited")
		body := reportBody("", "3171", "")
		body["claim_id"] = c.ID
		// The suspension ended the claim (see TestClaimsEndWithOrg).
		check(t, "report under a claim of a suspended org", call(t, e, tok(w.reporter), "POST", "/v1/reports", body), http.StatusConflict, "claim-not-active")
		// Not a member of org B: 403 not-a-member, before or after anything else.
		check(t, "report for an org one is not in", call(t, e, tok(w.reporter), "POST", "/v1/reports", reportBody(w.orgB.ID, "3171", "")), http.StatusForbidden, "not-a-member")
		if got := e.Count(t, "reports"); got != n {
			t.Errorf("refused reports: %d rows, want %d", got, n)
		}
		// A report straight to Bawaslu (no org) is still taken.
		submitReport(t, e, tok(w.reporter), reportBody("", "3171", ""))
		// Renewed, the org takes reports again.
		until := time.Now().Add(90 * 24 * time.Hour)
		must(t, "renew", call(t, e, tok(w.admin), "POST", orgPath(w.orgA, "/accreditation"), accreditation("renew", "laporan diterima lengkap", &until)), http.StatusOK, "")
		submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
	})
}

// A retried report with the same Idempotency-Key is filed once.
func TestReportIdempotent(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		body := reportBody(w.orgA.ID, "3171", "")
		hdr := append(apptest.Bearer(tok(w.reporter)), "Idempotency-Key", "laporan-"+w.reporter.User.ID)
		n := e.Count(t, "reports")
		r1 := e.Do(t, "POST", "/v1/reports", body, hdr...)
		r2 := e.Do(t, "POST", "/v1/reports", body, hdr...)
		must(t, "first", r1, http.StatusCreated, "")
		must(t, "retry", r2, http.StatusCreated, "")
		if !bytes.Equal(r1.Body, r2.Body) || e.Count(t, "reports") != n+1 {
			t.Errorf("a retried report: %d new rows, answers equal %v", e.Count(t, "reports")-n, bytes.Equal(r1.Body, r2.Body))
		}
	})
}

// A keyed report whose client goes away while the server waits on the
// database (here a lock the test holds) is given up and answers nothing;
// its key is released, so the retry files the report (once) instead of
// replaying an empty answer, which was a 500 for 24 hours.
func TestReportIdempotentClientGone(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := volunteer(t, e, "pergi")
		body := reportBody("", "3171", "")
		key := "laporan-putus-" + v.User.ID
		n := e.Count(t, "reports")

		ctx := context.Background()
		lock, err := e.App.DB.BeginTx(ctx, nil) // SQLite: the write lock
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Rollback()
		if e.Backend == dbtest.Postgres {
			if _, err := lock.ExecContext(ctx, "LOCK TABLE reports IN ACCESS EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
		}
		seen := func() int {
			return strings.Count(e.Logs.String(), `"path":"/v1/reports"`)
		}
		before := seen()
		j, _ := json.Marshal(body)
		rctx, cancel := context.WithCancel(ctx)
		req, _ := http.NewRequestWithContext(rctx, "POST", e.URL+"/v1/reports", bytes.NewReader(j))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok(v))
		req.Header.Set("Idempotency-Key", key)
		gone := make(chan error, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			gone <- err
		}()
		// Wait until the first attempt holds its key (PostgreSQL; SQLite's
		// write is held back by the lock), then a little for it to block.
		for i := 0; i < 100 && e.Backend == dbtest.Postgres; i++ {
			var held int
			if err := e.App.DB.NewSelect().Table("idempotency_keys").ColumnExpr("count(*)").Where("key = ?", key).Scan(ctx, &held); err != nil {
				t.Fatal(err)
			}
			if held == 1 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		cancel()
		if err := <-gone; err == nil {
			t.Fatal("the first attempt was answered while the database was held")
		}
		lock.Rollback()
		for i := 0; seen() == before; i++ {
			if i == 500 {
				t.Fatal("the server never finished the given-up attempt")
			}
			time.Sleep(20 * time.Millisecond)
		}

		hdr := append(apptest.Bearer(tok(v)), "Idempotency-Key", key)
		must(t, "retry", e.Do(t, "POST", "/v1/reports", body, hdr...), http.StatusCreated, "")
		must(t, "second retry", e.Do(t, "POST", "/v1/reports", body, hdr...), http.StatusCreated, "")
		if got := e.Count(t, "reports") - n; got != 1 {
			t.Errorf("%d reports filed, want 1", got)
		}
	})
}

// ---- evidence -------------------------------------------------------------

var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// pngOf is a PNG-looking file of n bytes, streamed (never held in memory).
func pngOf(n int64) io.Reader {
	return io.MultiReader(bytes.NewReader(pngHead), io.LimitReader(zeros{}, n-int64(len(pngHead))))
}

// upload posts content as the multipart part "file" named filename (part
// "" = a form without a file part), streamed through a pipe.
func upload(t testing.TB, e *apptest.Env, token, reportID, part, filename, partType string, content io.Reader) apptest.Response {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("note", "tangkapan layar")
		if err == nil && part != "" {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, part, filename))
			h.Set("Content-Type", partType)
			var w io.Writer
			if w, err = mw.CreatePart(h); err == nil {
				_, err = io.Copy(w, content)
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest("POST", e.URL+reportPath(reportID, "/evidence"), pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	pr.CloseWithError(io.ErrClosedPipe) // ends the writer if the server stopped reading
	return apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// files lists the regular files under dir (relative paths), skipping skip.
func files(t testing.TB, dir string, skip func(rel string) bool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// storedEvidence lists the stored files as <2 hex>/<sha>, sorted: those of
// the data dir's evidence/ (outside tmp/), or the bucket's objects.
func storedEvidence(t testing.TB, dataDir string, bucket *s3test.Bucket) []string {
	t.Helper()
	if bucket == nil {
		return files(t, filepath.Join(dataDir, "evidence"), func(rel string) bool { return rel == "tmp" })
	}
	var out []string
	for _, k := range bucket.Keys(t) {
		out = append(out, strings.TrimPrefix(k, s3test.Prefix))
	}
	return out
}

// TestReportEvidence runs on each database with each evidence store (the
// data dir, a bucket).
func TestReportEvidence(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		for _, st := range apptest.Stores {
			t.Run(string(b)+"/"+st, func(t *testing.T) { reportEvidence(t, b, st) })
		}
	}
}

func reportEvidence(t *testing.T, b dbtest.Backend, st string) {
	storeOpt, bucket := apptest.StoreOption(t, st)
	var dataDir string
	e := apptest.Start(t, b, worldOptions(&dataDir), storeOpt)
	w := newReportWorld(t, e, dataDir)
	store := filepath.Join(dataDir, "evidence")
	stored := func() []string { return storedEvidence(t, dataDir, bucket) }
	// Everything outside evidence/ but the database's own files:
	// with a bucket, nothing of the files reaches the disk.
	outside := func() []string {
		return files(t, filepath.Dir(dataDir), func(rel string) bool {
			base := filepath.Base(rel)
			return rel == filepath.Join(filepath.Base(dataDir), "evidence") || strings.HasPrefix(base, "jarimu.db")
		})
	}
	rep := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
	outsideBefore := outside()

	// Refusals leave nothing behind.
	r := upload(t, e, tok(w.reporter), rep.ID, "file", "x.png", "image/png", strings.NewReader("sebenarnya ini berkas teks, bukan gambar"))
	check(t, "text named x.png", r, http.StatusUnprocessableEntity, "evidence-type")
	r = upload(t, e, tok(w.reporter), rep.ID, "file", "kosong.png", "image/png", strings.NewReader(""))
	check(t, "empty file", r, http.StatusUnprocessableEntity, "evidence-empty")
	r = upload(t, e, tok(w.reporter), rep.ID, "file", "besar.png", "image/png", pngOf(10<<20+1))
	check(t, "10 MiB + 1 byte", r, http.StatusRequestEntityTooLarge, "too-large")
	r = upload(t, e, tok(w.reporter), rep.ID, "", "", "", nil)
	if check(t, "no file part", r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "file") {
		t.Errorf("no file part: the problem does not name file: %s", r.Body)
	}
	r = e.Do(t, "POST", reportPath(rep.ID, "/evidence"), map[string]any{"file": "iVBORw0KGgo="}, apptest.Bearer(tok(w.reporter))...)
	check(t, "JSON instead of multipart", r, http.StatusUnsupportedMediaType, "")
	png := append(append([]byte{}, pngHead...), []byte("bukti unggahan hoaks")...)
	r = upload(t, e, tok(w.vol), rep.ID, "file", "x.png", "image/png", bytes.NewReader(png))
	check(t, "someone else's report", r, http.StatusNotFound, "not-found")
	r = upload(t, e, tok(w.coordA), rep.ID, "file", "x.png", "image/png", bytes.NewReader(png))
	check(t, "the coordinator adds evidence", r, http.StatusForbidden, "")
	if got := stored(); len(got) != 0 {
		t.Errorf("after refusals, the store holds %v", got)
	}
	if n := count(t, e, "evidence", "report_id = ?", rep.ID); n != 0 {
		t.Errorf("after refusals: %d evidence rows", n)
	}

	// Exactly 10 MiB is accepted.
	r = upload(t, e, tok(w.reporter), rep.ID, "file", "penuh.png", "image/png", pngOf(10<<20))
	must(t, "exactly 10 MiB", r, http.StatusCreated, "")
	var big api.Evidence
	r.Decode(t, &big)
	if big.Size != 10<<20 || big.ContentType != "image/png" {
		t.Errorf("10 MiB upload: %+v", big)
	}

	// The same bytes twice: both 201, one file, listed once. The
	// second comes with a path-like name and a lying part type.
	r1 := upload(t, e, tok(w.reporter), rep.ID, "file", "bukti.png", "image/png", bytes.NewReader(png))
	r2 := upload(t, e, tok(w.reporter), rep.ID, "file", "../../etc/passwd", "text/plain", bytes.NewReader(png))
	must(t, "first upload", r1, http.StatusCreated, "")
	must(t, "same bytes again", r2, http.StatusCreated, "")
	var ev1, ev2 api.Evidence
	r1.Decode(t, &ev1)
	r2.Decode(t, &ev2)
	if ev1.SHA256 != sha(png) || ev2 != ev1 || ev1.Size != int64(len(png)) || ev1.ContentType != "image/png" {
		t.Errorf("uploads: %+v and %+v, want sha %s size %d image/png", ev1, ev2, sha(png), len(png))
	}
	wantFiles := []string{filepath.Join(big.SHA256[:2], big.SHA256), filepath.Join(ev1.SHA256[:2], ev1.SHA256)}
	slices.Sort(wantFiles)
	if got := stored(); !slices.Equal(got, wantFiles) {
		t.Errorf("store: got %v, want %v", got, wantFiles)
	}
	if got := outside(); !slices.Equal(got, outsideBefore) {
		t.Errorf("files outside evidence/: before %v, after %v", outsideBefore, got)
	}
	for _, p := range []string{filepath.Join(dataDir, "..", "etc", "passwd"), filepath.Join(store, "..", "..", "etc", "passwd"), filepath.Join(store, "etc", "passwd")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists", p)
		}
	}
	got := getReport(t, e, tok(w.reporter), rep.ID)
	if len(got.Evidence) != 2 || got.Evidence[0].SHA256 != big.SHA256 || got.Evidence[1].SHA256 != ev1.SHA256 {
		t.Errorf("report evidence: %+v, want the 10 MiB file then %s, once each", got.Evidence, ev1.SHA256)
	}

	// Downloads: reporter, coordinator, officer of the region; never
	// anyone else, never a sha the report does not have.
	path := reportPath(rep.ID, "/evidence/"+ev1.SHA256)
	for _, who := range []api.AuthResponse{w.reporter, w.coordA, w.off31, w.offNat} {
		r := call(t, e, tok(who), "GET", path, nil)
		if !check(t, "download as "+who.User.Name, r, http.StatusOK, "") {
			continue
		}
		if !bytes.Equal(r.Body, png) {
			t.Errorf("download as %s: %d bytes differ from the upload", who.User.Name, len(r.Body))
		}
		if ct := r.Header.Get("Content-Type"); ct != "image/png" {
			t.Errorf("download: Content-Type %q", ct)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || strings.Contains(cd, "passwd") {
			t.Errorf("download: Content-Disposition %q", cd)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("download: no nosniff")
		}
	}
	for _, who := range []api.AuthResponse{w.vol, w.member, w.coordB, w.off32} {
		check(t, "download as an outsider ("+who.User.Name+")", call(t, e, tok(who), "GET", path, nil), http.StatusNotFound, "")
	}
	other := submitReport(t, e, tok(w.member), reportBody(w.orgA.ID, "3171", ""))
	check(t, "the sha through another report", call(t, e, tok(w.coordA), "GET", reportPath(other.ID, "/evidence/"+ev1.SHA256), nil), http.StatusNotFound, "")
	check(t, "a path for a sha", call(t, e, tok(w.reporter), "GET", reportPath(rep.ID, "/evidence/..%2F..%2Fjarimu.db"), nil), http.StatusNotFound, "")
	check(t, "download without login", call(t, e, "", "GET", path, nil), http.StatusUnauthorized, "")

	// The same file on another report: one file still, listed there too.
	r = upload(t, e, tok(w.member), other.ID, "file", "sama.png", "image/png", bytes.NewReader(png))
	must(t, "same file, other report", r, http.StatusCreated, "")
	if got := stored(); !slices.Equal(got, wantFiles) {
		t.Errorf("store after a second report: got %v, want %v", got, wantFiles)
	}
	if got := getReport(t, e, tok(w.member), other.ID); len(got.Evidence) != 1 {
		t.Errorf("other report evidence: %+v", got.Evidence)
	}

	checkRanges(t, e, tok(w.reporter), reportPath(rep.ID, "/evidence/"+big.SHA256), pngOf(10<<20), big.SHA256)
}

// checkRanges downloads parts of the file at path (content, its sha):
// one span answers 206 with those bytes, several spans the whole file,
// past the end 416; ETag and If-None-Match work.
func checkRanges(t *testing.T, e *apptest.Env, token, path string, content io.Reader, sha string) {
	t.Helper()
	want, err := io.ReadAll(content)
	if err != nil {
		t.Fatal(err)
	}
	n := len(want)
	tests := []struct {
		rangeHdr, contentRange string
		status                 int
		from, to               int // of want
	}{
		{"bytes=0-1023", "bytes 0-1023/" + strconv.Itoa(n), http.StatusPartialContent, 0, 1024},
		{"bytes=6291456-", "bytes 6291456-" + strconv.Itoa(n-1) + "/" + strconv.Itoa(n), http.StatusPartialContent, 6291456, n},
		{"bytes=-16", "bytes " + strconv.Itoa(n-16) + "-" + strconv.Itoa(n-1) + "/" + strconv.Itoa(n), http.StatusPartialContent, n - 16, n},
		{"bytes=0-9,100-109", "", http.StatusOK, 0, n},
		{"bytes=" + strconv.Itoa(n) + "-", "bytes */" + strconv.Itoa(n), http.StatusRequestedRangeNotSatisfiable, 0, 0},
	}
	for _, tt := range tests {
		r := e.Do(t, "GET", path, nil, append(apptest.Bearer(token), "Range", tt.rangeHdr)...)
		if r.Status != tt.status {
			t.Errorf("Range %s: got %d, want %d", tt.rangeHdr, r.Status, tt.status)
			continue
		}
		if got := r.Header.Get("Content-Range"); got != tt.contentRange {
			t.Errorf("Range %s: Content-Range %q, want %q", tt.rangeHdr, got, tt.contentRange)
		}
		if tt.status == http.StatusRequestedRangeNotSatisfiable {
			continue
		}
		if !bytes.Equal(r.Body, want[tt.from:tt.to]) {
			t.Errorf("Range %s: got %d bytes, not bytes %d-%d of the file", tt.rangeHdr, len(r.Body), tt.from, tt.to-1)
		}
		if r.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") ||
			r.Header.Get("Cache-Control") != "private, no-store" || r.Header.Get("ETag") != `"`+sha+`"` {
			t.Errorf("Range %s: headers %v", tt.rangeHdr, r.Header)
		}
	}
	r := e.Do(t, "GET", path, nil, append(apptest.Bearer(token), "If-None-Match", `"`+sha+`"`)...)
	if r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("If-None-Match with the ETag: got %d with %d bytes, want 304", r.Status, len(r.Body))
	}
	r = e.Do(t, "GET", path, nil, append(apptest.Bearer(token), "Range", "bytes=0-9", "If-Range", `"`+strings.Repeat("0", 64)+`"`)...)
	if r.Status != http.StatusOK || len(r.Body) != n {
		t.Errorf("If-Range with another ETag: got %d with %d bytes, want 200 and the whole file", r.Status, len(r.Body))
	}
}

// ---- benchmark --------------------------------------------------------------

// BenchmarkReportSubmit measures POST /v1/reports over HTTP (loopback) for
// org members, 4 concurrent clients per core, on each database.
func BenchmarkReportSubmit(b *testing.B) {
	for _, backend := range dbtest.Backends(b) {
		b.Run(string(backend), func(b *testing.B) {
			e := apptest.Start(b, backend)
			w := newReportWorld(b, e, "")
			members := taskMembers(b, e, w.coordA, w.orgA, 16, "3171")
			var next atomic.Int64
			var l latencies
			b.ReportAllocs()
			b.SetParallelism(4)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				token := tok(members[int(next.Add(1))%len(members)])
				for pb.Next() {
					t0 := time.Now()
					r, err := send(e.URL, token, "POST", "/v1/reports", reportBody(w.orgA.ID, "3171", ""))
					if err != nil || r.Status != http.StatusCreated {
						b.Errorf("submit: %v %v %s", err, r, r.Body)
						return
					}
					l.add(time.Since(t0))
				}
			})
			b.StopTimer()
			l.report(b, start)
		})
	}
}
