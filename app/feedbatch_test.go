package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/event"
)

// Hellos that come while the database reads another are read together, by
// one statement (PostgreSQL), and each phone still gets what it alone may
// have: its own stream's events and not another's, its region's alerts and
// not another region's, its org's events only as a member, the review
// stream only as an officer. Eight phones of six kinds resume at once;
// the first read is held until the others wait, so they are read by one
// statement.
func TestHellosReadTogether(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		ctx := context.Background()
		admin := e.User(t, "admin", "root", "")
		coord := e.User(t, "volunteer", "coord", "31")
		officer := e.User(t, "officer", "petugas", "")
		vols := []api.AuthResponse{
			e.User(t, "volunteer", "v1", "3171"), e.User(t, "volunteer", "v2", "3171"),
			e.User(t, "volunteer", "v3", "3172"), e.User(t, "volunteer", "v4", "3172"),
			e.User(t, "volunteer", "v5", "32"), e.User(t, "volunteer", "v6", "32"),
		}
		r := e.Do(t, "POST", "/v1/orgs", map[string]any{"name": "KOPEL", "accreditation_number": "001/2029",
			"accredited_until": time.Now().Add(24 * time.Hour), "coordinator_email": coord.User.Email}, apptest.Bearer(admin.Tokens.AccessToken)...)
		var o api.Org
		r.Decode(t, &o)
		for _, v := range vols[:3] { // v1, v2, v3 are members
			if r := e.Do(t, "POST", "/v1/orgs/"+o.ID+"/memberships", map[string]any{}, apptest.Bearer(v.Tokens.AccessToken)...); r.Status != http.StatusCreated {
				t.Fatalf("join: %d %s", r.Status, r.Body)
			}
			if r := e.Do(t, "POST", "/v1/orgs/"+o.ID+"/memberships/"+v.User.ID+"/decision", map[string]any{"decision": "approve"},
				apptest.Bearer(coord.Tokens.AccessToken)...); r.Status != http.StatusOK {
				t.Fatalf("approve: %d %s", r.Status, r.Body)
			}
		}
		users := append([]api.AuthResponse{coord, officer}, vols...)

		// Each connects once and notes where its streams stand.
		positions := make([]map[string]int64, len(users))
		for i, u := range users {
			ws := feedDial(t, e, u.Tokens.AccessToken, nil)
			var w api.Welcome
			readFrame(t, ws, &w)
			positions[i] = map[string]int64{}
			for _, p := range w.Streams {
				positions[i][p.Name] = p.Seq
			}
			ws.Close()
		}

		// What they miss while away.
		appendN := func(stream string, n int) {
			for i := range n {
				if _, err := event.Append(ctx, e.App.DB, stream, "test.missed", map[string]any{"stream": stream, "i": i}); err != nil {
					t.Fatal(err)
				}
			}
		}
		appendN("region:national", 2)
		appendN("region:31", 2)
		appendN("region:3171", 3)
		appendN("region:3172", 1)
		appendN("region:32", 2)
		appendN("org:"+o.ID, 2)
		appendN("review:national", 1)
		appendN("review:"+o.ID, 1)
		appendN(auth.UserStream(vols[0].User.ID), 2)
		appendN(auth.UserStream(vols[4].User.ID), 1)

		// What each may have: the streams of its welcome, each from where
		// it stood.
		want := make([][]string, len(users))
		for i := range users {
			for s, seq := range positions[i] {
				head, err := e.App.Events.Head(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				for n := seq + 1; n <= head; n++ {
					want[i] = append(want[i], fmt.Sprintf("%s/%d", s, n))
				}
			}
			slices.Sort(want[i])
		}
		if !slices.Contains(want[2], "org:"+o.ID+"/2") || slices.Contains(want[5], "org:"+o.ID+"/2") ||
			!slices.Contains(want[1], "review:national/1") || slices.Contains(want[2], "review:national/1") {
			t.Fatalf("the welcomes named other streams than the grants give: %v", want)
		}

		// All resume at once.
		before := e.App.HelloStatements()
		held, release, first := func() int { return 0 }, func() {}, 0
		if e.App.DB.Postgres() {
			held, release = e.App.HoldHellos()
		}
		defer release()
		conns := make([]*websocket.Conn, len(users))
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Go(func() { conns[i] = feedDial(t, e, u.Tokens.AccessToken, positions[i]) })
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if e.App.DB.Postgres() {
			// The held read took the first (or the first few, come while
			// it started); the others wait behind it.
			for deadline := time.Now().Add(10 * time.Second); held()+e.App.HellosWaiting() < len(users); {
				if time.Now().After(deadline) {
					t.Fatalf("%d hellos in the held read and %d waiting, want %d in all", held(), e.App.HellosWaiting(), len(users))
				}
				time.Sleep(5 * time.Millisecond)
			}
			first = held()
			release()
		}
		for i, ws := range conns {
			var w api.Welcome
			readFrame(t, ws, &w)
			var got []string
			for len(got) < len(want[i]) {
				var f api.EventFrame
				readFrame(t, ws, &f)
				if f.Type != "event" {
					t.Fatalf("%s: got a %s frame, want the events missed", users[i].User.Email, f.Type)
				}
				got = append(got, fmt.Sprintf("%s/%d", f.Stream, f.Seq))
			}
			// Nothing more: a ping's pong comes next.
			if err := ws.WriteJSON(api.ClientFrame{Type: "ping"}); err != nil {
				t.Fatal(err)
			}
			var pong struct{ Type string }
			readFrame(t, ws, &pong)
			if pong.Type != "pong" {
				t.Fatalf("%s: after the events missed got %+v, want pong", users[i].User.Email, pong)
			}
			slices.Sort(got)
			if fmt.Sprint(got) != fmt.Sprint(want[i]) {
				t.Fatalf("%s: got %v, want %v", users[i].User.Email, got, want[i])
			}
		}
		if e.App.DB.Postgres() {
			// The held read, then one for all those behind it.
			want := int64(2)
			if first == len(users) {
				want = 1
			}
			if n := e.App.HelloStatements() - before; n != want {
				t.Fatalf("%d hellos were read by %d statements (%d in the first), want %d", len(users), n, first, want)
			}
		}
	})
}

