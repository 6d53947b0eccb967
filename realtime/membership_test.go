package realtime_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
)

// An approved membership adds the org's stream to an open connection at
// once; a removed one takes it away, and no later event of the org reaches
// the connection while the user's own events still do.
func TestMembershipChangesStreams(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		f := newOrg(t, e)
		vol := e.User(t, "volunteer", "vol", "3171")
		coordTok := apptest.Bearer(f.coord.Tokens.AccessToken)
		if r := e.Do(t, "POST", "/v1/orgs/"+f.org.ID+"/memberships", map[string]any{}, apptest.Bearer(vol.Tokens.AccessToken)...); r.Status != http.StatusCreated {
			t.Fatalf("join: got %d %s", r.Status, r.Body)
		}
		c, w := open(t, e.URL, vol.Tokens.AccessToken, nil)
		if seqOf(w, f.stream()) != -1 {
			t.Fatalf("a pending member's welcome has %s: %v", f.stream(), w.Streams)
		}
		user := "user:" + vol.User.ID
		userSeq := seqOf(w, user)
		// Events of the org before approval never reach the volunteer.
		toggleAccreditation(t, e, f, 0)
		toggleAccreditation(t, e, f, 1)
		orgHead, err := e.App.Events.Head(context.Background(), f.stream())
		if err != nil {
			t.Fatal(err)
		}

		if r := e.Do(t, "POST", "/v1/orgs/"+f.org.ID+"/memberships/"+vol.User.ID+"/decision", map[string]any{"decision": "approve"}, coordTok...); r.Status != http.StatusOK {
			t.Fatalf("approve: got %d %s", r.Status, r.Body)
		}
		ev := c.events(user, userSeq, 1)[0]
		userSeq++
		if ev.Event != "membership.decided" {
			t.Fatalf("got %v, want membership.decided", ev)
		}
		if s := c.next(); s.Type != "subscribed" || s.Stream != f.stream() || s.Seq != orgHead {
			t.Fatalf("got %v, want subscribed %s %d", s, f.stream(), orgHead)
		}
		toggleAccreditation(t, e, f, 2)
		toggleAccreditation(t, e, f, 3)
		c.events(f.stream(), orgHead, 2)
		orgHead += 2
		c.barrier()

		if r := e.Do(t, "DELETE", "/v1/orgs/"+f.org.ID+"/memberships/"+vol.User.ID, nil, coordTok...); r.Status != http.StatusNoContent {
			t.Fatalf("remove: got %d %s", r.Status, r.Body)
		}
		// The removal's event and the org stream's end, in either order:
		// the end comes with access.revoked on the org's stream (not sent
		// to the removed member) or with the removal on their own.
		var decided, unsubscribed int
		for range 2 {
			switch f2 := c.next(); {
			case f2.Type == "event" && f2.Stream == user && f2.Seq == userSeq+1 && f2.Event == "membership.decided":
				decided++
			case f2.Type == "unsubscribed" && f2.Stream == f.stream():
				unsubscribed++
			default:
				t.Fatalf("got %v, want membership.decided on %s and unsubscribed %s", f2, user, f.stream())
			}
		}
		if decided != 1 || unsubscribed != 1 {
			t.Fatalf("got %d membership.decided and %d unsubscribed, want one each", decided, unsubscribed)
		}
		userSeq++
		for i := range 4 {
			toggleAccreditation(t, e, f, i)
		}
		appendEvents(t, e, f.stream(), "test.after_removal", 3)
		appendEvents(t, e, user, "test.mine", 1)
		// The user's own event comes, and no org event before it.
		if ev := c.next(); ev.Type != "event" || ev.Stream != user || ev.Seq != userSeq+1 {
			t.Fatalf("got %v, want only the user's own event %s#%d", ev, user, userSeq+1)
		}
		c.barrier()
		appendEvents(t, e, f.stream(), "test.after_removal", 2)
		c.quiet(500 * time.Millisecond)

		// A fresh connection does not get the org either.
		c2, w2 := open(t, e.URL, vol.Tokens.AccessToken, nil)
		if seqOf(w2, f.stream()) != -1 {
			t.Fatalf("a removed member's welcome has %s: %v", f.stream(), w2.Streams)
		}
		c2.barrier()
	})
}
