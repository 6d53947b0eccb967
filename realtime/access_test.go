package realtime_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"pgregory.net/rapid"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// member drives one volunteer's membership of an org through HTTP, as the
// volunteer and the org's coordinator would.
type member struct {
	t    *testing.T
	e    *apptest.Env // where changes are made
	feed string       // the base URL the volunteer's feed connects to
	f    orgFixture
	vol  api.AuthResponse
}

func (m member) do(who api.AuthResponse, method, path string, body any, want int) {
	m.t.Helper()
	if r := m.e.Do(m.t, method, path, body, apptest.Bearer(who.Tokens.AccessToken)...); r.Status != want {
		m.t.Fatalf("%s %s: got %d %s, want %d", method, path, r.Status, r.Body, want)
	}
}

func (m member) path() string { return "/v1/orgs/" + m.f.org.ID + "/memberships/" + m.vol.User.ID }
func (m member) join() {
	m.do(m.vol, "POST", "/v1/orgs/"+m.f.org.ID+"/memberships", map[string]any{}, 201)
}
func (m member) approve() {
	m.do(m.f.coord, "POST", m.path()+"/decision", map[string]any{"decision": "approve"}, 200)
}
func (m member) role(role string) {
	m.do(m.f.coord, "PATCH", m.path(), map[string]any{"role": role}, 200)
}
func (m member) remove() { m.do(m.f.coord, "DELETE", m.path(), nil, 204) }
func (m member) leave()  { m.do(m.vol, "DELETE", m.path(), nil, 204) }

// granted is what REST shows the volunteer of the org now: whether their
// membership is active, and as coordinator.
func (m member) granted() (active, coordinator bool) {
	m.t.Helper()
	r := m.e.Do(m.t, "GET", "/v1/me", nil, apptest.Bearer(m.vol.Tokens.AccessToken)...)
	var me api.Me
	r.Decode(m.t, &me)
	for _, ms := range me.Memberships {
		if ms.OrgID == m.f.org.ID && ms.Status == api.MembershipActive {
			return true, ms.Role == api.RoleCoordinator
		}
	}
	return false, false
}

// untilPong sends a ping and returns every frame before its pong.
func (c *client) untilPong() []frame {
	c.t.Helper()
	c.send(api.ClientFrame{Type: "ping"})
	var out []frame
	for {
		f := c.next()
		if f.Type == "pong" {
			return out
		}
		out = append(out, f)
	}
}

// checkResume opens a connection that resumes every stream named from seq
// 0 and checks it against what REST grants now: the welcome has exactly the
// granted streams of the org, nothing arrives on any other stream, no
// stream is added or removed, and each granted stream's history is whole.
func checkResume(t *testing.T, m member, seen []string) {
	t.Helper()
	resume := map[string]int64{}
	for _, s := range seen {
		resume[s] = 0
	}
	c, w := open(t, m.feed, m.vol.Tokens.AccessToken, resume)
	active, coordinator := m.granted()
	want := map[string]bool{m.f.stream(): active, m.f.reviewStream(): coordinator}
	for s, ok := range want {
		if (seqOf(w, s) >= 0) != ok {
			t.Fatalf("welcome %v: has %s = %v, REST grants it = %v", w.Streams, s, seqOf(w, s) >= 0, ok)
		}
	}
	next := map[string]int64{}
	for _, f := range c.untilPong() {
		if f.Type != "event" {
			t.Fatalf("got %v during the resume, want only events", f)
		}
		head := seqOf(w, f.Stream)
		if head < 0 {
			t.Fatalf("got %v on a stream the connection does not have", f)
		}
		if f.Seq != next[f.Stream]+1 || f.Seq > head {
			t.Fatalf("got %v, want %s#%d (head %d)", f, f.Stream, next[f.Stream]+1, head)
		}
		next[f.Stream] = f.Seq
	}
	for _, p := range w.Streams {
		if _, resumed := resume[p.Name]; resumed && next[p.Name] != p.Seq {
			t.Fatalf("%s resumed up to %d, want its head %d", p.Name, next[p.Name], p.Seq)
		}
	}
}

