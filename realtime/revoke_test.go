package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/realtime"
)

// A member's removal is written to the org's stream too (access.revoked),
// so that it reaches their open connections in the stream's own order:
// here the change on their own stream comes late, after an event of the
// org committed after the removal, and still nothing of the org after the
// removal reaches them. Other readers of the stream get the revocation as
// an event and go on.
func TestRevocationOnTheLostStream(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	m, _ := open(t, env.url, "m", nil)
	n, _ := open(t, env.url, "n", nil)
	revoked := env.log.addEvent("org:shared", api.EventAccessRevoked, api.AccessRevoked{Token: api.RevokeToken(nil, "org:shared", "m")})
	removal := env.log.addEvent("user:m", api.EventMembershipDecided, map[string]any{"feed": api.FeedChange{Remove: []string{"org:shared"}}})
	later := env.log.add("org:shared", 1, 10)
	env.hub.Deliver([]event.Event{revoked})
	env.hub.Deliver(later)
	env.hub.Deliver([]event.Event{removal})

	if got := describe(m.through("event user:m#1 membership.decided")); got != "[unsubscribed org:shared#0 event user:m#1 membership.decided]" {
		t.Errorf("the removed member got %v, want org:shared unsubscribed and their own event, nothing more of the org", got)
	}
	if got := describe(n.through("event org:shared#2 test.happened")); got != "[event org:shared#1 access.revoked event org:shared#2 test.happened]" {
		t.Errorf("another member got %v, want the revocation and the later event", got)
	}
}

// Through the API: a member removed, a coordinator made member, an account
// suspended or erased, an officer moved to another region each write
// access.revoked to the streams they lose, naming them by token; the org's other members get it on their open
// connections, the one who lost the stream an unsubscribed frame.
func TestAccessRevokedWritten(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		f := newOrg(t, e)
		var ms [3]member
		for i, name := range []string{"ani", "budi", "citra"} {
			ms[i] = member{t: t, e: e, feed: e.URL, f: f, vol: e.User(t, "volunteer", name, "3171")}
			ms[i].join()
			ms[i].approve()
		}
		ani, budi, citra := ms[0], ms[1], ms[2]
		budi.role(api.RoleCoordinator)
		watcher, _ := open(t, e.URL, f.coord.Tokens.AccessToken, nil)
		watcher.barrier()
		revokedOn := func(stream string, who api.AuthResponse) {
			t.Helper()
			for {
				fr := watcher.next()
				if fr.Type != "event" || fr.Stream != stream || fr.Event != api.EventAccessRevoked {
					continue
				}
				var d api.AccessRevoked
				if err := json.Unmarshal(fr.Data, &d); err != nil || d.Token != api.RevokeToken(e.App.RevokeKey(), stream, who.User.ID) {
					t.Fatalf("access.revoked on %s: %s, want the token of %s", stream, fr.Data, who.User.Name)
				}
				return
			}
		}
		ac, _ := open(t, e.URL, ani.vol.Tokens.AccessToken, nil)
		ac.barrier()
		ani.remove()
		revokedOn(f.stream(), ani.vol)
		// One instance hands a transaction's events over by stream name:
		// org:… before user:…. The revocation, under the app's key, thus
		// ends the stream before the removal on the member's own stream.
		if f2 := ac.next(); f2.Type != "unsubscribed" || f2.Stream != f.stream() {
			t.Fatalf("the removed member got %v first, want %s unsubscribed by the revocation", f2, f.stream())
		}
		budi.role(api.RoleMember)
		revokedOn(f.reviewStream(), budi.vol)
		must := func(r apptest.Response) {
			t.Helper()
			if r.Status != http.StatusOK {
				t.Fatalf("suspend: got %d %s", r.Status, r.Body)
			}
		}
		must(e.Do(t, "PATCH", "/v1/admin/users/"+citra.vol.User.ID, map[string]any{"status": "suspended"}, apptest.Bearer(f.admin.Tokens.AccessToken)...))
		revokedOn(f.stream(), citra.vol)

		// An erasure; an officer moved to another region: read from the log.
		key := e.App.RevokeKey()
		inLog := func(stream string, who api.AuthResponse) {
			t.Helper()
			evs, err := e.App.Events.After(context.Background(), stream, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				var d api.AccessRevoked
				if ev.Name == api.EventAccessRevoked && json.Unmarshal(ev.Data, &d) == nil && d.Token == api.RevokeToken(key, stream, who.User.ID) {
					return
				}
			}
			t.Errorf("no access.revoked for %s on %s", who.User.Name, stream)
		}
		dewi := member{t: t, e: e, feed: e.URL, f: f, vol: e.User(t, "volunteer", "dewi", "3171")}
		dewi.join()
		dewi.approve()
		if r := e.Do(t, "DELETE", "/v1/me", map[string]any{"password": apptest.Password}, apptest.Bearer(dewi.vol.Tokens.AccessToken)...); r.Status != http.StatusNoContent {
			t.Fatalf("erase: got %d %s", r.Status, r.Body)
		}
		inLog(f.stream(), dewi.vol)
		officer := e.User(t, "officer", "petugas", "31")
		must(e.Do(t, "PATCH", "/v1/admin/users/"+officer.User.ID, map[string]any{"region_code": "32"}, apptest.Bearer(f.admin.Tokens.AccessToken)...))
		inLog("review:31", officer)
	})
}

