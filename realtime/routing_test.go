package realtime_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/realtime"
)

// A connection that joins a stream while some of its events are still on
// their way to the hub (committed, not yet delivered: a broker's latency)
// must not make the hub drop them for the connections already there.
func TestJoinDoesNotDropEventsInFlight(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{SyncInterval: 100 * time.Millisecond})
	a, _ := open(t, env.url, "u1", nil)
	env.publish("org:shared", 3, 10)
	a.events("org:shared", 0, 3)

	inFlight := env.log.add("org:shared", 2, 10) // committed, not delivered yet
	b, w := open(t, env.url, "u2", nil)
	if got := seqOf(w, "org:shared"); got != 5 {
		t.Fatalf("welcome of the second connection: org:shared at %d, want 5", got)
	}
	env.hub.Deliver(inFlight)
	a.events("org:shared", 3, 2)
	a.barrier()
	b.barrier()
}

// A sync that runs while a connection is starting (reading its heads,
// before it joins) must not replay the stream's whole history into it: that
// overflows its queue and cuts it off as too slow.
func TestSyncDuringStartDoesNotReplayHistory(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{QueueSize: 16})
	env.log.add("org:shared", 200, 10)
	env.streamsOf["u2"] = []string{"user:u2"} // so that a sync has a stream to read
	other, _ := open(t, env.url, "u2", nil)
	var calls atomic.Int32
	synced := make(chan struct{})
	env.log.mu.Lock()
	env.log.beforeHeads = func(streams []string) {
		if len(streams) == 1 && streams[0] == "user:u1" {
			return // u1's own stream, read before its streams are known
		}
		switch calls.Add(1) {
		case 1: // the connection's start: a sync runs meanwhile
			env.hub.Heal()
			select {
			case <-synced:
			case <-time.After(2 * time.Second):
				t.Error("no sync ran")
			}
			deadline := time.Now().Add(300 * time.Millisecond)
			for env.hub.Metrics().Healed.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		case 2:
			close(synced)
		}
	}
	env.log.mu.Unlock()
	c, w := open(t, env.url, "u1", nil)
	if got := seqOf(w, "org:shared"); got != 200 {
		t.Fatalf("welcome: org:shared at %d, want 200", got)
	}
	c.barrier()
	other.barrier()
	if k := env.hub.Metrics().SlowKicked.Load(); k != 0 {
		t.Errorf("got %d connections cut off as too slow, want 0", k)
	}
	env.publish("org:shared", 1, 10)
	c.events("org:shared", 200, 1)
}

// A connection that sees seq N+2 after N fills N+1 from the log; where the
// log no longer has it, a reset says so before the event.
func TestLiveGapsHealFromLog(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	c, _ := open(t, env.url, "u1", nil)
	env.publish("org:shared", 2, 10)
	c.events("org:shared", 0, 2)

	evs := env.log.add("org:shared", 3, 10) // 3, 4, 5: only 5 reaches the hub
	env.hub.Deliver(evs[2:])
	c.events("org:shared", 2, 3)
	if h := env.hub.Metrics().Healed.Load(); h < 2 {
		t.Errorf("got %d healed, want at least 2", h)
	}

	evs = env.log.add("org:shared", 3, 10) // 6, 7, 8: 6 and 7 purged, 8 delivered
	env.log.drop("org:shared", 6, 7)
	env.hub.Deliver(evs[2:])
	if r := c.next(); r.Type != "reset" || r.Stream != "org:shared" || r.Seq != 7 {
		t.Fatalf("got %v, want reset org:shared 7", r)
	}
	c.events("org:shared", 7, 1)
	c.barrier()

	// Resuming into a hole at the end of the history: reset to the head.
	env.log.add("org:shared", 2, 10) // 9, 10
	env.log.drop("org:shared", 10)
	r, _ := open(t, env.url, "u2", map[string]int64{"org:shared": 8})
	r.events("org:shared", 8, 1)
	if f := r.next(); f.Type != "reset" || f.Seq != 10 {
		t.Fatalf("got %v, want reset org:shared 10", f)
	}
	r.barrier()
}

