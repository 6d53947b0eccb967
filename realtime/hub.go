// Package realtime is the websocket feed (GET /v1/feed): the hello/welcome
// handshake, one reader and one writer goroutine per connection with a
// bounded queue, the hub that fans each committed event out to the
// connections on its stream (encoded once per broadcast), brokers that carry
// events between instances (in-process, Redis), and healing from the
// database so that nothing is lost: per connection when a seq is skipped,
// and per instance on a timer and whenever the broker may have dropped
// something.
package realtime

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/event"
)

// Log is what the feed reads from the event log (*event.Log).
type Log interface {
	After(ctx context.Context, stream string, after int64, limit int) ([]event.Event, error)
	Heads(ctx context.Context, streams []string) (map[string]int64, error)
	// HeadsSince reads at once the heads of streams and, per stream of
	// from, up to limit events from the given seq on (that one included),
	// in seq order.
	HeadsSince(ctx context.Context, streams []string, from map[string]int64, limit int) (map[string]int64, map[string][]event.Event, error)
}

// Identity is who a connection serves: the user, the role and region that
// decide their streams, and when their token expires.
type Identity struct {
	UserID  string
	Role    string
	Region  string
	Expires time.Time
}

// Authenticator verifies an access token and says whose it is. An error
// that wraps ErrUnauthorized means the token is refused (missing, malformed,
// expired, revoked, or its account is not active): the connection closes
// with 4401. Any other error means the check could not be made (the
// database or another dependency is down): never a bad token.
type Authenticator func(ctx context.Context, token string) (Identity, error)

// ErrUnauthorized marks an Authenticator's refusal of a token.
var ErrUnauthorized = errors.New("token refused")

// unavailableRetry is the delay a client is asked to wait before it
// reconnects when the server cannot check its token or start its feed
// (close 1013, "try again later").
const unavailableRetry = 5 * time.Second

// StreamsOf lists the streams a user's connection listens to now.
type StreamsOf func(ctx context.Context, id Identity) ([]string, error)

// Grant is what a user may have on the feed now, as the database says.
type Grant struct {
	Active  bool     // the account is active
	Role    string   // its role and region now
	Region  string   //
	Streams []string // the streams its connections may have now
}

// AccessOf reads a user's Grant from the database. The feed asks it before
// acting on a live change of the user's own stream that adds streams or
// ends the account: a stream is added only while the user has it now, and a
// connection is closed only while the account is not active now.
type AccessOf func(ctx context.Context, userID string) (Grant, error)

// HelloLimit decides whether a user may open one more feed connection now;
// when not, retry says when (the connection is closed with 4429).
type HelloLimit func(ctx context.Context, userID string) (ok bool, retry time.Duration)

// AckSink takes a client's ack (everything up to seq on stream received)
// of the user id, on the connection's reader: it must not block (no I/O).
type AckSink func(id Identity, stream string, seq int64, at time.Time)

// Options configure the hub. Zero durations and sizes take the defaults.
type Options struct {
	Log            Log
	Auth           Authenticator
	Streams        StreamsOf
	Access         AccessOf // nil: Streams of the connection's identity, always active (tests)
	Acks           AckSink
	AllowedOrigins []string      // browser origins allowed; none: same host only
	PingInterval   time.Duration // 25 s
	HelloTimeout   time.Duration // 10 s
	HelloLimit     HelloLimit    // nil: no per-user handshake limit
	WriteTimeout   time.Duration // 10 s per frame
	QueueSize      int           // 64 frames per connection
	SyncInterval   time.Duration // 5 s between checks of the log for missed events
	Logger         *slog.Logger
	Metrics        *Metrics
}

