package realtime_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// A hello reads its streams' heads before it joins them. An event committed
// after that read and fanned out here before the join is not routed to the
// new connection: it reads the event from the log itself, whether the
// stream had other connections here (the hub routed past the head), had
// none (the hub noted how far it routed the stream), or lost its last one
// in between. The sync that would heal it is an hour away here.
func TestJoinReadsWhatWasRoutedSinceItsHeads(t *testing.T) {
	t.Parallel()
	for _, stream := range []string{
		"org:shared", // others on the stream
		"org:quiet",  // no one on it
		"org:left",   // its last one left in between
	} {
		t.Run(stream, func(t *testing.T) {
			t.Parallel()
			env := startHub(t, realtime.Options{SyncInterval: time.Hour})
			env.streamsOf["u2"] = []string{"user:u2", stream}
			env.streamsOf["u3"] = []string{"user:u3", "org:left"}
			env.log.add(stream, 4, 10)
			witness, _ := open(t, env.url, "u1", nil) // on org:shared
			var leaver *client
			if stream == "org:left" {
				leaver, _ = open(t, env.url, "u3", nil)
			}
			whenStarting(env, "u2", func() {
				env.hub.Deliver(env.log.add(stream, 1, 10)) // seq 5
				switch stream {
				case "org:shared":
					witness.events("org:shared", 4, 1)
				case "org:quiet":
					// The hub routes in order: once the witness has an
					// event published after, seq 5 was routed (dropped
					// and noted).
					env.publish("org:shared", 1, 10)
					witness.events("org:shared", 0, 1)
				case "org:left":
					leaver.events("org:left", 4, 1)
					n := env.hub.Connections()
					leaver.ws.Close()
					waitFor(t, "u3's connection released", func() bool { return env.hub.Connections() < n })
				}
			})
			c, w := open(t, env.url, "u2", nil)
			if got := seqOf(w, stream); got != 4 {
				t.Fatalf("welcome: %s at %d, want 4 (the head it read)", stream, got)
			}
			c.events(stream, 4, 1)
			env.publish(stream, 1, 10)
			c.events(stream, 5, 1)
			c.barrier()
		})
	}
}

// With Hello, a hello that resumes every stream it has reads the database
// once (the grant with the heads and history); a stream it does not resume
// (a first connect) costs one more read of the log, as does history longer
// than the hello's read. The client gets the same either way.
func TestHelloReadsOnceWhenItResumesAll(t *testing.T) {
	t.Parallel()
	var env *hubEnv
	var hellos, accesses int
	var mu sync.Mutex
	grant := func(userID string, head int64) realtime.Grant {
		return realtime.Grant{Active: true, Role: "volunteer", Streams: []string{"user:" + userID, "org:shared"}, Head: head}
	}
	env = startHub(t, realtime.Options{
		Verify: tokenIsUser,
		Access: func(ctx context.Context, userID string) (realtime.Grant, error) {
			mu.Lock()
			accesses++
			mu.Unlock()
			heads, _ := env.log.Heads(ctx, []string{"user:" + userID})
			return grant(userID, heads["user:"+userID]), nil
		},
		Hello: func(ctx context.Context, userID string, from map[string]int64, limit int) (realtime.Start, error) {
			mu.Lock()
			hellos++
			mu.Unlock()
			own := "user:" + userID
			names := []string{own}
			for s := range maps.Keys(from) {
				if s != own {
					names = append(names, s)
				}
			}
			heads, since, err := env.log.HeadsSince(ctx, names, from, limit)
			return realtime.Start{Grant: grant(userID, heads[own]), Heads: heads, Since: since}, err
		},
	})
	feedReads := func() int {
		mu.Lock()
		defer mu.Unlock()
		return int(env.log.sinceCalls.Load()) - hellos
	}
	env.log.add("org:shared", 3, 10)
	env.log.add("user:u1", 2, 10)

	c, w := open(t, env.url, "u1", nil)
	if fmt.Sprint(w.Streams) != "[{user:u1 2} {org:shared 3}]" {
		t.Fatalf("welcome: %v", w.Streams)
	}
	c.barrier()
	if n := feedReads(); n != 1 {
		t.Fatalf("a first connect read the log %d times after the hello's read, want 1", n)
	}
	c.ws.Close()

	env.log.add("org:shared", 150, 10) // 4..153: more than the hello's read takes
	env.log.add("user:u1", 1, 10)
	c, w = open(t, env.url, "u1", map[string]int64{"user:u1": 2, "org:shared": 3, "org:not-mine": 0})
	if fmt.Sprint(w.Streams) != "[{user:u1 3} {org:shared 153}]" {
		t.Fatalf("welcome on resume: %v", w.Streams)
	}
	c.events("user:u1", 2, 1)
	c.events("org:shared", 3, 150)
	c.barrier()
	reads := feedReads()
	if reads != 1 {
		t.Fatalf("a resume read the log %d times after the hello's read, want once (the rest of org:shared's history)", reads)
	}
	mu.Lock()
	if hellos != 2 || accesses != 0 {
		t.Fatalf("Hello called %d times, Access %d times: want 2 and 0", hellos, accesses)
	}
	mu.Unlock()
	c.ws.Close()

	env.log.add("org:shared", 2, 10)
	c, _ = open(t, env.url, "u1", map[string]int64{"user:u1": 3, "org:shared": 153})
	c.events("org:shared", 153, 2)
	c.barrier()
	if n := feedReads(); n != reads {
		t.Fatalf("a resume within the hello's read read the log %d more times, want none", n-reads)
	}
}