// A start that reads the log for longer than the hello timeout (a slow
// database) does not cut the connection off: the reader, which starts after
// it, sets its own deadline first.
func TestSlowStartOutlastsHelloTimeout(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{HelloTimeout: 200 * time.Millisecond})
	env.log.mu.Lock()
	env.log.beforeHeads = func([]string) { time.Sleep(500 * time.Millisecond) }
	env.log.mu.Unlock()
	c, _ := open(t, env.url, "u1", nil)
	env.log.mu.Lock()
	env.log.beforeHeads = nil
	env.log.mu.Unlock()
	env.publish("org:shared", 1, 10)
	c.events("org:shared", 0, 1)
	c.barrier()
}

// A membership change committed while a connection starts (after its
// streams were worked out, before the heads were read) still reaches it:
// the welcome starts the user's own stream before the change, which is then
// sent and applied (the new stream is subscribed, as the database now
// grants it).
func TestMembershipDuringStartIsApplied(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	env.log.add("user:u1", 2, 10)
	duringStart(env, api.FeedChange{Add: map[string]int64{"org:new": 0}}, "user:u1", "org:shared", "org:new")
	c, w := open(t, env.url, "u1", nil)
	if got := seqOf(w, "user:u1"); got != 2 {
		t.Fatalf("welcome: user:u1 at %d, want 2 (before the change)", got)
	}
	if ev := c.events("user:u1", 2, 1)[0]; ev.Event != "membership.decided" {
		t.Fatalf("got %v, want membership.decided", ev)
	}
	if s := c.next(); s.Type != "subscribed" || s.Stream != "org:new" || s.Seq != 0 {
		t.Fatalf("got %v, want subscribed org:new 0", s)
	}
	env.publish("org:new", 1, 10)
	c.events("org:new", 0, 1)
	c.barrier()

	// A client that resumes its own stream gets the change as history: the
	// stream comes from the database with the welcome, not from the replay.
	r, w := open(t, env.url, "u1", map[string]int64{"user:u1": 2, "org:new": 0})
	if got := seqOf(w, "user:u1"); got != 3 {
		t.Fatalf("resumed welcome: user:u1 at %d, want the head 3", got)
	}
	if got := seqOf(w, "org:new"); got != 1 {
		t.Fatalf("resumed welcome: org:new at %d, want 1", got)
	}
	r.events("user:u1", 2, 1)
	r.events("org:new", 0, 1)
	r.barrier()
}

// Replayed history on the user's own stream changes nothing: a resume
// from an old seq sends the old membership events, but a stream they added
// that the database no longer grants is not subscribed, and one they
// removed that the database grants stays.
func TestReplayedChangesAreHistory(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	env.log.addEvent("user:u1", "membership.decided", map[string]any{"feed": api.FeedChange{Add: map[string]int64{"org:old": 0}}})
	env.log.addEvent("user:u1", "membership.decided", map[string]any{"feed": api.FeedChange{Remove: []string{"org:shared"}}})
	env.log.addEvent("user:u1", "account.updated", map[string]any{"feed": api.FeedChange{End: "account suspended"}})
	env.log.add("org:old", 3, 10)
	env.log.add("org:shared", 2, 10)
	c, w := open(t, env.url, "u1", map[string]int64{"user:u1": 0, "org:old": 0, "org:shared": 0})
	if seqOf(w, "org:old") != -1 {
		t.Fatalf("welcome has org:old, which the user does not have: %v", w)
	}
	c.events("user:u1", 0, 3)
	c.events("org:shared", 0, 2)
	c.barrier()
	env.publish("org:old", 1, 10)
	env.publish("org:shared", 1, 10)
	c.events("org:shared", 2, 1)
	c.barrier()
}