func (o *Options) defaults() {
	if o.PingInterval == 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.HelloTimeout == 0 {
		o.HelloTimeout = 10 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.QueueSize == 0 {
		o.QueueSize = 64
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = &Metrics{}
	}
}

// Metrics count what the hub does; read them with atomic loads.
type Metrics struct {
	Connections  atomic.Int64 // open now
	Delivered    atomic.Int64 // event frames written
	Healed       atomic.Int64 // events read back from the database to fill gaps
	SlowKicked   atomic.Int64 // connections closed with 4429
	Routed       atomic.Int64 // events fanned out by this hub
	DroppedInput atomic.Int64 // deliveries dropped because the hub's input was full
	HealReads    atomic.Int64 // reads of the log to fill gaps (per stream, or per connection)
	Unavailable  atomic.Int64 // hellos, token frames and starts that could not be checked (a dependency down)

	mu     sync.Mutex
	closed map[int]int64 // connections closed by the server, by close code
}

// countClose counts a connection closed by the server with code.
func (m *Metrics) countClose(code int) {
	m.mu.Lock()
	if m.closed == nil {
		m.closed = map[int]int64{}
	}
	m.closed[code]++
	m.mu.Unlock()
}

// Closed is how many connections the server closed, by close code.
func (m *Metrics) Closed() map[int]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.closed)
}

// unavailable logs, at warn, that a check could not be made because a
// dependency is down: the first time, then at most once per
// unavailableRetry with how many were not logged. An outage of the
// database makes every reconnecting phone fail alike; one line tells it.
func (h *Hub) unavailable(what string, err error) {
	h.o.Metrics.Unavailable.Add(1)
	now := time.Now().UnixNano()
	last := h.lastWarn.Load()
	if now-last < int64(unavailableRetry) || !h.lastWarn.CompareAndSwap(last, now) {
		h.quiet.Add(1)
		return
	}
	h.o.Logger.Warn(what+": cannot check now; the client was asked to retry (close 1013) or kept",
		slog.String("error", err.Error()), slog.Int64("not_logged_since_last", h.quiet.Swap(0)))
}

// Hub fans events out to this instance's connections.
type Hub struct {
	o        Options
	upgrader websocket.Upgrader

	mu         sync.Mutex
	streams    map[string]*subscribers
	held       map[string]map[int64]*event.Event // early events waiting for their predecessor
	conns      map[*conn]struct{}
	closing    bool
	registered uint64 // connections ever registered: spreads them over the ping rounds

	in       chan []event.Event
	work     chan *conn     // connections handed to an idle writer
	writerWG sync.WaitGroup // writer goroutines
	heal     chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup // the hub's own goroutines
	connWG   sync.WaitGroup // connection handlers

	lastWarn atomic.Int64 // when unavailable last logged (unix ns)
	quiet    atomic.Int64 // unavailable checks not logged since
}

// NewHub makes a hub; Run starts it.
func NewHub(o Options) *Hub {
	o.defaults()
	h := &Hub{o: o, streams: map[string]*subscribers{}, held: map[string]map[int64]*event.Event{},
		conns: map[*conn]struct{}{}, in: make(chan []event.Event, 4096), work: make(chan *conn), heal: make(chan struct{}, 1),
		stop: make(chan struct{})}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  256, // client frames are small; a larger hello reads through
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
}

// pingRounds is how many rounds one PingInterval is split into: each
// connection is pinged in one of them, so the pings (and the writers they
// start) are spread over the interval instead of all at once.
const pingRounds = 8

// pingLoop pings every connection once per PingInterval, one round of
// connections at a time, through their writers (a full queue is a slow
// client). Unanswered pings end a connection by its read deadline.
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

// Publish hands committed events to local connections; it never blocks. If
// the hub is far behind, the events are dropped here and found again by the
// next sync from the database. It satisfies event.Publisher.
func (h *Hub) Publish(_ context.Context, events []event.Event) { h.Deliver(events) }

// Deliver is Publish for brokers.
func (h *Hub) Deliver(events []event.Event) {
	select {
	case h.in <- events:
	default:
		h.o.Metrics.DroppedInput.Add(1)
		h.Heal()
	}
}

// Heal asks for a check of every stream served here against the log, e.g.
// after the broker reconnected and may have missed events.
func (h *Hub) Heal() {
	select {
	case h.heal <- struct{}{}:
	default:
	}
}

func (h *Hub) deliverLoop() {
	for {
		select {
		case <-h.stop:
			return
		case evs := <-h.in:
			for i := range evs {
				h.route(&evs[i], nil)
			}
		}
	}
}