// A Hello that reads, with the grant, the heads of every stream the grant
// gives (the app does, on PostgreSQL) makes a first connect one read: the
// feed reads nothing after it, and live events follow from those heads.
func TestFirstHelloWithTheGrantsHeadsReadsOnce(t *testing.T) {
	t.Parallel()
	var env *hubEnv
	var hellos atomic.Int32
	env = startHub(t, realtime.Options{
		Verify: tokenIsUser,
		Access: func(context.Context, string) (realtime.Grant, error) {
			t.Error("Access asked: the hello's read is the grant")
			return realtime.Grant{}, nil
		},
		Hello: func(ctx context.Context, userID string, from map[string]int64, limit int) (realtime.Start, error) {
			hellos.Add(1)
			own := "user:" + userID
			grant := []string{own, "org:shared", "region:national"}
			names := slices.Clone(grant)
			for s := range maps.Keys(from) {
				if !slices.Contains(names, s) {
					names = append(names, s)
				}
			}
			heads, since, err := env.log.HeadsSince(ctx, names, from, limit)
			return realtime.Start{Grant: realtime.Grant{Active: true, Role: "volunteer", Streams: grant, Head: heads[own]},
				Heads: heads, Since: since}, err
		},
	})
	env.log.add("org:shared", 3, 10)
	env.log.add("user:u1", 2, 10)
	c, w := open(t, env.url, "u1", nil)
	if fmt.Sprint(w.Streams) != "[{user:u1 2} {org:shared 3} {region:national 0}]" {
		t.Fatalf("welcome: %v", w.Streams)
	}
	env.publish("org:shared", 1, 10)
	env.publish("region:national", 1, 10)
	c.events("org:shared", 3, 1)
	c.events("region:national", 0, 1)
	c.barrier()
	if n := env.log.sinceCalls.Load() - hellos.Load(); n != 0 {
		t.Fatalf("a first connect read the log %d times after the hello's read, want none", n)
	}
	if n := env.hub.Metrics().HealReads.Load(); n != 0 {
		t.Fatalf("the connection filled a gap %d times, want none", n)
	}
}

// Connections joining a stream together whose heads differ (an event was
// committed between their reads, and no one here has been sent it yet)
// read nothing from the log: the hub routes from the older head, and the
// event, when it comes, goes to both; the one that read it drops it.
func TestJoinersShareWhatIsStillOnItsWay(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{SyncInterval: time.Hour})
	for _, u := range []string{"u2", "u3"} {
		env.streamsOf[u] = []string{"user:" + u, "org:busy"}
	}
	env.log.add("org:busy", 4, 10)
	var inFlight []event.Event
	var first *client
	whenStarting(env, "u3", func() { // u3 read org:busy at 4; u2 reads it at 5 and joins first
		inFlight = env.log.add("org:busy", 1, 10)
		var w frame
		first, w = open(t, env.url, "u2", nil)
		if got := seqOf(w, "org:busy"); got != 5 {
			t.Errorf("first joiner's welcome: org:busy at %d, want 5", got)
		}
	})
	second, w := open(t, env.url, "u3", nil)
	if got := seqOf(w, "org:busy"); got != 4 {
		t.Fatalf("second joiner's welcome: org:busy at %d, want 4", got)
	}
	env.hub.Deliver(inFlight)
	second.events("org:busy", 4, 1)
	env.publish("org:busy", 1, 10)
	second.events("org:busy", 5, 1)
	first.events("org:busy", 5, 1)
	first.barrier()
	second.barrier()
	if n := env.hub.Metrics().HealReads.Load(); n != 0 {
		t.Fatalf("joiners read the log %d times, want 0", n)
	}
}

