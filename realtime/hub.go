// Package realtime is the websocket feed (GET /v1/feed): the hello/welcome
// handshake; connections with no goroutine of their own while idle (the
// hub's pollers read a connection when its client sends, and an outbox
// lends it to one of the hub's writers while frames wait); the hub that fans each committed event out to the
// connections on its stream (encoded once per broadcast); brokers that
// carry events between instances (in-process, Redis, Redis Cluster, Redis
// Sentinel); and healing from the database so that nothing is lost: per
// stream, once for all of an instance's connections, when a broker dropped
// or delayed events. A connection's streams come from the database at hello
// and from live changes of the user's access, never from history.
package realtime

import (
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/lograte"
	"github.com/jarimu/jarimu/origin"
)

// Hub fans events out to this instance's connections.
type Hub struct {
	o        Options
	upgrader websocket.Upgrader

	mu         sync.Mutex
	streams    map[string]*subscribers
	held       map[string]map[int64]*event.Event // early events waiting for their predecessor
	quiet      quiet                             // how far streams without subscribers were routed lately
	conns      map[*conn]struct{}
	closing    bool
	registered uint64 // connections ever registered: spreads them over the ping rounds

	in      chan []event.Event
	writers writers
	heal    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup // the hub's own goroutines
	connWG  sync.WaitGroup // connection handlers
	tasks   sync.WaitGroup // short jobs run by after

	polls atomic.Pointer[pollers] // nil: a goroutine reads each connection

	origins *origin.Policy
	warn    lograte.Limiter // of unavailable
	refused lograte.Limiter // of pollerRefused
}

// NewHub makes a hub; Run starts it.
func NewHub(o Options) *Hub {
	o.defaults()
	h := &Hub{o: o, streams: map[string]*subscribers{}, held: map[string]map[int64]*event.Event{},
		conns: map[*conn]struct{}{}, in: make(chan []event.Event, 4096), writers: newWriters(), heal: make(chan struct{}, 1),
		stop: make(chan struct{}), origins: origin.New(o.AllowedOrigins, o.Logger), warn: lograte.Limiter{Every: unavailableRetry},
		refused: lograte.Limiter{Every: time.Minute}}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  125, // the least gorilla takes; it never reads (reader.go)
		WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{},
		Subprotocols:    []string{"jarimu.v1"},
		CheckOrigin:     h.checkOrigin,
	}
	return h
}

// Metrics are the hub's counters.
func (h *Hub) Metrics() *Metrics { return h.o.Metrics }

// Run fans out deliveries and checks the log for missed events until Close.
func (h *Hub) Run() {
	h.wg.Go(h.deliverLoop)
	h.wg.Go(h.syncLoop)
	h.wg.Go(h.pingLoop)
	h.wg.Go(h.watchLoop)
	if !h.o.ReaderGoroutines {
		ps, err := newPollers(runtime.GOMAXPROCS(0), h.o.Logger)
		if err != nil {
			h.o.Logger.Warn("feed: no poller, a goroutine reads each connection", slog.String("error", err.Error()))
		}
		if ps != nil { // nil elsewhere than Linux
			ps.run(h.wg.Go)
			h.polls.Store(ps)
		}
	}
}

// pingRounds is how many rounds one PingInterval is split into: each
// connection is pinged in one of them, so the pings (and the writers they
// start) are spread over the interval instead of all at once.
const pingRounds = 8

// pingLoop pings every connection once per PingInterval, one round of
// connections at a time, through their writers (a full queue is a slow
// client). Unanswered pings end a connection by the watch (watch.go).
func (h *Hub) pingLoop() {
	t := time.NewTicker(h.o.PingInterval / pingRounds)
	defer t.Stop()
	var round uint8
	var due []*conn
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		round = (round + 1) % pingRounds
		due = due[:0]
		h.mu.Lock()
		for c := range h.conns {
			if c.bucket == round {
				due = append(due, c)
			}
		}
		h.mu.Unlock()
		var slow []*conn
		for _, c := range due {
			if !c.enqueue(item{ctrl: pingItem}) {
				slow = append(slow, c)
			}
		}
		h.kick(slow)
		clear(due)
	}
}

// register adds a connection, counted in connWG until end; false once the
// hub is closing. Counting under mu, after the check, orders every Add
// before Close's Wait (a WaitGroup must not grow from zero while waited on).
func (h *Hub) register(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.connWG.Add(1)
	h.conns[c] = struct{}{}
	h.registered++
	c.bucket = uint8(h.registered % pingRounds)
	h.o.Metrics.Connections.Add(1)
	return true
}

// unregister removes a connection from every stream.
func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return
	}
	delete(h.conns, c)
	for _, x := range c.subs {
		h.leave(c, x)
	}
	c.subs = nil
	h.o.Metrics.Connections.Add(-1)
}

// Close closes every connection with 1001 (going away) so clients resume on
// another instance, waits up to timeout for them, and stops the hub.
// http.Server.Shutdown does not close hijacked websockets; this does.
func (h *Hub) Close(timeout time.Duration) {
	h.mu.Lock()
	h.closing = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		h.after(0, func() { c.close(1001, "server going away") })
	}
	done := make(chan struct{})
	h.after(0, func() { h.connWG.Wait(); close(done) })
	select {
	case <-done:
	case <-time.After(timeout):
		for _, c := range conns {
			c.ws.NetConn().Close()
			c.readStop()
		}
		<-done
	}
	if ps := h.polls.Load(); ps != nil {
		ps.close()
	}
	close(h.stop)
	h.wg.Wait()
	h.writers.wg.Wait()
	h.tasks.Wait()
}

// after runs fn after d on a goroutine of its own that the hub owns: Close
// waits for it. The hub's short jobs go through it: closing a connection
// (its close frame may wait for a full socket), healing a stream whose
// early event waited in vain.
func (h *Hub) after(d time.Duration, fn func()) {
	h.tasks.Add(1)
	time.AfterFunc(d, func() {
		defer h.tasks.Done()
		fn()
	})
}

// pollerRefused logs, at warn and at most once a minute, that a poller
// could not take a connection (a goroutine reads it instead).
func (h *Hub) pollerRefused(err error) {
	if ok, skipped := h.refused.Allow(); ok {
		h.o.Logger.Warn("feed: a poller refused a connection; a goroutine reads it", slog.String("error", err.Error()), slog.Int64("more", skipped))
	}
}

// Connections is the number of open feed connections.
func (h *Hub) Connections() int { return int(h.o.Metrics.Connections.Load()) }
