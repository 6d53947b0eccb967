package realtime_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

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

// A sync that runs while a connection is starting must not replay the
// stream's whole history into it (the stream's position is not known yet):
// that overflows its queue and cuts it off as too slow.
func TestSyncDuringStartDoesNotReplayHistory(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{QueueSize: 16})
	env.log.add("org:shared", 200, 10)
	var calls atomic.Int32
	synced := make(chan struct{})
	env.log.beforeHeads = func(streams []string) {
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
			if !slices.Contains(streams, "org:shared") {
				t.Errorf("sync read heads of %v, want org:shared among them", streams)
			}
			close(synced)
		}
	}
	c, w := open(t, env.url, "u1", nil)
	if got := seqOf(w, "org:shared"); got != 200 {
		t.Fatalf("welcome: org:shared at %d, want 200", got)
	}
	c.barrier()
	if k := env.hub.Metrics().SlowKicked.Load(); k != 0 {
		t.Errorf("got %d connections cut off as too slow, want 0", k)
	}
	env.publish("org:shared", 1, 10)
	c.events("org:shared", 200, 1)
}