// A rotation of the Web Push key pair restarts the instances one by one,
// so instances with the old pair and with the new one serve side by side:
// a revocation written by either is acted on by the other (the key that
// names users is the installation's, kept in the database), ahead of the
// change on the user's own stream. One under another key (here, one
// derived from the old pair) is not: the stream stays.
func TestRevocationAcrossWebPushRotation(t *testing.T) {
	t.Parallel()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			// The in-process broker hands a transaction's events over in
			// its order (org:… before user:…) on both backends.
			mem := realtime.NewMemory()
			with := func(v *push.VAPID) []apptest.Option {
				return []apptest.Option{func(o *app.Options) { o.RedisURL, o.Broker, o.VAPID = "", mem, v }}
			}
			oldPair, newPair := apptest.NewVAPID(t), apptest.NewVAPID(t)
			old, renewed := apptest.TwoOf(t, b, with(oldPair), with(newPair))
			f := newOrg(t, old)
			for _, c := range []struct {
				name      string
				writer    *apptest.Env // where the member is removed
				reader    *apptest.Env // where their feed is connected
				forgedKey []byte
			}{
				{"old pair writes, new pair reads", old, renewed, oldPair.DerivedKey("access.revoked tokens")},
				{"new pair writes, old pair reads", renewed, old, newPair.DerivedKey("access.revoked tokens")},
			} {
				m := member{t: t, e: c.writer, feed: c.reader.URL, f: f, vol: c.writer.User(t, "volunteer", "anggota", "3171")}
				m.join()
				m.approve()
				conn, w := open(t, c.reader.URL, m.vol.Tokens.AccessToken, nil)
				if seqOf(w, f.stream()) < 0 {
					t.Fatalf("%s: welcome %v, want %s", c.name, w.Streams, f.stream())
				}
				conn.barrier()
				forged := api.AccessRevoked{Token: api.RevokeToken(c.forgedKey, f.stream(), m.vol.User.ID)}
				err := c.writer.App.Events.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
					_, err := event.Append(ctx, tx, f.stream(), api.EventAccessRevoked, forged)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if fr := conn.next(); fr.Type != "event" || fr.Stream != f.stream() || fr.Event != api.EventAccessRevoked {
					t.Fatalf("%s: got %v, want the forged access.revoked as an event, the stream kept", c.name, fr)
				}
				conn.barrier()
				m.remove()
				if fr := conn.next(); fr.Type != "unsubscribed" || fr.Stream != f.stream() {
					t.Fatalf("%s: the removed member got %v first, want %s unsubscribed by the revocation", c.name, fr, f.stream())
				}
			}
		})
	}
}