// The review's attack: a member who left, or a coordinator who was
// demoted, reconnects resuming their own stream (and the lost ones) from 0.
// The replayed membership events must not bring the lost streams back: no
// event of them arrives, old or new. A current coordinator doing the same
// gets both streams whole.
func TestResumeCannotRegainLostStreams(t *testing.T) {
	t.Parallel()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			// Changes through instance A, feeds through instance B.
			e, other := apptest.Two(t, b)
			f := newOrg(t, e)
			mk := func(name string) member {
				return member{t: t, e: e, feed: other.URL, f: f, vol: e.User(t, "volunteer", name, "3171")}
			}
			gone, demoted, stays := mk("pergi"), mk("turun"), mk("tetap")
			for _, m := range []member{gone, demoted, stays} {
				m.join()
				m.approve()
				m.role("coordinator")
			}
			appendEvents(t, e, f.stream(), "test.before", 2)
			appendEvents(t, e, f.reviewStream(), "test.before", 2)
			gone.leave()
			demoted.role("member")
			appendEvents(t, e, f.stream(), "test.after", 3)
			appendEvents(t, e, f.reviewStream(), "test.after", 3)

			all := []string{f.stream(), f.reviewStream()}
			for _, m := range []member{gone, demoted, stays} {
				checkResume(t, m, append([]string{"user:" + m.vol.User.ID}, all...))
			}
			// The demoted member still has the org stream, whole.
			if a, c := demoted.granted(); !a || c {
				t.Fatalf("demoted: active %v coordinator %v, want an active member", a, c)
			}
		})
	}
}

// Property: whatever sequence of joins, approvals, promotions, demotions,
// removals and leaving happened, with events on the org's streams in
// between, a resume from seq 0 of the user's stream and of every stream the
// client ever had sends nothing of a stream REST does not grant now, and
// each stream it grants whole.
func TestResumeFollowsAccessNow(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		checks := 40
		if apptest.RaceEnabled() {
			checks = 12
		}
		defer apptest.RapidFlags(checks)()
		// One org for every check (its streams grow long, so resumes also
		// read the history in several batches); a new volunteer each time
		// (logins are throttled per address: 50 in a burst).
		f := newOrg(t, e)
		n, total := 0, 0
		rapid.Check(t, func(rt *rapid.T) {
			n++
			m := member{t: t, e: e, feed: e.URL, f: f, vol: e.User(t, "volunteer", fmt.Sprintf("acak%d", n), "3171")}
			// Each step is drawn from those that apply in the membership's
			// state (none, pending, member, coordinator), or is an event.
			valid := map[string][]string{
				"none":        {"join"},
				"pending":     {"approve", "leave"},
				"member":      {"promote", "remove", "leave"},
				"coordinator": {"demote", "remove", "leave"},
			}
			state := "none"
			steps := rapid.IntRange(1, 16).Draw(rt, "steps")
			for range steps {
				actions := append([]string{"org", "review"}, valid[state]...)
				switch rapid.SampledFrom(actions).Draw(rt, "action") {
				case "join":
					m.join()
					state = "pending"
				case "approve":
					m.approve()
					state = "member"
				case "promote":
					m.role("coordinator")
					state = "coordinator"
				case "demote":
					m.role("member")
					state = "member"
				case "remove":
					m.remove()
					state = "none"
				case "leave":
					m.leave()
					state = "none"
				case "org":
					appendEvents(t, e, f.stream(), "test.org", 1)
				case "review":
					appendEvents(t, e, f.reviewStream(), "test.review", 1)
				}
			}
			total += steps
			checkResume(t, m, []string{"user:" + m.vol.User.ID, f.stream(), f.reviewStream()})
		})
		t.Logf("%d checks, %d steps", n, total)
	})
}