func feedDial(t *testing.T, e *apptest.Env, token string, resume map[string]int64) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}}
	ws, resp, err := d.Dial("ws"+strings.TrimPrefix(e.URL, "http")+"/v1/feed", http.Header{})
	if err != nil {
		t.Errorf("dial: %v %v", err, resp)
		return nil
	}
	t.Cleanup(func() { ws.Close() })
	if err := ws.WriteJSON(api.ClientFrame{Type: "hello", Token: token, Resume: resume}); err != nil {
		t.Error(err)
	}
	return ws
}

// readFrame reads the next frame into v.
func readFrame(t *testing.T, ws *websocket.Conn, v any) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
}

// One statement reading many hellos gives each what a statement of its own
// gives it (TestFeedHello holds that one to the log's plain queries): the
// same user twice, streams resumed by several hellos from different seqs
// and with different limits, an org's members and others, a suspended
// account and none at all.
func TestHellosOfOneStatement(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		if !e.App.DB.Postgres() {
			return // SQLite reads each hello on its own, in-process
		}
		ctx := context.Background()
		admin := e.User(t, "admin", "root", "")
		coord := e.User(t, "volunteer", "coord", "31")
		officer := e.User(t, "officer", "petugas", "31")
		v1 := e.User(t, "volunteer", "v1", "3171")
		v2 := e.User(t, "volunteer", "v2", "3171")
		gone := e.User(t, "volunteer", "gone", "3171")
		r := e.Do(t, "POST", "/v1/orgs", map[string]any{"name": "KOPEL", "accreditation_number": "001/2029",
			"accredited_until": time.Now().Add(24 * time.Hour), "coordinator_email": coord.User.Email}, apptest.Bearer(admin.Tokens.AccessToken)...)
		var o api.Org
		r.Decode(t, &o)
		if r := e.Do(t, "PATCH", "/v1/admin/users/"+gone.User.ID, map[string]any{"status": "suspended"}, apptest.Bearer(admin.Tokens.AccessToken)...); r.Status != http.StatusOK {
			t.Fatalf("suspend: %d %s", r.Status, r.Body)
		}
		appendOwn(t, e, v1.User.ID, 5)
		for _, s := range []string{"region:3171", "region:31", "org:" + o.ID, "review:31"} {
			for i := range 7 {
				if _, err := event.Append(ctx, e.App.DB, s, "test.alert", map[string]int{"i": i}); err != nil {
					t.Fatal(err)
				}
			}
		}
		own := auth.UserStream
		asks := []app.HelloAsk{
			{v1.User.ID, map[string]int64{own(v1.User.ID): 2, "region:3171": 1, "region:31": 0}, 3},
			{v1.User.ID, map[string]int64{"region:3171": 4}, 3},
			{v2.User.ID, map[string]int64{"region:3171": 6, own(v1.User.ID): 1}, 2},
			{v2.User.ID, map[string]int64{"region:3171": 2}, 5},
			{v2.User.ID, nil, 0},
			{coord.User.ID, map[string]int64{"org:" + o.ID: 3, "region:31": 5}, 3},
			{officer.User.ID, map[string]int64{"review:31": 1, "region:3171": 3}, 4},
			{gone.User.ID, map[string]int64{"region:3171": 1}, 3},
			{"no-such-user", map[string]int64{"region:3171": 1}, 3},
		}
		together, err := e.App.ReadHellos(ctx, asks)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range asks {
			alone, err := e.App.FeedHello(ctx, q.UserID, q.From, q.Limit)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(alone.Streams)
			slices.Sort(together[i].Streams)
			if got, want := fmt.Sprintf("%+v", together[i]), fmt.Sprintf("%+v", alone); got != want {
				t.Errorf("ask %d (%v): read together\n%s\nread alone\n%s", i, q.From, got, want)
			}
		}
		if n := len(together[1].Since["region:3171"]); n != 3 || together[1].Since["region:3171"][0].Seq != 4 {
			t.Errorf("from seq 4, at most 3: got %d events of region:3171", n)
		}
		if !together[0].Active || together[7].Active || together[8].Active {
			t.Errorf("active: got %v %v %v, want true false false", together[0].Active, together[7].Active, together[8].Active)
		}
	})
}