// Connections that join a stream while a heal reads its log, with heads
// older than where the heal reads from (they read them before events the
// broker lost), lower the stream's routed position: the heal reads again
// from there, once for all of them, instead of leaving each a gap to fill
// with a read of its own.
func TestHealReadsAgainForJoinersWithOlderHeads(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{SyncInterval: time.Hour})
	for _, u := range []string{"u1", "u2", "u3"} {
		env.streamsOf[u] = []string{"user:" + u, "org:heal"}
	}
	env.log.add("org:heal", 3, 10)
	release := make(chan struct{})
	var reading sync.WaitGroup
	reading.Add(2)
	var once [2]sync.Once
	env.log.mu.Lock()
	env.log.afterHeads = func(streams []string) {
		for i, u := range []string{"u2", "u3"} {
			if len(streams) > 1 && slices.Contains(streams, "user:"+u) {
				once[i].Do(func() { reading.Done(); <-release })
			}
		}
	}
	env.log.mu.Unlock()
	joined := make(chan *client, 2)
	for _, u := range []string{"u2", "u3"} {
		go func() {
			c, w := open(t, env.url, u, nil)
			if got := seqOf(w, "org:heal"); got != 3 {
				t.Errorf("%s's welcome: org:heal at %d, want 3", u, got)
			}
			joined <- c
		}()
	}
	read := make(chan struct{})
	go func() { reading.Wait(); close(read) }()
	select { // u2 and u3 read org:heal at 3
	case <-read:
	case <-time.After(10 * time.Second):
		t.Fatal("u2 and u3 did not start their hellos")
	}
	env.log.add("org:heal", 2, 10) // 4, 5: committed, lost by the broker
	first, w := open(t, env.url, "u1", nil)
	if got := seqOf(w, "org:heal"); got != 5 {
		t.Fatalf("u1's welcome: org:heal at %d, want 5", got)
	}
	env.log.add("org:heal", 2, 10) // 6, 7: lost too
	ready := make(chan *client, 2)
	var healing sync.Once
	env.log.mu.Lock()
	env.log.duringAfter = func(stream string) {
		if stream == "org:heal" {
			healing.Do(func() { // the heal reads after 5; u2 and u3 join
				close(release)
				for range 2 {
					select {
					case c := <-joined:
						ready <- c
					case <-time.After(10 * time.Second):
						t.Error("u2 or u3 did not join")
						return
					}
				}
			})
		}
	}
	env.log.mu.Unlock()
	env.hub.Heal()
	first.events("org:heal", 5, 2)
	for range 2 {
		var c *client
		select {
		case c = <-ready:
		case <-time.After(10 * time.Second):
			t.Fatal("the joiners never joined")
		}
		c.events("org:heal", 3, 4)
		c.barrier()
	}
	first.barrier()
	if n := env.hub.Metrics().HealReads.Load(); n != 2 {
		t.Fatalf("the log was read %d times to heal, want 2 (the heal, then again from the joiners' heads)", n)
	}
}

// The last connection of a stream takes the stream's held events (early
// ones waiting for their predecessor) with it: a connection that read the
// head before them and joins after reads them from the log at once, where
// they used to stay held for a stream no one had, found only by a sync.
func TestHeldEventsLeaveWithTheLastConnection(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{SyncInterval: time.Hour})
	env.streamsOf["u2"] = []string{"user:u2", "org:held"}
	env.streamsOf["u3"] = []string{"user:u3", "org:held"}
	env.log.add("org:held", 4, 10)
	leaver, _ := open(t, env.url, "u3", nil)
	whenStarting(env, "u2", func() { // u2 read org:held at 4
		evs := env.log.add("org:held", 2, 10)
		env.hub.Deliver(evs[1:]) // 6 is held for 5, which is late
		n := env.hub.Connections()
		leaver.ws.Close()
		waitFor(t, "u3's connection released", func() bool { return env.hub.Connections() < n })
		time.Sleep(150 * time.Millisecond) // past the held event's wait (50 ms), which finds no one
	})
	c, w := open(t, env.url, "u2", nil)
	if got := seqOf(w, "org:held"); got != 4 {
		t.Fatalf("welcome: org:held at %d, want 4", got)
	}
	c.events("org:held", 4, 2)
	env.publish("org:held", 1, 10)
	c.events("org:held", 6, 1)
	c.barrier()
}

