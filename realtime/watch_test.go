package realtime_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/realtime"
)

// A client that stops reading (so it answers no ping) and sends nothing is
// dead after two ping intervals and 10 s: the server closes it. A client
// that reads, and so answers the pings, stays.
func TestSilentClientIsClosed(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{PingInterval: 100 * time.Millisecond})
	defer env.close()
	silent, _ := open(t, env.url, "silent", nil)
	alive, _ := open(t, env.url, "alive", nil)
	go func() { // reading answers the server's pings
		for {
			if _, err := alive.read(time.Minute); err != nil {
				return
			}
		}
	}()
	began := time.Now()
	deadline := began.Add(20 * time.Second)
	for env.hub.Metrics().Closed()[1000] == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(began)
	if env.hub.Metrics().Closed()[1000] != 1 {
		t.Fatalf("closed connections by code %v after %v: want the silent one closed (1000)", env.hub.Metrics().Closed(), took)
	}
	if took < 10*time.Second {
		t.Errorf("the silent client was closed after %v, before two ping intervals and 10 s", took)
	}
	if n := env.hub.Connections(); n != 1 {
		t.Errorf("%d connections open, want 1 (the client that reads)", n)
	}
	// The silent client finds its connection closed when it reads at last.
	for {
		if _, err := silent.read(5 * time.Second); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("the silent client's connection is still open")
			}
			break
		}
	}
}

// A write that blocks longer than WriteTimeout (the client's socket is full
// because it does not read) ends the connection with a failed write, even
// when its queue has room: the writer is not held forever.
func TestBlockedWriteIsCut(t *testing.T) {
	t.Parallel()
	env := startHubOn(t, realtime.Options{WriteTimeout: 500 * time.Millisecond, QueueSize: 100000},
		func(l net.Listener) net.Listener { return smallSendBuffers{l} })
	defer env.close()
	stuck := connect(t, env.url, nil, smallReadBuffers())
	stuck.send(api.ClientFrame{Type: "hello", Token: "stuck"})
	if w := stuck.next(); w.Type != "welcome" {
		t.Fatalf("got %v, want welcome", w)
	}
	env.publish("org:shared", 300, 1<<10) // far more than both socket buffers hold
	waitFor(t, "the blocked write to be cut", func() bool { return env.hub.Metrics().Closed()[1011] == 1 })
	if k := env.hub.Metrics().SlowKicked.Load(); k != 0 {
		t.Errorf("SlowKicked %d: the queue had room, the write timed out", k)
	}
	waitFor(t, "the connection to end", func() bool { return env.hub.Connections() == 0 })
}

// With fewer writers than connections, the connections beyond them wait in
// the hub's queue: every client still gets every event, in order.
func TestFewWritersServeEveryone(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{Writers: 2})
	defer env.close()
	const clients, events = 40, 30
	cs := make([]*client, clients)
	for i := range cs {
		cs[i], _ = open(t, env.url, fmt.Sprintf("u%d", i), nil)
	}
	env.publish("org:shared", events, 64)
	for i, c := range cs {
		for seq := int64(1); seq <= events; seq++ {
			f, err := c.read(5 * time.Second)
			if err != nil {
				t.Fatalf("client %d: %v after %d events", i, err, seq-1)
			}
			if f.Type != "event" || f.Stream != "org:shared" || f.Seq != seq {
				t.Fatalf("client %d: got %v, want event org:shared#%d", i, f, seq)
			}
		}
	}
}
