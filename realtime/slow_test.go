package realtime_test

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/realtime"
)

// A client that does not read is cut off with 4429 while a reading client
// on the same stream gets every event within normal latency; nothing is
// left running once the hub is closed. Not parallel: goleak counts
// goroutines.
func TestSlowClientIsCutOff(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	env := startHubOn(t, realtime.Options{QueueSize: 16}, func(l net.Listener) net.Listener { return smallSendBuffers{l} })
	defer env.close()

	// Socket buffers small on both ends.
	slow := connect(t, env.url, nil, smallReadBuffers())
	slow.send(api.ClientFrame{Type: "hello", Token: "slow"})
	fast, _ := open(t, env.url, "fast", nil)
	if w := slow.next(); w.Type != "welcome" {
		t.Fatalf("slow client: got %v, want welcome", w)
	}

	const n = 400
	published := make([]time.Time, n+1) // by seq
	type arrival struct {
		f  frame
		at time.Time
	}
	received := make(chan arrival, n)
	readErr := make(chan error, 1)
	go func() {
		for range n {
			f, err := fast.read(5 * time.Second)
			if err != nil {
				readErr <- err
				return
			}
			received <- arrival{f, time.Now()}
		}
		readErr <- nil
	}()
	for i := 1; i <= n; i++ {
		published[i] = time.Now()
		env.publish("org:shared", 1, 1<<10)
		if i%2 == 0 {
			time.Sleep(time.Millisecond) // busy, but not a single burst
		}
	}
	if err := <-readErr; err != nil {
		t.Fatalf("the reading client lost its connection: %v", err)
	}
	close(received)
	seq := int64(0)
	var worst time.Duration
	for a := range received {
		seq++
		if a.f.Type != "event" || a.f.Stream != "org:shared" || a.f.Seq != seq {
			t.Fatalf("reading client: got %v, want event org:shared#%d", a.f, seq)
		}
		worst = max(worst, a.at.Sub(published[seq]))
	}
	if worst > 2*time.Second {
		t.Errorf("the reading client got an event %v after its publish, want at most 2 s", worst)
	}
	t.Logf("worst latency of the reading client: %v", worst)
	waitFor(t, "the slow client to be cut off", func() bool { return env.hub.Metrics().SlowKicked.Load() >= 1 })
	if k := env.hub.Metrics().SlowKicked.Load(); k != 1 {
		t.Errorf("got %d clients cut off, want 1 (only the slow one)", k)
	}

	// The slow client reads now: events in order, then 4429, or the
	// connection dropped when the close frame could not get through.
	want := int64(1)
	for {
		f, err := slow.read(5 * time.Second)
		if err != nil {
			var ce *websocket.CloseError
			var ne net.Error
			switch {
			case errors.As(err, &ce) && ce.Code != api.CloseTooSlow && ce.Code != websocket.CloseAbnormalClosure:
				t.Errorf("slow client: got close %d, want %d (or the connection dropped)", ce.Code, api.CloseTooSlow)
			case errors.As(err, &ne) && ne.Timeout():
				t.Errorf("slow client: still open after being cut off")
			}
			t.Logf("the slow client read %d events, then: %v", want-1, err)
			break
		}
		if f.Type != "event" || f.Seq != want {
			t.Fatalf("slow client: got %v, want event #%d", f, want)
		}
		want++
	}
	if want > n {
		t.Errorf("the slow client got all %d events; it was not cut off", n)
	}
	fast.barrier()
	fast.ws.Close()
	slow.ws.Close()
	env.close()
}

// SlowKicked counts connections cut off, not the events that found their
// queue full: a burst to a client that does not read counts it once.
func TestSlowKickedCountsConnections(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{QueueSize: 4})
	c, _ := open(t, env.url, "u1", nil)
	env.publish("org:shared", 500, 10) // one burst, routed in one loop
	for {
		f, err := c.read(5 * time.Second)
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != api.CloseTooSlow {
				t.Fatalf("got %v, want close 4429", err)
			}
			break
		}
		if f.Type != "event" {
			t.Fatalf("got %v, want events, then close 4429", f)
		}
	}
	waitFor(t, "the connection to end", func() bool { return env.hub.Connections() == 0 })
	if k := env.hub.Metrics().SlowKicked.Load(); k != 1 {
		t.Errorf("got SlowKicked %d for one connection, want 1", k)
	}
}

// While a connection starts (here: its resumed history is long, and the
// read of its second part is slow), the live events of its streams queue
// behind it: more of them than the queue holds (64) do not make the client
// too slow. It gets the history, then every one of them, in order, and
// stays. A client that stops reading once started is still cut off.
func TestSlowStartIsNotCutOff(t *testing.T) {
	t.Parallel()
	env := startHubOn(t, realtime.Options{}, func(l net.Listener) net.Listener { return smallSendBuffers{l} })
	env.log.add("org:shared", 600, 10) // the first read of the history gets 500
	reached, release := make(chan struct{}), make(chan struct{})
	var reads atomic.Int32
	var releaseOnce sync.Once
	let := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(let)
	env.log.mu.Lock()
	env.log.duringAfter = func(stream string) {
		// The first read of org:shared is the hello's (HeadsSince), the
		// second the rest of the history, after the welcome.
		if stream == "org:shared" && reads.Add(1) == 2 {
			close(reached)
			<-release
		}
	}
	env.log.mu.Unlock()

	c := connect(t, env.url, nil, smallReadBuffers())
	c.send(api.ClientFrame{Type: "hello", Token: "m", Resume: map[string]int64{"org:shared": 0}})
	if w := c.next(); w.Type != "welcome" || seqOf(w, "org:shared") != 600 {
		t.Fatalf("got %v, want welcome with org:shared at 600", w)
	}
	c.events("org:shared", 0, 500)
	<-reached // the start reads the rest of the history
	const live = 100
	routed := env.hub.Metrics().Routed.Load()
	env.publish("org:shared", live, 10)
	waitFor(t, "the live events to be queued", func() bool { return env.hub.Metrics().Routed.Load() == routed+live })
	let()
	c.events("org:shared", 500, 100+live)
	c.barrier()
	if k := env.hub.Metrics().SlowKicked.Load(); k != 0 {
		t.Fatalf("got %d clients cut off, want none", k)
	}

	// Started, the client stops reading: cut off once its queue is full.
	for i := 0; i < 100 && env.hub.Metrics().SlowKicked.Load() == 0; i++ {
		env.publish("org:shared", 50, 1<<10)
		time.Sleep(10 * time.Millisecond)
	}
	waitFor(t, "the client that stopped reading to be cut off", func() bool { return env.hub.Metrics().SlowKicked.Load() == 1 })
	for {
		_, err := c.read(5 * time.Second)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != api.CloseTooSlow && ce.Code != websocket.CloseAbnormalClosure {
			t.Errorf("got close %d, want %d (or the connection dropped)", ce.Code, api.CloseTooSlow)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("still open after being cut off")
		}
		break
	}
}
