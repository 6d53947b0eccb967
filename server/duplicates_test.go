package server_test

import (
	"net/http"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
)

// A report is marked a duplicate only of another report the officer covers
// that stands for the case (submitted, endorsed or verified): not of
// itself, an unknown one or one outside the region (the same answer), a
// rejected one, or one that is a duplicate itself (which would let two
// reports name each other). A refusal is 422 on duplicate_of and changes
// nothing.
func TestDuplicateTargets(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			var dataDir string
			e := apptest.Start(t, b, worldOptions(&dataDir))
			w := newReportWorld(t, e, dataDir)
			mark := func(id, of string) apptest.Response {
				return actionNamed("verification duplicate").do(t, e, tok(w.off31), id, of)
			}
			outside := submitReport(t, e, tok(w.vol), reportBody("", "3273", ""))
			for _, tc := range []struct {
				what   string
				target func(self api.Report) string
				ok     bool
			}{
				{"itself", func(self api.Report) string { return self.ID }, false},
				{"an unknown report", func(api.Report) string { return auth.NewID() }, false},
				{"a report outside the region", func(api.Report) string { return outside.ID }, false},
				{"a report its coordinator rejected", func(api.Report) string { return w.build(t, []string{"review reject"}).ID }, false},
				{"a report an officer rejected", func(api.Report) string { return w.build(t, []string{"verification rejected"}).ID }, false},
				{"a duplicate", func(api.Report) string { return w.build(t, []string{"verification duplicate"}).ID }, false},
				{"a submitted report", func(api.Report) string { return w.build(t, nil).ID }, true},
				{"an endorsed report", func(api.Report) string { return w.build(t, []string{"review endorse"}).ID }, true},
				{"a verified report", func(api.Report) string { return w.build(t, []string{"verification verified"}).ID }, true},
			} {
				self := w.build(t, nil)
				target := tc.target(self)
				before := fingerprint(t, e, self.ID)
				r := mark(self.ID, target)
				if tc.ok {
					if check(t, "a duplicate of "+tc.what, r, http.StatusOK, "") {
						var got api.Report
						r.Decode(t, &got)
						if got.Status != api.ReportDuplicate || got.DuplicateOf == nil || *got.DuplicateOf != target {
							t.Errorf("a duplicate of %s: %s of %v", tc.what, got.Status, got.DuplicateOf)
						}
					}
					continue
				}
				if check(t, "a duplicate of "+tc.what, r, http.StatusUnprocessableEntity, "validation") && !fieldErr(t, r, "duplicate_of") {
					t.Errorf("a duplicate of %s: the problem does not name duplicate_of: %s", tc.what, r.Body)
				}
				if got := fingerprint(t, e, self.ID); got != before {
					t.Errorf("a duplicate of %s: refused, yet the report changed", tc.what)
				}
			}
			// The unknown and the outside report get the same answer.
			self := w.build(t, nil)
			unknown, out := mark(self.ID, auth.NewID()), mark(self.ID, outside.ID)
			if string(unknown.Problem(t).Errors[0].Message) != string(out.Problem(t).Errors[0].Message) {
				t.Errorf("an unknown report: %s; one outside the region: %s", unknown.Body, out.Body)
			}

			// Two reports naming each other: the second is refused, one
			// after the other or at once.
			a, b := w.build(t, nil), w.build(t, nil)
			must(t, "a duplicate of b", mark(a.ID, b.ID), http.StatusOK, "")
			check(t, "then b a duplicate of a", mark(b.ID, a.ID), http.StatusUnprocessableEntity, "validation")
			for range 8 {
				a, b := w.build(t, nil), w.build(t, nil)
				rs := race(t, 2, func(i int) (string, string, string, string, any) {
					x, y := a.ID, b.ID
					if i == 1 {
						x, y = y, x
					}
					path, body := actionNamed("verification duplicate").request(x, y)
					return e.URL, tok(w.off31), "POST", path, body
				})
				if got := tally(rs); got["200"] != 1 || got["422 validation"] != 1 {
					t.Errorf("two reports naming each other at once: %v, want one 200 and one 422", got)
				}
				if stateOf(t, e, a.ID).status == api.ReportDuplicate && stateOf(t, e, b.ID).status == api.ReportDuplicate {
					t.Errorf("%s and %s are duplicates of each other", a.ID, b.ID)
				}
			}
		})
	}
}

// The order of the workflow's checks, as api.md's error tables give it:
// the fields are checked (422) before the report's state (409
// report-decided, report-transition).
func TestWorkflowValidatesBeforeState(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		var dataDir string
		w := newReportWorld(t, e, dataDir)
		verified := w.build(t, []string{"verification verified"})
		rejected := w.build(t, []string{"review reject"})
		submitted := w.build(t, nil)
		for _, tc := range []struct {
			what   string
			token  string
			path   string
			bad    map[string]any
			good   map[string]any
			status int
			typ    string
		}{
			{"review of a decided report", tok(w.coordA), reportPath(verified.ID, "/review"),
				map[string]any{"decision": "reject"}, map[string]any{"decision": "endorse"}, http.StatusConflict, "report-decided"},
			{"verification of a decided report", tok(w.off31), reportPath(rejected.ID, "/verification"),
				map[string]any{"decision": "rejected"}, map[string]any{"decision": "verified"}, http.StatusConflict, "report-decided"},
			{"takedown of a rejected report", tok(w.off31), reportPath(rejected.ID, "/takedown"),
				map[string]any{"status": "gone"}, map[string]any{"status": "requested"}, http.StatusConflict, "report-decided"},
			{"takedown of a report not decided", tok(w.off31), reportPath(submitted.ID, "/takedown"),
				map[string]any{"status": "gone"}, map[string]any{"status": "requested"}, http.StatusConflict, "report-transition"},
		} {
			check(t, tc.what+", fields invalid", call(t, e, tc.token, "POST", tc.path, tc.bad), http.StatusUnprocessableEntity, "validation")
			check(t, tc.what, call(t, e, tc.token, "POST", tc.path, tc.good), tc.status, tc.typ)
		}
	})
}
