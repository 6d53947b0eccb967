package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

// ---- permission before lookup and before validation ----------------------------

// noSuchID is a well-formed id that names nothing.
const noSuchID = "01900000-0000-7000-8000-000000000000"

// Assigning a task one does not manage is refused (404 when one cannot see
// the task, 403 when one only sees it) whatever the body names: an unknown
// account, an active one, nothing. Only a manager learns that an account
// does not exist, and a manager's assignment still works.
func TestAssignRefusedBeforeTheAssigneeIsLookedUp(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		tk := createTask(t, e, tok(w.coordA), taskBody(w.orgA.ID, 2, "region_code", nil))
		path := taskPath(tk.ID, "/assignments")
		claims := e.Count(t, "claims")
		for _, c := range []struct {
			who    string
			caller api.AuthResponse
			status int
			typ    string
		}{
			{"a member of the org (sees the task)", w.member, http.StatusForbidden, "forbidden"},
			{"the coordinator of another org", w.coordB, http.StatusNotFound, "not-found"},
			{"an officer of another province", w.off32, http.StatusNotFound, "not-found"},
			{"a volunteer of no org", w.vol, http.StatusNotFound, "not-found"},
		} {
			for body, assignee := range map[string]any{
				"an unknown account":   noSuchID,
				"an active member":     w.member.User.ID,
				"an active non-member": w.vol.User.ID,
				"an empty id":          "",
			} {
				r := call(t, e, tok(c.caller), "POST", path, map[string]any{"user_id": assignee})
				check(t, c.who+" assigns "+body, r, c.status, c.typ)
			}
		}
		if n := e.Count(t, "claims"); n != claims {
			t.Fatalf("refused assignments made %d claims", n-claims)
		}
		r := call(t, e, tok(w.coordA), "POST", path, map[string]any{"user_id": noSuchID})
		if check(t, "the coordinator assigns an unknown account", r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "user_id") {
			t.Errorf("the 422 does not name user_id: %s", r.Body)
		}
		r = call(t, e, tok(w.coordA), "POST", path, map[string]any{"user_id": w.member.User.ID})
		if check(t, "the coordinator assigns a member", r, http.StatusCreated, "") {
			var c api.Claim
			r.Decode(t, &c)
			if c.UserID != w.member.User.ID || c.AssignedBy == nil || *c.AssignedBy != w.coordA.User.ID {
				t.Errorf("assignment: got %+v, want the member's claim assigned by the coordinator", c)
			}
		}
	})
}

// sameAnswer compares two 422 answers about one field, with the ids they
// name blanked: a report outside the caller's region must read exactly as
// one that does not exist.
func sameAnswer(t testing.TB, what string, a, b apptest.Response, ids ...string) {
	t.Helper()
	blank := func(r apptest.Response) string {
		p := r.Problem(t)
		p.RequestID, p.Instance = "", ""
		s := string(p.Type) + "|" + p.Detail
		for _, f := range p.Errors {
			s += "|" + f.Field + ": " + f.Message
		}
		for _, id := range ids {
			s = strings.ReplaceAll(s, id, "<id>")
		}
		return s
	}
	if a.Status != b.Status || blank(a) != blank(b) {
		t.Errorf("%s: answers differ:\n%d %s\n%d %s", what, a.Status, blank(a), b.Status, blank(b))
	}
}

// An alert may cite only verified reports of the officer's region. A
// report of another region is refused with the very answer an unknown id
// gets, so citing ids tells nothing about other regions; a verified report
// of one's own region is cited.
func TestAlertReportIDsOutsideTheRegionReadAsUnknown(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		bandung := submitReport(t, e, tok(w.coordB), reportBody(w.orgB.ID, "3273", ""))
		must(t, "officer of 32 verifies", actionNamed("verification verified").do(t, e, tok(w.off32), bandung.ID, ""), http.StatusOK, "")
		ours := w.verified(t)
		n := e.Count(t, "alerts")

		outside := call(t, e, tok(w.off31), "POST", "/v1/alerts", alertBody("31", bandung.ID))
		unknown := call(t, e, tok(w.off31), "POST", "/v1/alerts", alertBody("31", noSuchID))
		if check(t, "citing a verified report of 32", outside, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, outside, "report_ids") {
			t.Errorf("the 422 does not name report_ids: %s", outside.Body)
		}
		sameAnswer(t, "a report of another region and no report", outside, unknown, bandung.ID, noSuchID)
		if bytes.Contains(outside.Body, []byte("verified")) || bytes.Contains(outside.Body, []byte("outside")) {
			t.Errorf("the answer says something about the report: %s", outside.Body)
		}
		if got := e.Count(t, "alerts"); got != n {
			t.Fatalf("refused alerts were published: %d", got-n)
		}

		// The officer of 32 may cite it; the officer of 31 cites their own.
		createAlert(t, e, tok(w.off32), alertBody("32", bandung.ID))
		a := createAlert(t, e, tok(w.off31), alertBody("31", ours.ID))
		if len(a.ReportIDs) != 1 || a.ReportIDs[0] != ours.ID {
			t.Errorf("alert cites %v, want [%s]", a.ReportIDs, ours.ID)
		}
	})
}