func (h *Hub) syncLoop() {
	t := time.NewTicker(h.o.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		case <-h.heal:
		}
		h.sync()
	}
}

// sync reads the heads of every stream served here and heals each stream
// the hub has not seen to its head: events a broker dropped or delivered
// late.
func (h *Hub) sync() {
	ctx, cancel := context.WithTimeout(context.Background(), h.o.SyncInterval+10*time.Second)
	defer cancel()
	positions := h.positions()
	names := make([]string, 0, len(positions))
	for s := range positions {
		names = append(names, s)
	}
	for start := 0; start < len(names); start += 500 {
		batch := names[start:min(start+500, len(names))]
		heads, err := h.o.Log.Heads(ctx, batch)
		if err != nil {
			h.o.Logger.Warn("feed sync: read heads", slog.String("error", err.Error()))
			return
		}
		for _, s := range batch {
			if heads[s] > positions[s] {
				h.healStream(ctx, s)
			}
		}
	}
}

// healStream reads once what the hub has not routed of stream (after its
// routed position, up to healBatch events) and fans it out in order to
// every connection on the stream, with the events held for it; the
// connections then have no gap to fill each on its own. Database reads for
// healing grow with streams, not connections. One heal per stream runs at a
// time: a heal asked for meanwhile finds its events routed, or held ones
// are released by the heal that runs.
func (h *Hub) healStream(ctx context.Context, stream string) {
	h.mu.Lock()
	subs := h.streams[stream]
	if subs == nil || subs.healing {
		h.mu.Unlock()
		return
	}
	subs.healing = true
	from := subs.routed
	h.mu.Unlock()

	var evs []event.Event
	if from >= 0 {
		h.o.Metrics.HealReads.Add(1)
		var err error
		if evs, err = h.o.Log.After(ctx, stream, from, healBatch); err != nil {
			h.o.Logger.Warn("feed heal: read events", slog.String("stream", stream), slog.String("error", err.Error()))
		}
	}

	h.mu.Lock()
	subs.healing = false
	var slow []*conn
	if h.streams[stream] == subs && subs.len() > 0 {
		for i := range evs {
			if evs[i].Seq > subs.routed {
				h.o.Metrics.Healed.Add(1)
				slow = append(slow, h.fanOut(&evs[i], subs)...)
			}
		}
		slow = append(slow, h.releaseHeld(stream, subs)...)
		// Whatever is still held follows a hole the log no longer fills
		// (purged) or lies past this read: fan it out, the connections
		// fill or mark the rest.
		slow = append(slow, h.fanOutHeld(stream, subs)...)
	}
	h.mu.Unlock()
	h.kick(slow)
}

// healBatch is how many events one heal reads.
const healBatch = 1000

// positions snapshots the highest seq routed per served stream, leaving out
// streams whose position is not known yet (a sync from 0 would replay their
// whole history into the connections starting on them).
func (h *Hub) positions() map[string]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := make(map[string]int64, len(h.streams))
	for s, subs := range h.streams {
		if subs.routed >= 0 {
			p[s] = subs.routed
		}
	}
	return p
}

// route fans one event out to the connections on its stream, encoding it
// once. An event at or below the stream's routed seq was already sent (or
// is healed by each connection from the log). A connection whose queue is
// full is closed with 4429 and never slows the others.
func (h *Hub) route(ev *event.Event, _ *conn) {
	h.mu.Lock()
	subs := h.streams[ev.Stream]
	if subs == nil || subs.len() == 0 || ev.Seq <= subs.routed {
		h.mu.Unlock()
		return
	}
	if subs.routed >= 0 && ev.Seq > subs.routed+1 {
		if !h.hold(ev) { // too many held: heal at once
			stream := ev.Stream
			time.AfterFunc(0, func() { h.flushHeld(stream) })
		}
		h.mu.Unlock()
		return
	}
	slow := h.fanOut(ev, subs)
	slow = append(slow, h.releaseHeld(ev.Stream, subs)...)
	h.mu.Unlock()
	h.kick(slow)
}

// reorderWait is how long an event that arrived ahead of its predecessor
// (writers of one stream committing in another order than they numbered,
// or two instances' publishes crossing) waits for it before it is fanned
// out anyway. Without it, every connection on the stream would pause to
// read the missing event from the database at the same moment.
const reorderWait = 50 * time.Millisecond