// A hello over its user's limit does not make the hello's large read: it
// reads the grant alone (Access), to close an account that is not active
// with 4401 (do not retry) and any other with 4429 (retry later).
func TestRefusedHelloReadsTheGrantAlone(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := map[string]int{}
	count := func(what string) {
		mu.Lock()
		calls[what]++
		mu.Unlock()
	}
	env := startHub(t, realtime.Options{
		Verify: tokenIsUser,
		Access: func(ctx context.Context, userID string) (realtime.Grant, error) {
			count("access")
			return realtime.Grant{Active: userID != "gone", Streams: []string{"user:" + userID}}, nil
		},
		Hello: func(ctx context.Context, userID string, from map[string]int64, limit int) (realtime.Start, error) {
			count("hello")
			return realtime.Start{Grant: realtime.Grant{Active: userID != "gone", Streams: []string{"user:" + userID}}}, nil
		},
		HelloLimit: func(_ context.Context, userID string) (bool, time.Duration) { return userID == "ok", 3 * time.Second },
	})
	resume := map[string]int64{"user:x": 0}
	hello(t, env.url, "many", resume).expectClose("hello over the limit", 4429, 5*time.Second)
	hello(t, env.url, "gone", resume).expectClose("hello over the limit of an account not active", 4401, 5*time.Second)
	c, _ := open(t, env.url, "ok", resume)
	c.barrier()
	mu.Lock()
	defer mu.Unlock()
	if calls["access"] != 2 || calls["hello"] != 1 {
		t.Fatalf("Access called %d times, Hello %d times: want 2 (the refused hellos) and 1 (the one let through)", calls["access"], calls["hello"])
	}
}

// An event that reaches the hub after one joiner read it (so the hub drops
// it as a copy) and before a joiner with an older head joins has passed
// here: that joiner reads it from the log at once, rather than waiting for
// the next event's gap or a sync.
func TestJoinerAfterADroppedCopyReadsIt(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{SyncInterval: time.Hour})
	for _, u := range []string{"u2", "u3"} {
		env.streamsOf[u] = []string{"user:" + u, "org:busy"}
	}
	env.log.add("org:busy", 4, 10)
	whenStarting(env, "u3", func() { // u3 read org:busy at 4; u2 reads it at 5 and joins
		ev := env.log.add("org:busy", 1, 10)
		first, _ := open(t, env.url, "u2", nil)
		env.hub.Deliver(ev)           // a copy for u2: dropped
		env.publish("user:u2", 1, 10) // routed in order: after seq 5
		first.events("user:u2", 0, 1)
	})
	second, w := open(t, env.url, "u3", nil)
	if got := seqOf(w, "org:busy"); got != 4 {
		t.Fatalf("welcome: org:busy at %d, want 4", got)
	}
	second.events("org:busy", 4, 1)
	second.barrier()
	if n := env.hub.Metrics().HealReads.Load(); n != 1 {
		t.Fatalf("%d reads of the log, want 1 (the second joiner's)", n)
	}
}

// whenStarting runs fn once, when user's connection has read its streams'
// heads and before it joins them (its first read of its own head alone, in
// the grant without Access, does not count).
func whenStarting(env *hubEnv, user string, fn func()) {
	var once sync.Once
	env.log.mu.Lock()
	defer env.log.mu.Unlock()
	env.log.afterHeads = func(streams []string) {
		if len(streams) > 1 && slices.Contains(streams, "user:"+user) {
			once.Do(fn)
		}
	}
}

// tokenIsUser verifies a token as its user's id, valid for an hour.
func tokenIsUser(_ context.Context, token string) (realtime.Identity, error) {
	return realtime.Identity{UserID: token, Stream: "user:" + token, Expires: time.Now().Add(time.Hour)}, nil
}
