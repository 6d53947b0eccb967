package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarimu/jarimu/apptest"
)

// During a rolling upgrade the instances not yet replaced run on the new
// schema (docs/operations.md 6.2): a column a later release adds to a table
// is one they do not know, and they read and write the table as before.
// (bun refuses a row with a column its model lacks unless told to discard
// it: every report read answered 500 once reports.public_summary was added.)
func TestColumnsOfALaterReleaseAreIgnored(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		off, vol, a, _ := twoFindings(t, e)
		for _, table := range []string{"reports", "users", "orgs", "tasks", "alerts"} {
			if _, err := e.App.DB.ExecContext(context.Background(), "ALTER TABLE "+table+" ADD COLUMN later_release TEXT"); err != nil {
				t.Fatalf("add a column to %s: %v", table, err)
			}
		}
		r := call(t, e, tok(vol), "GET", reportPath(a.ID, ""), nil)
		must(t, "the reporter reads the report", r, http.StatusOK, "")
		r = call(t, e, tok(off), "GET", "/v1/reports", nil)
		must(t, "the officer lists reports", r, http.StatusOK, "")
		r = call(t, e, tok(off), "POST", reportPath(a.ID, "/verification"), map[string]any{"decision": "verified"})
		must(t, "the officer verifies", r, http.StatusOK, "")
		r = call(t, e, tok(vol), "GET", "/v1/me", nil)
		must(t, "the volunteer reads their account", r, http.StatusOK, "")
	})
}
