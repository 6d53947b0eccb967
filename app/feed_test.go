package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// feedAccess reads in one statement what a hello starts from: the account,
// the streams its memberships and role give, the own stream's head. Only
// active memberships count (not pending, not removed), whatever the org's
// accreditation; an absent or suspended account has no grant.
func TestFeedAccess(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		ctx := context.Background()
		admin := e.User(t, "admin", "root", "")
		coord := e.User(t, "volunteer", "coord", "31")
		vol := e.User(t, "volunteer", "vol", "3171")
		officer := e.User(t, "officer", "petugas", "")
		provinceOfficer := e.User(t, "officer", "petugasprov", "31")
		districtVol := e.User(t, "volunteer", "wargakec", "317101")
		do := func(who api.AuthResponse, method, path string, body any, want int) api.Org {
			t.Helper()
			r := e.Do(t, method, path, body, apptest.Bearer(who.Tokens.AccessToken)...)
			if r.Status != want {
				t.Fatalf("%s %s: got %d %s, want %d", method, path, r.Status, r.Body, want)
			}
			var o api.Org
			if want == http.StatusCreated && path == "/v1/orgs" {
				r.Decode(t, &o)
			}
			return o
		}
		o := do(admin, "POST", "/v1/orgs", map[string]any{"name": "KIPP Jakarta", "accreditation_number": "FA/00001",
			"accredited_until": time.Now().Add(90 * 24 * time.Hour), "coordinator_email": coord.User.Email}, http.StatusCreated)
		members := "/v1/orgs/" + o.ID + "/memberships"
		// Heads to read besides the own streams' (an org's has its
		// creation's events).
		for _, stream := range []string{"region:national", "region:3171", "review:national", "review:31", "review:" + o.ID} {
			for i := range 2 {
				if _, err := event.Append(ctx, e.App.DB, stream, "test.happened", map[string]int{"i": i}); err != nil {
					t.Fatal(err)
				}
			}
		}
		check := func(what string, userID string, want realtime.Grant) {
			t.Helper()
			if e.App.DB.Postgres() {
				// feedReadSQL (prepared, written out) asks what the
				// owners' queries ask, in every state below.
				// It also reads the head of every stream of the grant
				// (so that a first hello reads once).
				composed, prepared, missing, err := e.App.FeedReadBoth(ctx, userID, []string{auth.UserStream(userID), "region:national"}, want.Streams)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if composed != prepared || composed == "" && want.Active {
					t.Fatalf("%s: feedReadSQL read\n%s\nthe owners' queries\n%s", what, prepared, composed)
				}
				if len(missing) > 0 {
					t.Fatalf("%s: feedReadSQL read no head of %v", what, missing)
				}
			}
			got, err := e.App.FeedAccess(ctx, userID)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if want.Active {
				head, err := e.App.Events.Head(ctx, auth.UserStream(userID))
				if err != nil {
					t.Fatal(err)
				}
				want.Head = head
			}
			slices.Sort(got.Streams)
			slices.Sort(want.Streams)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: got %+v, want %+v", what, got, want)
			}
		}
		own := func(u api.AuthResponse) string { return auth.UserStream(u.User.ID) }
		volStreams := []string{own(vol), "region:national", "region:31", "region:3171"}

		check("no such account", "no-such-user", realtime.Grant{})
		check("no memberships", vol.User.ID, realtime.Grant{Active: true, Role: "volunteer", Region: "3171", Streams: volStreams})
		check("national officer", officer.User.ID, realtime.Grant{Active: true, Role: "officer",
			Streams: []string{own(officer), "region:national", "review:national"}})
		check("province officer", provinceOfficer.User.ID, realtime.Grant{Active: true, Role: "officer", Region: "31",
			Streams: []string{own(provinceOfficer), "region:national", "region:31", "review:31"}})
		check("district volunteer", districtVol.User.ID, realtime.Grant{Active: true, Role: "volunteer", Region: "317101",
			Streams: []string{own(districtVol), "region:national", "region:31", "region:3171"}})
		check("coordinator", coord.User.ID, realtime.Grant{Active: true, Role: "volunteer", Region: "31",
			Streams: []string{own(coord), "org:" + o.ID, "review:" + o.ID, "region:national", "region:31"}})

		do(vol, "POST", members, map[string]any{}, http.StatusCreated)
		check("pending membership", vol.User.ID, realtime.Grant{Active: true, Role: "volunteer", Region: "3171", Streams: volStreams})
		do(coord, "POST", members+"/"+vol.User.ID+"/decision", map[string]any{"decision": "approve"}, http.StatusOK)
		member := append(slices.Clone(volStreams), "org:"+o.ID)
		check("active membership", vol.User.ID, realtime.Grant{Active: true, Role: "volunteer", Region: "3171", Streams: member})
		do(admin, "POST", "/v1/orgs/"+o.ID+"/accreditation", map[string]any{"action": "suspend", "reason": "laporan dana kampanye belum"}, http.StatusOK)
		check("org suspended", vol.User.ID, realtime.Grant{Active: true, Role: "volunteer", Region: "3171", Streams: member})

		appendOwn(t, e, vol.User.ID, 3)
		check("own stream moved on", vol.User.ID, realtime.Grant{Active: true, Role: "volunteer", Region: "3171", Streams: member})
		do(coord, "DELETE", members+"/"+vol.User.ID, nil, http.StatusNoContent)
		check("removed membership", vol.User.ID, realtime.Grant{Active: true, Role: "volunteer", Region: "3171", Streams: volStreams})

		do(admin, "PATCH", "/v1/admin/users/"+vol.User.ID, map[string]any{"status": "suspended"}, http.StatusOK)
		check("suspended account", vol.User.ID, realtime.Grant{})
		do(admin, "PATCH", "/v1/admin/users/"+coord.User.ID, map[string]any{"status": "deleted"}, http.StatusOK)
		check("deleted account", coord.User.ID, realtime.Grant{})
	})
}