// A duplicate must point at a report the officer covers. One outside their
// region is refused like one that does not exist, the report is left as it
// was and its reporter never sees the other region's id; a duplicate of a
// report of the region is recorded and shown to the reporter.
func TestDuplicateOfOutsideTheRegionReadsAsUnknown(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		bandung := submitReport(t, e, tok(w.coordB), reportBody(w.orgB.ID, "3273", ""))
		rep := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
		before := fingerprint(t, e, rep.ID)
		dup := actionNamed("verification duplicate")

		outside := dup.do(t, e, tok(w.off31), rep.ID, bandung.ID)
		unknown := dup.do(t, e, tok(w.off31), rep.ID, noSuchID)
		if check(t, "duplicate of a report of 32", outside, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, outside, "duplicate_of") {
			t.Errorf("the 422 does not name duplicate_of: %s", outside.Body)
		}
		sameAnswer(t, "a report of another region and no report", outside, unknown, bandung.ID, noSuchID)
		if after := fingerprint(t, e, rep.ID); after != before {
			t.Errorf("a refused duplicate changed the report:\n%s\n%s", before, after)
		}
		if got := getReport(t, e, tok(w.reporter), rep.ID); got.DuplicateOf != nil || got.Status != api.ReportSubmitted {
			t.Errorf("the reporter sees %s duplicate of %v, want submitted and no duplicate_of", got.Status, got.DuplicateOf)
		}

		r := dup.do(t, e, tok(w.off31), rep.ID, w.original.ID)
		must(t, "duplicate of a report of 31", r, http.StatusOK, "")
		if got := getReport(t, e, tok(w.reporter), rep.ID); got.Status != api.ReportDuplicate || got.DuplicateOf == nil || *got.DuplicateOf != w.original.ID {
			t.Errorf("the reporter sees %s duplicate of %v, want duplicate of %s", got.Status, got.DuplicateOf, w.original.ID)
		}
	})
}

// denial is what one caller without permission must get.
type denial struct {
	who    string
	caller api.AuthResponse
	status int
	typ    string
}

// orderCase is one write sent with a body that fails its field rules: each
// denial gets its 403 or 404 (never the 422, and the same answer with a
// valid body), the permitted caller gets the 422 naming field, then
// succeeds with the valid body.
type orderCase struct {
	name         string
	method, path string
	invalid      map[string]any
	field        string
	refused      []denial
	allowed      api.AuthResponse
	valid        map[string]any
	ok           int
}

func (c orderCase) run(t *testing.T, e *apptest.Env) {
	t.Helper()
	for _, f := range c.refused {
		r := call(t, e, tok(f.caller), c.method, c.path, c.invalid)
		check(t, c.name+": "+f.who+" with an invalid body", r, f.status, f.typ)
		r = call(t, e, tok(f.caller), c.method, c.path, c.valid)
		check(t, c.name+": "+f.who+" with a valid body", r, f.status, f.typ)
	}
	r := call(t, e, tok(c.allowed), c.method, c.path, c.invalid)
	if check(t, c.name+": the permitted caller with an invalid body", r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, c.field) {
		t.Errorf("%s: the 422 does not name %q: %s", c.name, c.field, r.Body)
	}
	check(t, c.name+": the permitted caller with a valid body", call(t, e, tok(c.allowed), c.method, c.path, c.valid), c.ok, "")
}