// A revocation reached while the connection reads a stream's events from
// the log (here: the stream was just granted, and what was committed
// since is read) ends the stream there too: nothing after it is written,
// and no reset brings the stream back.
func TestRevocationReadFromTheLog(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	env.streamsOf["m"] = []string{"user:m"}
	m, _ := open(t, env.url, "m", nil)
	m.barrier()
	env.log.add("org:shared", 1, 10)
	env.mu.Lock()
	env.streamsOf["m"] = []string{"user:m", "org:shared"}
	env.mu.Unlock()
	gain := env.log.addEvent("user:m", api.EventMembershipDecided, map[string]any{"feed": api.FeedChange{Add: map[string]int64{"org:shared": 1}}})
	env.log.addEvent("org:shared", api.EventAccessRevoked, api.AccessRevoked{Token: api.RevokeToken(nil, "org:shared", "m")})
	env.log.add("org:shared", 2, 10)
	env.hub.Deliver([]event.Event{gain})
	if got := describe(m.through("unsubscribed org:shared#0")); got != "[event user:m#1 membership.decided subscribed org:shared#1 unsubscribed org:shared#0]" {
		t.Errorf("got %v, want the stream granted, then ended at the revocation, nothing after", got)
	}
}

// A revocation older than the connection's start of the stream (the user
// lost it before and has it again) is history: sent as an event when
// resumed, and the stream stays.
func TestOldRevocationIsHistory(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	env.log.addEvent("org:shared", api.EventAccessRevoked, api.AccessRevoked{Token: api.RevokeToken(nil, "org:shared", "m")})
	env.log.add("org:shared", 1, 10)
	m, w := open(t, env.url, "m", map[string]int64{"org:shared": 0})
	if seqOf(w, "org:shared") != 2 {
		t.Fatalf("welcome %v, want org:shared at 2", w.Streams)
	}
	if got := describe(m.through("event org:shared#2 test.happened")); got != "[event org:shared#1 access.revoked event org:shared#2 test.happened]" {
		t.Errorf("got %v, want the old revocation and the event after it, the stream kept", got)
	}
	env.publish("org:shared", 1, 10)
	m.events("org:shared", 2, 1)
}

// describe is frames in brief: type, stream#seq and, for events, the name.
func describe(fs []frame) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = brief(f)
	}
	return fmt.Sprint(out)
}

func brief(f frame) string {
	s := fmt.Sprintf("%s %s#%d", f.Type, f.Stream, f.Seq)
	if f.Event != "" {
		s += " " + f.Event
	}
	return s
}

// through reads frames up to the one that reads as last (brief), then
// whatever comes before the pong of a ping sent after it: what the hub
// hands over arrives in its own time, and a ping alone is answered at once.
func (c *client) through(last string) []frame {
	c.t.Helper()
	var out []frame
	for {
		f := c.next()
		out = append(out, f)
		if brief(f) == last {
			return append(out, c.untilPong()...)
		}
	}
}

// The read of the database that a change of access makes on a live
// connection ends when the connection closes (here the hub's Close): it had
// no bound at all, and a database that never answered held the connection's
// writer, and Close, for good.
func TestChangeOfAccessReadEndsWithTheConnection(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	reading := make(chan struct{})
	ended := make(chan error, 1)
	env := startHub(t, realtime.Options{
		Access: func(ctx context.Context, userID string) (realtime.Grant, error) {
			if calls.Add(1) == 1 {
				return realtime.Grant{Active: true, Role: "volunteer", Streams: []string{"user:" + userID}}, nil
			}
			close(reading)
			<-ctx.Done()
			ended <- ctx.Err()
			return realtime.Grant{}, ctx.Err()
		},
	})
	m, _ := open(t, env.url, "m", nil)
	m.barrier()
	gain := env.log.addEvent("user:m", api.EventMembershipDecided, map[string]any{"feed": api.FeedChange{Add: map[string]int64{"org:shared": 1}}})
	env.hub.Deliver([]event.Event{gain})
	select {
	case <-reading:
	case <-time.After(5 * time.Second):
		t.Fatal("the change of access read nothing")
	}
	closeEndsRead(t, env, "the change of access's read", ended)
}
