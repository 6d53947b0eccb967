package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

// A retried request whose stored answer holds what the caller's old grant
// let them read is not replayed once that grant shrinks: a coordinator
// made member retrying the creation of an invite gets 409
// idempotency-applied, not the invite's code again; nothing is created
// twice. Before the change of role the retry is replayed.
func TestReplayWithheldWhenAccessShrinks(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		first, o := taskOrg(t, e, admin, "31")
		second := volunteer(t, e, "kedua")
		addMember(t, e, tok(first), o, second)
		must(t, "promote", call(t, e, tok(first), "PATCH", memberPath(o, second.User.ID, ""), map[string]any{"role": "coordinator"}), 200, "")
		body := map[string]any{"max_uses": 5, "expires_at": time.Now().Add(24 * time.Hour).UTC()}
		hdr := append(apptest.Bearer(tok(second)), "Idempotency-Key", "undangan-1")
		r1 := e.Do(t, "POST", orgPath(o, "/invites"), body, hdr...)
		must(t, "invite", r1, http.StatusCreated, "")
		var inv api.Invite
		r1.Decode(t, &inv)
		if r := e.Do(t, "POST", orgPath(o, "/invites"), body, hdr...); r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry while coordinator: got %d (replayed %q), want the answer replayed", r.Status, r.Header.Get("Idempotent-Replayed"))
		}
		n := e.Count(t, "invites")
		must(t, "demote", call(t, e, tok(first), "PATCH", memberPath(o, second.User.ID, ""), map[string]any{"role": "member"}), 200, "")
		r := e.Do(t, "POST", orgPath(o, "/invites"), body, hdr...)
		check(t, "retry after the demotion", r, http.StatusConflict, "idempotency-applied")
		if strings.Contains(string(r.Body), inv.Code) {
			t.Errorf("the retry's answer holds the invite code: %s", r.Body)
		}
		if e.Count(t, "invites") != n {
			t.Errorf("the retry made another invite")
		}

		// Changes that take nothing away keep the replays: a join request
		// rejected, the volunteer's own region changed.
		coordB, oB := taskOrg(t, e, admin, "32")
		v := volunteer(t, e, "ketiga")
		vh := append(apptest.Bearer(tok(v)), "Idempotency-Key", "gabung-1")
		must(t, "ask to join", e.Do(t, "POST", orgPath(oB, "/memberships"), map[string]any{}, vh...), http.StatusCreated, "")
		must(t, "reject", call(t, e, tok(coordB), "POST", memberPath(oB, v.User.ID, "/decision"), map[string]any{"decision": "reject", "reason": "wilayah penuh"}), 200, "")
		must(t, "own region", call(t, e, tok(v), "PATCH", "/v1/me", map[string]any{"region_code": "3273"}), 200, "")
		if r := e.Do(t, "POST", orgPath(oB, "/memberships"), map[string]any{}, vh...); r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry after a rejection and a region change: got %d (replayed %q), want the answer replayed", r.Status, r.Header.Get("Idempotent-Replayed"))
		}
	})
}