// Every capability checks who may act before it checks the fields: a
// caller without permission never sees a 422, and the same body from a
// caller with permission gets the 422 and, once valid, goes through.
func TestPermissionBeforeValidation(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		future := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
		pending := volunteer(t, e, "calon")
		must(t, "join", join(t, e, tok(pending), w.orgA, ""), http.StatusCreated, "")
		tk := createTask(t, e, tok(w.coordA), taskBody(w.orgA.ID, 3, "region_code", nil))
		claim := claimTask(t, e, tok(w.member), tk.ID)
		toReview := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
		toVerify := submitReport(t, e, tok(w.reporter), reportBody(w.orgA.ID, "3171", ""))
		toTakeDown := w.verified(t)
		al := createAlert(t, e, tok(w.off31), alertBody("3171"))
		spare := volunteer(t, e, "cadangan")

		for _, c := range []orderCase{
			{name: "org registration", method: "POST", path: "/v1/orgs",
				invalid: map[string]any{"name": "x"}, field: "accreditation_number",
				refused: []denial{{"a regional officer", w.off31, 403, "forbidden"}, {"a volunteer", w.vol, 403, "forbidden"}},
				allowed: w.offNat, valid: orgBody("", ""), ok: 201},
			{name: "accreditation", method: "POST", path: orgPath(w.orgA, "/accreditation"),
				invalid: map[string]any{"action": "dissolve", "reason": ""}, field: "action",
				refused: []denial{{"an officer of another province", w.off32, 403, "forbidden"}, {"the org's coordinator", w.coordA, 403, "forbidden"}},
				allowed: w.off31, valid: accreditation("renew", "laporan diterima", &future), ok: 200},
			{name: "invite", method: "POST", path: orgPath(w.orgA, "/invites"),
				invalid: map[string]any{"max_uses": 0, "expires_at": future}, field: "max_uses",
				refused: []denial{{"a member", w.member, 403, "forbidden"}, {"an officer", w.off31, 403, "forbidden"}},
				allowed: w.coordA, valid: map[string]any{"max_uses": 5, "expires_at": future}, ok: 201},
			{name: "membership decision", method: "POST", path: memberPath(w.orgA, pending.User.ID, "/decision"),
				invalid: map[string]any{"decision": "reject"}, field: "reason",
				refused: []denial{{"the coordinator of another org", w.coordB, 404, "not-found"}, {"the applicant", pending, 403, "forbidden"},
					{"an officer of another province", w.off32, 404, "not-found"}},
				allowed: w.coordA, valid: map[string]any{"decision": "approve"}, ok: 200},
			{name: "membership role", method: "PATCH", path: memberPath(w.orgA, w.member.User.ID, ""),
				invalid: map[string]any{"role": "chair"}, field: "role",
				refused: []denial{{"the coordinator of another org", w.coordB, 404, "not-found"}, {"the member", w.member, 403, "forbidden"}},
				allowed: w.coordA, valid: map[string]any{"role": "coordinator"}, ok: 200},
			{name: "org task creation", method: "POST", path: "/v1/tasks",
				invalid: map[string]any{"org_id": w.orgA.ID, "title": "x", "kind": "party"}, field: "title",
				refused: []denial{{"a member", w.reporter, 403, "forbidden"}, {"the coordinator of another org", w.coordB, 403, "forbidden"}},
				allowed: w.coordA, valid: taskBody(w.orgA.ID, 1, "region_code", nil), ok: 201},
			{name: "national task creation", method: "POST", path: "/v1/tasks",
				invalid: map[string]any{"title": "x", "kind": "tps", "region_code": "3171"}, field: "title",
				refused: []denial{{"a volunteer", w.vol, 403, "forbidden"}, {"an officer of another province", w.off32, 403, "outside-region"}},
				allowed: w.off31, valid: taskBody("", 1, "region_code", "3171"), ok: 201},
			{name: "task update", method: "PATCH", path: taskPath(tk.ID, ""),
				invalid: map[string]any{"title": "x", "slots": 0}, field: "slots",
				refused: []denial{{"a member", w.reporter, 403, "forbidden"}, {"the coordinator of another org", w.coordB, 404, "not-found"}},
				allowed: w.coordA, valid: map[string]any{"title": "Pantau ulang akun penyebar"}, ok: 200},
			{name: "claim completion", method: "POST", path: claimPath(claim.ID, "/complete"),
				invalid: map[string]any{"outcome": "bored"}, field: "outcome",
				refused: []denial{{"the coordinator (a manager, not the holder)", w.coordA, 403, "forbidden"}, {"another volunteer", w.vol, 404, "not-found"}},
				allowed: w.member, valid: map[string]any{"outcome": "done"}, ok: 200},
			{name: "report review", method: "POST", path: reportPath(toReview.ID, "/review"),
				invalid: map[string]any{"decision": "reject"}, field: "note",
				refused: []denial{{"the reporter", w.reporter, 403, "own-report"}, {"an officer of the region", w.off31, 403, "forbidden"},
					{"the coordinator of another org", w.coordB, 404, "not-found"}},
				allowed: w.coordA, valid: map[string]any{"decision": "endorse"}, ok: 200},
			{name: "report verification", method: "POST", path: reportPath(toVerify.ID, "/verification"),
				invalid: map[string]any{"decision": "duplicate"}, field: "duplicate_of",
				refused: []denial{{"the org's coordinator", w.coordA, 403, "forbidden"}, {"an officer of another province", w.off32, 404, "not-found"}},
				allowed: w.off31, valid: map[string]any{"decision": "verified"}, ok: 200},
			{name: "takedown", method: "POST", path: reportPath(toTakeDown.ID, "/takedown"),
				invalid: map[string]any{"status": "erased"}, field: "status",
				refused: []denial{{"the org's coordinator", w.coordA, 403, "forbidden"}, {"an officer of another province", w.off32, 404, "not-found"}},
				allowed: w.off31, valid: map[string]any{"status": "requested"}, ok: 200},
			{name: "alert publication", method: "POST", path: "/v1/alerts",
				invalid: map[string]any{"title": "x", "body": "", "severity": "panic", "region_code": "3171"}, field: "severity",
				refused: []denial{{"a volunteer", w.vol, 403, "forbidden"}, {"an officer of another province", w.off32, 403, "outside-region"}},
				allowed: w.off31, valid: alertBody("3171"), ok: 201},
			{name: "alert retraction", method: "POST", path: "/v1/alerts/" + al.ID + "/retraction",
				invalid: map[string]any{"reason": ""}, field: "reason",
				refused: []denial{{"an officer of another province", w.off32, 403, "forbidden"}, {"a volunteer", w.vol, 403, "forbidden"}},
				allowed: w.off31, valid: map[string]any{"reason": "diganti dengan peringatan baru"}, ok: 200},
			{name: "account creation", method: "POST", path: "/v1/admin/users",
				invalid: map[string]any{"email": "bukan-surel", "name": "", "role": "king", "password": ""}, field: "email",
				refused: []denial{{"a national officer", w.offNat, 403, "forbidden"}},
				allowed: w.admin, valid: map[string]any{"email": "petugas.baru@bawaslu.example", "name": "Petugas", "role": "officer", "password": apptest.Password}, ok: 201},
			{name: "account status", method: "PATCH", path: "/v1/admin/users/" + spare.User.ID,
				invalid: map[string]any{"status": "banished"}, field: "status",
				refused: []denial{{"a national officer", w.offNat, 403, "forbidden"}, {"the account itself", spare, 403, "forbidden"}},
				allowed: w.admin, valid: map[string]any{"status": "suspended"}, ok: 200},
		} {
			c.run(t, e)
		}

		// Evidence: a multipart body without a file part is the invalid one.
		for _, f := range []denial{{"the org's coordinator", w.coordA, 403, "forbidden"}, {"the coordinator of another org", w.coordB, 404, "not-found"}} {
			check(t, "evidence without a file from "+f.who, upload(t, e, tok(f.caller), toReview.ID, "", "", "", nil), f.status, f.typ)
		}
		r := upload(t, e, tok(w.reporter), toReview.ID, "", "", "", nil)
		if check(t, "evidence without a file from the reporter", r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "file") {
			t.Errorf("the 422 does not name file: %s", r.Body)
		}
		check(t, "evidence from the reporter", upload(t, e, tok(w.reporter), toReview.ID, "file", "bukti.png", "image/png", pngOf(64)), http.StatusCreated, "")
	})
}