// appendOwn appends n events to userID's own stream.
func appendOwn(t *testing.T, e *apptest.Env, userID string, n int) {
	t.Helper()
	for i := range n {
		if _, err := event.Append(context.Background(), e.App.DB, auth.UserStream(userID), "test.mine", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
}

// feedHello reads, on PostgreSQL in one statement, feedAccess's grant with
// the heads of the own stream and of the streams to resume, and each one's
// history from the seq asked (at most limit events): the same as feedAccess
// followed by the log's HeadsSince. Streams the client names beyond its
// grant are read too (the grant is not known yet); the feed drops them. On
// SQLite it reads the grant alone, and the feed reads the log after.
func TestFeedHello(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		ctx := context.Background()
		vol := e.User(t, "volunteer", "vol", "3171")
		own := auth.UserStream(vol.User.ID)
		appendOwn(t, e, vol.User.ID, 5)
		for i := range 7 {
			if _, err := event.Append(ctx, e.App.DB, "region:3171", "test.alert", map[string]int{"i": i}); err != nil {
				t.Fatal(err)
			}
			if _, err := event.Append(ctx, e.App.DB, "org:not-mine", "test.other", map[string]int{"i": i}); err != nil {
				t.Fatal(err)
			}
		}
		from := map[string]int64{own: 2, "region:3171": 3, "region:31": 0, "org:not-mine": 6}
		got, err := e.App.FeedHello(ctx, vol.User.ID, from, 3)
		if err != nil {
			t.Fatal(err)
		}
		grant, err := e.App.FeedAccess(ctx, vol.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got.Streams)
		slices.Sort(grant.Streams)
		if fmt.Sprint(got.Grant) != fmt.Sprint(grant) {
			t.Fatalf("grant: got %+v, want %+v (feedAccess)", got.Grant, grant)
		}
		if !e.App.DB.Postgres() {
			if got.Heads != nil || got.Since != nil {
				t.Fatalf("SQLite read the log with the grant: %+v", got)
			}
			return
		}
		// The heads of the streams resumed and of the grant's, and the
		// history of those resumed, each read on its own by the log's
		// plain queries (Heads, After), not by the statement's SQL.
		names := []string{own, "region:3171", "region:31", "org:not-mine", "region:national"}
		heads, err := e.App.Events.Heads(ctx, names)
		if err != nil {
			t.Fatal(err)
		}
		since := map[string][]event.Event{}
		for s, seq := range from {
			if seq >= heads[s] {
				continue
			}
			if since[s], err = e.App.Events.After(ctx, s, seq-1, 3); err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(got.Heads) != fmt.Sprint(heads) || got.Head != heads[own] {
			t.Fatalf("heads: got %v (own %d), want %v", got.Heads, got.Head, heads)
		}
		seqs := func(m map[string][]event.Event) string {
			var b strings.Builder
			for _, s := range names {
				fmt.Fprintf(&b, "%s:", s)
				for _, ev := range m[s] {
					fmt.Fprintf(&b, " %d/%s/%s/%s/%d", ev.Seq, ev.ID, ev.Name, ev.Data, ev.At.UnixMicro())
				}
				b.WriteString("; ")
			}
			return b.String()
		}
		if seqs(got.Since) != seqs(since) {
			t.Fatalf("history: got %s\nwant %s", seqs(got.Since), seqs(since))
		}
		if len(got.Since[own]) != 3 || got.Since[own][0].Seq != 2 || len(got.Since["region:31"]) != 0 {
			t.Fatalf("history: got %s, want 3 own events from 2 on, none of region:31", seqs(got.Since))
		}
		// A fresh connect resumes nothing: the grant with the heads of all
		// its streams, no history: nothing left for the feed to read.
		fresh, err := e.App.FeedHello(ctx, vol.User.ID, nil, 3)
		if err != nil {
			t.Fatal(err)
		}
		heads, err = e.App.Events.Heads(ctx, grant.Streams)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(fresh.Heads) != fmt.Sprint(heads) || fresh.Head != grant.Head || len(fresh.Since) != 0 || heads["region:3171"] != 7 {
			t.Fatalf("fresh hello: %+v, want heads %v", fresh, heads)
		}
	})
}
