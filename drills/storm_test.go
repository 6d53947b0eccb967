package drills_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
)

// 5,000 feed handshakes with bad tokens (garbage, expired, signed by
// another key, of no account) or a bad hello, 200 at a time from
// 127.0.0.1-250, while a good client keeps calling GET /v1/me and holds a
// feed connection that receives events. Every bad handshake is closed with
// its code (4401, 4400); the good client is not starved and its feed
// gets every event once, in order; afterwards the hub holds only the good
// connection, and goroutines and heap are back near where they started.
func TestFeedHandshakeStorm(t *testing.T) {
	const (
		handshakes  = 5000
		concurrency = 200
	)
	b := dbtest.Backends(t)
	dbo := dbtest.Options(t, b[len(b)-1])
	limits := productionLimits(t)
	limits.UserWrites = nil // the admin changes accreditation faster than a person would
	e := startApp(t, app.Options{DatabaseURL: dbo.URL, DataDir: dbo.DataDir, MaxOpenConns: dbo.MaxOpenConns, Limits: limits})
	hc := newHTTPClient(10 * time.Second)
	f := newOrg(t, e, hc)
	hc.CloseIdleConnections()

	// The bad tokens.
	cfg := auth.TokenConfig{Issuer: "jarimu", Audience: "jarimu-api", TTL: 15 * time.Minute}
	expired, _, err := auth.NewTokens(e.App.Keys, cfg, func() time.Time { return time.Now().Add(-time.Hour) }).Issue(f.coord.User.ID, "volunteer")
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, err := auth.NewTokens(apptest.NewKeys(t), cfg, nil).Issue(f.coord.User.ID, "volunteer")
	if err != nil {
		t.Fatal(err)
	}
	nobody, _, err := auth.NewTokens(e.App.Keys, cfg, nil).Issue(auth.NewID(), "volunteer")
	if err != nil {
		t.Fatal(err)
	}
	kinds := []struct {
		name  string
		hello func(ws *websocket.Conn, i int) error
		want  int
	}{
		{"garbage token", func(ws *websocket.Conn, i int) error {
			return ws.WriteJSON(api.ClientFrame{Type: "hello", Token: fmt.Sprintf("not-a-token-%d", i)})
		}, api.CloseUnauthorized},
		{"expired token", func(ws *websocket.Conn, _ int) error {
			return ws.WriteJSON(api.ClientFrame{Type: "hello", Token: expired})
		}, api.CloseUnauthorized},
		{"token of another key", func(ws *websocket.Conn, _ int) error {
			return ws.WriteJSON(api.ClientFrame{Type: "hello", Token: foreign})
		}, api.CloseUnauthorized},
		{"token of no account", func(ws *websocket.Conn, _ int) error {
			return ws.WriteJSON(api.ClientFrame{Type: "hello", Token: nobody})
		}, api.CloseUnauthorized},
		{"bad hello", func(ws *websocket.Conn, i int) error {
			return ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","token":`))
		}, api.CloseBadFrame},
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed := startFeed(t, ctx, "good", e.URL, f.coord.Tokens.AccessToken, f.stream())

	// Where the process stands before the storm.
	settle := func() (goroutines int, heap uint64) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return runtime.NumGoroutine(), m.HeapInuse
	}
	g0, h0 := settle()
	if c := e.App.Hub.Connections(); c != 1 {
		t.Fatalf("the hub counts %d connections before the storm, want 1", c)
	}

	// The good client: GET /v1/me back to back, and an event every 500 ms.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var meTook []time.Duration
	var meBad []string
	good := newHTTPClient(10 * time.Second)
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			a := do(good, "GET", e.URL+"/v1/me", nil, bearer(f.coord.Tokens.AccessToken)...)
			meTook = append(meTook, a.Took)
			if a.Status != http.StatusOK {
				meBad = append(meBad, a.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	var writes []answer
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			writes = append(writes, f.toggle(e, good, i))
		}
	})
	// Peaks, sampled.
	var peakG, peakConns atomic.Int64
	var peakHeap atomic.Uint64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peakHeap.Store(max(peakHeap.Load(), m.HeapInuse))
			peakG.Store(max(peakG.Load(), int64(runtime.NumGoroutine())))
			peakConns.Store(max(peakConns.Load(), int64(e.App.Hub.Connections())))
		}
	})

	// The storm.
	var next atomic.Int64
	var mu sync.Mutex
	outcomes := map[string]int{}
	var hsTook []time.Duration
	start := time.Now()
	var storm sync.WaitGroup
	for range concurrency {
		storm.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= handshakes {
					return
				}
				k := kinds[i%len(kinds)]
				t0 := time.Now()
				got := badHandshake(e.URL, i+1, func(ws *websocket.Conn) error { return k.hello(ws, i) })
				d := time.Since(t0)
				outcome := k.name + ": " + got
				if got == fmt.Sprintf("closed %d", k.want) {
					outcome = k.name + ": ok"
				}
				mu.Lock()
				outcomes[outcome]++
				hsTook = append(hsTook, d)
				mu.Unlock()
			}
		})
	}
	storm.Wait()
	stormTook := time.Since(start)
	close(stop)
	wg.Wait()
	good.CloseIdleConnections()

	var wrong []string
	for o, n := range outcomes {
		if !strings.HasSuffix(o, ": ok") {
			wrong = append(wrong, fmt.Sprintf("%d× %s", n, o))
		}
	}
	sort.Strings(wrong)
	t.Logf("%d bad handshakes in %v (%.0f/s; each p50 %v, p99 %v); peaks: %d feed connections, %d goroutines, heap in use %d MiB",
		handshakes, stormTook.Round(time.Millisecond), float64(handshakes)/stormTook.Seconds(),
		percentile(hsTook, 50).Round(time.Millisecond), percentile(hsTook, 99).Round(time.Millisecond),
		peakConns.Load(), peakG.Load(), peakHeap.Load()>>20)
	if len(wrong) > 0 {
		t.Errorf("handshakes not closed with their code: %s", strings.Join(wrong, "; "))
	}

	// The good client was served throughout.
	t.Logf("good client: %d GET /v1/me, p50 %v, p99 %v, slowest %v; %d events written",
		len(meTook), percentile(meTook, 50).Round(time.Millisecond), percentile(meTook, 99).Round(time.Millisecond),
		percentile(meTook, 100).Round(time.Millisecond), len(writes))
	if len(meBad) > 0 {
		t.Errorf("%d GET /v1/me failed during the storm, first: %s", len(meBad), meBad[0])
	}
	// Not a speed target (those are met in benchmarks): the bound only
	// catches a good client starved by the storm. The machine is shared by
	// the whole suite, so the p99 is logged above and bounded loosely here.
	if p := percentile(meTook, 99); p > 5*time.Second {
		t.Errorf("GET /v1/me p99 %v during the storm: the good client was starved (want under 5 s)", p)
	}
	for _, w := range writes {
		if !w.ok() {
			t.Errorf("accreditation change during the storm: %v", w)
		}
	}
	head, err := e.App.Events.Head(context.Background(), f.stream())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := waitFor(10*time.Second, func() bool { return feed.lastSeq() >= head }); !ok {
		t.Errorf("the good feed is at #%d, head #%d, 10 s after the storm", feed.lastSeq(), head)
	}

	// Everything the storm took is given back.
	if d, ok := waitFor(10*time.Second, func() bool { return e.App.Hub.Connections() == 1 }); !ok {
		t.Errorf("the hub counts %d connections 10 s after the storm, want 1 (the good one)", e.App.Hub.Connections())
	} else {
		t.Logf("hub back to 1 connection %v after the storm", d.Round(time.Millisecond))
	}
	var g1 int
	var h1 uint64
	time.Sleep(3 * time.Second) // a refused connection's socket is closed 2 s after its close frame
	waitFor(15*time.Second, func() bool {
		g1, h1 = settle()
		return g1 <= g0+20
	})
	t.Logf("goroutines %d before, %d after; heap in use %d MiB before, %d MiB after", g0, g1, h0>>20, h1>>20)
	if g1 > g0+20 {
		t.Errorf("%d goroutines 15 s after the storm, %d before", g1, g0)
		buf := make([]byte, 1<<20)
		t.Logf("goroutines:\n%s", tail(string(buf[:runtime.Stack(buf, true)]), 8000))
	}
	if h1 > h0+64<<20 {
		t.Errorf("heap in use grew from %d MiB to %d MiB over the storm", h0>>20, h1>>20)
	}
	cancel()
	<-feed.ended
	feed.check(t, head)
	if len(feed.reconnects) > 0 {
		t.Errorf("the good feed had to reconnect during the storm: %v", feed.reconnects)
	}
}

// badHandshake opens the feed from 127.0.0.(1+i%250), sends hello and
// reads until the server ends the connection: "closed CODE", or what else
// happened.
func badHandshake(base string, i int, hello func(*websocket.Conn) error) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, resp, err := localDialer(i).DialContext(ctx, feedURL(base), nil)
	if err != nil {
		if resp != nil {
			return fmt.Sprintf("upgrade refused: HTTP %d", resp.StatusCode)
		}
		return "dial: " + errorClass(err)
	}
	defer ws.Close()
	if err := hello(ws); err != nil {
		return "hello: " + errorClass(err)
	}
	ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			return "got a frame"
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return fmt.Sprintf("closed %d", ce.Code)
		}
		return "no close frame: " + errorClass(err)
	}
}

// errorClass is err without the addresses that make each one unique.
func errorClass(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}
