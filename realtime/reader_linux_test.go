package realtime_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/jarimu/jarimu/realtime"
)

// With the hub's pollers an idle connection has no goroutine of its own;
// with a goroutine per connection it has one. (Not parallel: it counts the
// process's goroutines.)
func TestIdleConnectionsHaveNoGoroutine(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		name string
		o    realtime.Options
		min  int // goroutines more than before, at least
		max  int // and at most
	}{
		// At least -n/10: goroutines of earlier tests may still be ending.
		{"pollers", realtime.Options{}, -n / 10, n / 10},
		{"goroutines", realtime.Options{ReaderGoroutines: true}, n - n/10, n + n/10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := startHub(t, tc.o)
			tok := env.token("u1", time.Now().Add(time.Hour))
			before := runtime.NumGoroutine()
			clients := make([]*client, n)
			for i := range clients {
				clients[i], _ = open(t, env.url, tok, nil)
			}
			// The handlers' goroutines end once the welcome is out.
			var grown int
			deadline := time.Now().Add(5 * time.Second)
			for {
				grown = runtime.NumGoroutine() - before
				if grown <= tc.max || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if grown < tc.min || grown > tc.max {
				t.Fatalf("%d idle connections: %d goroutines more, want %d..%d", n, grown, tc.min, tc.max)
			}
			// And every connection still reads: each answers a ping.
			for _, c := range clients {
				c.barrier()
			}
		})
	}
}

// A poller that cannot take a connection leaves it to a goroutine of its
// own: the connection works as any other.
func TestPollerRefusalFallsBackToGoroutine(t *testing.T) {
	const n = 20
	env := startHub(t, realtime.Options{})
	realtime.StopPollers(env.hub)
	tok := env.token("u1", time.Now().Add(time.Hour))
	before := runtime.NumGoroutine()
	clients := make([]*client, n)
	for i := range clients {
		clients[i], _ = open(t, env.url, tok, nil)
	}
	for _, c := range clients {
		c.barrier()
	}
	if grown := runtime.NumGoroutine() - before; grown < n-n/10 {
		t.Fatalf("%d connections refused by the pollers: %d goroutines more, want a reader each", n, grown)
	}
	for _, c := range clients {
		c.ws.Close()
	}
	waitFor(t, "no connection left", func() bool { return env.hub.Connections() == 0 })
}