// Account changes reach open connections at once on every instance: a
// region change moves the region streams (subscribed / unsubscribed), an
// officer's role change moves the review stream, and nothing written to a
// lost stream after the change arrives; suspending the account closes its
// connections on both instances with 4401. A resume afterwards replays the
// account events without acting on them.
func TestAccountChangesReachOpenConnections(t *testing.T) {
	t.Parallel()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			a, bb := apptest.Two(t, b)
			admin := a.User(t, "admin", "root", "")
			vol := a.User(t, "volunteer", "pindah", "3171")
			officer := a.User(t, "officer", "petugas", "3171")
			patch := func(id string, body map[string]any) {
				t.Helper()
				if r := a.Do(t, "PATCH", "/v1/admin/users/"+id, body, apptest.Bearer(admin.Tokens.AccessToken)...); r.Status != http.StatusOK {
					t.Fatalf("patch %v: got %d %s", body, r.Status, r.Body)
				}
			}
			cv, wv := open(t, bb.URL, vol.Tokens.AccessToken, nil)
			co, wo := open(t, a.URL, officer.Tokens.AccessToken, nil)
			co2, _ := open(t, bb.URL, officer.Tokens.AccessToken, nil)
			if seqOf(wv, "region:3171") < 0 || seqOf(wo, "review:3171") < 0 {
				t.Fatalf("welcomes: %v / %v", wv.Streams, wo.Streams)
			}

			// The volunteer moves from Jakarta Selatan (3171) to Surabaya (3578).
			patch(vol.User.ID, map[string]any{"region_code": "3578"})
			ev := cv.events("user:"+vol.User.ID, seqOf(wv, "user:"+vol.User.ID), 1)[0]
			if ev.Event != "account.updated" {
				t.Fatalf("got %v, want account.updated", ev)
			}
			got := map[string]string{}
			for range 4 {
				fr := cv.next()
				got[fr.Stream] = fr.Type
			}
			want := map[string]string{"region:31": "unsubscribed", "region:3171": "unsubscribed", "region:35": "subscribed", "region:3578": "subscribed"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("stream frames %v, want %v", got, want)
			}
			appendEvents(t, a, "region:3171", "test.old_region", 2)
			appendEvents(t, a, "region:3578", "test.new_region", 1)
			cv.events("region:3578", 0, 1)
			cv.barrier()

			// The officer becomes national: review:3171 goes, review:national comes.
			patch(officer.User.ID, map[string]any{"region_code": ""})
			for _, c := range []*client{co, co2} {
				var frames []string
				deadline := time.Now().Add(5 * time.Second)
				for !slices.Contains(frames, "subscribed review:national") && time.Now().Before(deadline) {
					fr := c.next()
					if fr.Type != "event" {
						frames = append(frames, fr.Type+" "+fr.Stream)
					}
				}
				if !slices.Contains(frames, "unsubscribed review:3171") || !slices.Contains(frames, "subscribed review:national") {
					t.Fatalf("officer's frames %v, want review:3171 to go and review:national to come", frames)
				}
			}
			appendEvents(t, a, "review:3171", "test.old_review", 2)
			co.barrier()
			co2.barrier()

			// Suspension closes every connection of the account, on both instances.
			start := time.Now()
			patch(officer.User.ID, map[string]any{"status": "suspended"})
			for _, c := range []*client{co, co2} {
				for {
					fr, err := c.read(5 * time.Second)
					if err != nil {
						if code := closeCode(err); code != 4401 {
							t.Fatalf("officer connection ended with %v, want close 4401", err)
						}
						break
					}
					if fr.Type == "event" && fr.Stream != "user:"+officer.User.ID {
						t.Fatalf("got %v after the suspension", fr)
					}
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("closed after %v, want within 5 s", d)
			}
			// Its tokens are refused at hello now.
			c := hello(t, a.URL, officer.Tokens.AccessToken, nil)
			c.expectClose("hello of a suspended account", 4401, 5*time.Second)

			// Reactivated, the officer logs in again and resumes their own
			// stream from 0: the old suspension is history and closes nothing.
			patch(officer.User.ID, map[string]any{"status": "active"})
			login := a.Do(t, "POST", "/v1/auth/login", map[string]any{"email": officer.User.Email, "password": apptest.Password})
			var fresh api.AuthResponse
			login.Decode(t, &fresh)
			r, w := open(t, bb.URL, fresh.Tokens.AccessToken, map[string]int64{"user:" + officer.User.ID: 0})
			if seqOf(w, "review:national") < 0 || seqOf(w, "review:3171") >= 0 {
				t.Fatalf("welcome after reactivation: %v", w.Streams)
			}
			for _, fr := range r.untilPong() {
				if fr.Type != "event" || fr.Stream != "user:"+officer.User.ID {
					t.Fatalf("got %v during the resume, want only the user's own history", fr)
				}
			}
			r.barrier()

			// Deleting the volunteer's account closes their connection too.
			patch(vol.User.ID, map[string]any{"status": "deleted"})
			for {
				fr, err := cv.read(5 * time.Second)
				if err != nil {
					var ce *websocket.CloseError
					if !errors.As(err, &ce) || ce.Code != 4401 || ce.Text != "account deleted" {
						t.Fatalf("volunteer connection ended with %v, want close 4401 \"account deleted\"", err)
					}
					break
				}
				if fr.Stream != "user:"+vol.User.ID {
					t.Fatalf("got %v after the deletion", fr)
				}
			}
		})
	}
}

// closeCode is the close code err carries, or -1.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}