// hold keeps an early event for up to reorderWait, then the stream is
// healed; false when too many are held already (the caller heals the
// stream at once: the event is not lost, the heal reads it back).
func (h *Hub) hold(ev *event.Event) bool {
	held := h.held[ev.Stream]
	if len(held) >= 256 {
		return false
	}
	if held == nil {
		held = map[int64]*event.Event{}
		h.held[ev.Stream] = held
		stream := ev.Stream
		time.AfterFunc(reorderWait, func() { h.flushHeld(stream) })
	}
	held[ev.Seq] = ev
	return true
}

// releaseHeld fans out held events that now follow in order. Caller holds mu.
func (h *Hub) releaseHeld(stream string, subs *subscribers) []*conn {
	var slow []*conn
	held := h.held[stream]
	for len(held) > 0 {
		next, ok := held[subs.routed+1]
		if !ok {
			break
		}
		delete(held, next.Seq)
		slow = append(slow, h.fanOut(next, subs)...)
	}
	if len(held) == 0 {
		delete(h.held, stream)
	}
	return slow
}

// flushHeld heals stream when the event it waited for did not come in
// time: one read of the log for every connection on the stream.
func (h *Hub) flushHeld(stream string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	h.healStream(ctx, stream)
}

// fanOutHeld fans out whatever is held for stream, in seq order. Caller
// holds mu.
func (h *Hub) fanOutHeld(stream string, subs *subscribers) []*conn {
	held := h.held[stream]
	delete(h.held, stream)
	seqs := make([]int64, 0, len(held))
	for seq := range held {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	var slow []*conn
	for _, seq := range seqs {
		if seq > subs.routed {
			slow = append(slow, h.fanOut(held[seq], subs)...)
		}
	}
	return slow
}

// fanOut encodes ev once and queues it on every connection of subs; it
// returns the connections whose queue was full. Caller holds mu.
func (h *Hub) fanOut(ev *event.Event, subs *subscribers) []*conn {
	subs.routed = ev.Seq
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, encodeEvent(ev))
	if err != nil {
		return nil
	}
	var slow []*conn
	subs.each(func(c *conn) {
		if !c.enqueue(item{ev: ev, pm: pm}) {
			slow = append(slow, c)
		}
	})
	h.o.Metrics.Routed.Add(1)
	return slow
}

// kick closes connections that could not keep up, once each.
func (h *Hub) kick(slow []*conn) {
	for _, c := range slow {
		if c.tooSlow() {
			go c.close(4429, "too slow: reconnect and resume")
		}
	}
}

// subscribe adds c to stream's routing; at is where c starts, or -1 when c
// does not know it yet (it is reading the heads). A stream new here starts
// at -1: every event is routed and syncs leave it out, until every
// connection on it knows where it starts; the routed position is then the
// lowest of those, so no event a connection still waits for (on its way
// through the broker, say) is dropped, and a gap is healed for all of them
// at once. Later, the routed position is raised to at only while c is
// alone on the stream (so a sync does not replay older events).
func (h *Hub) subscribe(c *conn, stream string, at int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.streams[stream]
	if subs == nil {
		subs = &subscribers{routed: -1, lowest: math.MaxInt64}
		h.streams[stream] = subs
	}
	i := slices.IndexFunc(c.subs, func(x sub) bool { return x.stream == stream })
	if i < 0 {
		subs.add(c)
		c.subs = append(c.subs, sub{stream: stream, known: at >= 0})
		if at < 0 {
			subs.unknown++
		}
	} else if at >= 0 && !c.subs[i].known {
		c.subs[i].known = true
		subs.unknown--
	}
	if at < 0 {
		return
	}
	if subs.routed < 0 {
		subs.lowest = min(subs.lowest, at)
		if subs.unknown == 0 {
			subs.routed = subs.lowest
		}
		return
	}
	if subs.len() == 1 && at > subs.routed {
		subs.routed = at
	}
}

// sub is one stream a connection is routed, and whether the hub knows
// where the connection starts on it.
type sub struct {
	stream string
	known  bool
}