// A client cannot skip a change of its access by claiming to have seen its
// own stream further than it could: a removal committed while it starts
// (after its streams were read) is sent and applied though the resume
// position is past it, and the removed stream's events no longer reach it.
func TestResumePastTheGrantSkipsNoChange(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	env.log.add("user:u1", 2, 10)
	duringStart(env, api.FeedChange{Remove: []string{"org:shared"}}, "user:u1")
	c, w := open(t, env.url, "u1", map[string]int64{"user:u1": 3, "org:shared": 0})
	if got := seqOf(w, "user:u1"); got != 3 {
		t.Fatalf("welcome: user:u1 at %d, want the head 3", got)
	}
	if ev := c.events("user:u1", 2, 1)[0]; ev.Event != "membership.decided" {
		t.Fatalf("got %v, want the removal, membership.decided", ev)
	}
	if s := c.next(); s.Type != "unsubscribed" || s.Stream != "org:shared" {
		t.Fatalf("got %v, want unsubscribed org:shared", s)
	}
	env.publish("org:shared", 1, 10)
	c.barrier() // nothing of org:shared before the barrier's answer
}

// duringStart commits a membership change of u1 (change, on user:u1; the
// database then grants streams) once, while the next connection starts:
// after its streams were read, when its heads are.
func duringStart(env *hubEnv, change api.FeedChange, streams ...string) {
	var once sync.Once
	env.log.mu.Lock()
	defer env.log.mu.Unlock()
	env.log.beforeHeads = func(heads []string) {
		if len(heads) > 1 { // the start's heads, after the memberships were read
			once.Do(func() {
				env.log.addEvent("user:u1", "membership.decided", map[string]any{"feed": change})
				env.mu.Lock()
				env.streamsOf["u1"] = streams
				env.mu.Unlock()
			})
		}
	}
}

// A change committed while a connection starts that removes a stream the
// client resumes is applied before that stream's history is sent: the
// client gets the change and `unsubscribed`, and none of the stream's
// events, resumed or live.
func TestResumeSkipsAStreamRemovedMeanwhile(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	env.log.add("org:shared", 3, 10)
	duringStart(env, api.FeedChange{Remove: []string{"org:shared"}}, "user:u1")
	c, _ := open(t, env.url, "u1", map[string]int64{"org:shared": 1})
	if ev := c.events("user:u1", 0, 1)[0]; ev.Event != "membership.decided" {
		t.Fatalf("got %v, want the removal, membership.decided", ev)
	}
	if s := c.next(); s.Type != "unsubscribed" || s.Stream != "org:shared" {
		t.Fatalf("got %v, want unsubscribed org:shared", s)
	}
	env.publish("org:shared", 1, 10)
	c.barrier() // nothing of org:shared: not its history, not the live event
}

// A heal whose read fails (the database is down) keeps what it held, in
// order behind the gap, and tries again: the connections on the stream do
// not each read the gap themselves (each failing, and each cut with 1011),
// and once the database is back every client gets the missed events and
// the held one, in order, on the same connection.
func TestFailedHealHoldsAndRetries(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	const n = 5
	var clients []*client
	for i := range n {
		c, _ := open(t, env.url, fmt.Sprintf("u%d", i), nil)
		clients = append(clients, c)
	}
	watcher, _ := open(t, env.url, "watcher", nil)
	env.publish("org:shared", 2, 10)
	for _, c := range append(clients, watcher) {
		c.events("org:shared", 0, 2)
	}
	reads := env.hub.Metrics().HealReads.Load()
	env.log.down.Store(true)
	evs := env.log.add("org:shared", 3, 10) // 3, 4, 5: only 5 reaches the hub
	env.hub.Deliver(evs[2:])
	watcher.quiet(1500 * time.Millisecond) // the hold (50 ms), a failed heal, a failed retry
	if got := env.hub.Metrics().HealReads.Load() - reads; got < 1 || got > 3 {
		t.Errorf("%d reads of the log while it was down, want the hub's heal and its retries (1-3), none per connection", got)
	}
	env.log.down.Store(false)
	for _, c := range clients {
		c.events("org:shared", 2, 3)
		c.barrier()
	}
}