// unsubscribe removes c from stream; an unserved stream is forgotten.
func (h *Hub) unsubscribe(c *conn, stream string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.IndexFunc(c.subs, func(x sub) bool { return x.stream == stream }); i >= 0 {
		h.leave(c, c.subs[i])
		c.subs = slices.Delete(c.subs, i, i+1)
	}
}

// leave takes c off one of its streams; an unserved stream is forgotten.
// Caller holds mu and keeps c.subs.
func (h *Hub) leave(c *conn, x sub) {
	subs := h.streams[x.stream]
	if subs == nil {
		return
	}
	subs.remove(c)
	if !x.known {
		subs.unknown--
		if subs.routed < 0 && subs.unknown == 0 && subs.lowest != math.MaxInt64 {
			subs.routed = subs.lowest
		}
	}
	if subs.len() == 0 {
		delete(h.streams, x.stream)
	}
}

// register adds a connection; false once the hub is closing.
func (h *Hub) register(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
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
		go c.close(1001, "server going away")
	}
	done := make(chan struct{})
	go func() { h.connWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		for _, c := range conns {
			c.ws.NetConn().Close()
		}
		<-done
	}
	close(h.stop)
	h.wg.Wait()
	h.writerWG.Wait()
}

// writerIdle is how long a writer goroutine waits for another connection
// to write to before it ends.
const writerIdle = 2 * time.Second

// write has a writer drain c: a writer that is waiting for work if there
// is one, else a new one. Writers are not bound to connections: an idle
// connection has none (the memory per connection stays small), and while
// events flow the same goroutines serve one connection after another,
// their stacks already grown, instead of a new goroutine per connection and
// event. A writer stuck on a slow socket holds only itself: the next
// connection gets another writer.
func (h *Hub) write(c *conn) {
	select {
	case h.work <- c:
	default:
		h.writerWG.Add(1)
		go h.writer(c)
	}
}

func (h *Hub) writer(c *conn) {
	defer h.writerWG.Done()
	idle := time.NewTimer(writerIdle)
	defer idle.Stop()
	for {
		c.drain()
		idle.Reset(writerIdle)
		select {
		case c = <-h.work:
		case <-idle.C:
			return
		case <-h.stop:
			return
		}
	}
}

// Connections is the number of open feed connections.
func (h *Hub) Connections() int { return int(h.o.Metrics.Connections.Load()) }

// subscribers are this instance's connections on one stream, and how far
// the stream was fanned out. Most streams (each user's own) have one
// subscriber: a short slice costs far less than a map for them.
type subscribers struct {
	few     []*conn            // up to fewSubscribers, while many is nil
	many    map[*conn]struct{} // once there were more
	routed  int64              // highest seq fanned out; -1 while unknown
	healing bool               // a heal of the stream reads the log now
	unknown int                // subscribers that do not know their start yet
	lowest  int64              // the lowest start given while routed is unknown
}

const fewSubscribers = 8

func (s *subscribers) len() int {
	if s.many != nil {
		return len(s.many)
	}
	return len(s.few)
}

// add adds c; false when it was there already.
func (s *subscribers) add(c *conn) bool {
	if s.many != nil {
		if _, ok := s.many[c]; ok {
			return false
		}
		s.many[c] = struct{}{}
		return true
	}
	if slices.Contains(s.few, c) {
		return false
	}
	if len(s.few) < fewSubscribers {
		s.few = append(s.few, c)
		return true
	}
	s.many = make(map[*conn]struct{}, 2*fewSubscribers)
	for _, x := range s.few {
		s.many[x] = struct{}{}
	}
	s.few = nil
	s.many[c] = struct{}{}
	return true
}

func (s *subscribers) remove(c *conn) {
	if s.many != nil {
		delete(s.many, c)
		return
	}
	if i := slices.Index(s.few, c); i >= 0 {
		s.few = slices.Delete(s.few, i, i+1)
	}
}

func (s *subscribers) each(fn func(*conn)) {
	if s.many != nil {
		for c := range s.many {
			fn(c)
		}
		return
	}
	for _, c := range s.few {
		fn(c)
	}
}
