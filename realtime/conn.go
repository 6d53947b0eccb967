package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
)

// item is one thing for a connection's writer, in order: an event (with its
// shared frame when it came from a fan-out), or a control frame.
type item struct {
	ev    *event.Event
	frame []byte // the event's websocket frame, shared by the fan-out
	ctrl  int8   // pongItem or pingItem when ev is nil
}

// Control items.
const (
	pongItem = 1 // answers a client's ping frame
	pingItem = 2 // a websocket ping, for dead-peer detection
)

// conn is one feed connection. It has no goroutine of its own once its
// hello is done: a poller reads it when its client sends (reader.go; with
// goroutine readers a goroutine waits on its socket instead), and
// its outbox lends it to one of the hub's writers while items wait (see
// outbox, Hub.write).
type conn struct {
	hub     *Hub
	ws      *websocket.Conn
	userID  string
	own     string // the user's own stream
	session string
	once    sync.Once
	kicked  atomic.Bool // counted in SlowKicked
	bucket  uint8       // which of the hub's ping rounds pings it
	out     outbox

	// ctx ends when the connection closes: the database reads made for it
	// (the hello's, the start's, a change of access's, a token frame's)
	// are given up with it. Once upgraded, net/http no longer ends the
	// request's context when the client goes.
	ctx    context.Context
	cancel context.CancelFunc

	// The hub's watch (watch.go) reads these instead of socket deadlines,
	// which cost a timer update per frame: when the client last sent a
	// frame or pong (unix nanos; 0 until the hello is done), and when the
	// write in progress began (0 between writes).
	readAt   atomic.Int64
	writeAt  atomic.Int64
	wstate   atomic.Int32 // rawWriting, closeSent (batch.go)
	deadline atomic.Bool  // a control frame left a write deadline (batch.go)

	// The writer's batch of shared event frames not yet written
	// (batch.go): the first, the rest, their bytes.
	wfirst []byte
	wmore  [][]byte
	wlen   int

	mu     sync.Mutex
	id     Identity    // role and region change (apply)
	starts []position  // where each stream's delivery began, or was last acked: what an ack counts from
	expiry *time.Timer // closes with 4401 when the token expires
	closer *time.Timer // closes the socket after the close frame

	// Owned by the writer of the moment: the last seq written per stream.
	// A stream absent here is not delivered on this connection.
	last []written
	// live is the seq of the user's own stream read before the streams at
	// the start: later events there change the connection's streams.
	live int64

	subs []string // the streams the hub routes here; guarded by the hub's mu

	// Reading (reader.go): the passes' state, what waits between them,
	// and the socket a poller hears.
	rstate  atomic.Int32
	rd      *readState
	raw     syscall.RawConn
	pollFD  int32
	pollGen int32 // the poller's registration of it (poll_linux.go)
}

// position is how far a connection's stream was written.
type position struct {
	stream string
	seq    int64
}

// written is how far a connection's stream was written, and where the
// connection started it: the head read with its access (or the seq
// committed with the change that gave it). Events up to start were
// committed before that read, and an access.revoked among them (history
// of a stream the user lost before and has again) is not acted on.
type written struct {
	stream     string
	seq, start int64
}

// lastSeq is the last seq written on stream, and whether the connection
// has the stream.
func (c *conn) lastSeq(stream string) (int64, bool) {
	for _, p := range c.last {
		if p.stream == stream {
			return p.seq, true
		}
	}
	return 0, false
}

// has says whether the connection has stream (lost streams are forgotten).
func (c *conn) has(stream string) bool {
	_, ok := c.lastSeq(stream)
	return ok
}

// at is lastSeq without the second answer (0 for a stream not had).
func (c *conn) at(stream string) int64 {
	seq, _ := c.lastSeq(stream)
	return seq
}

// setLast records seq as stream's last written, if the connection has the
// stream: a stream lost meanwhile (access.revoked while its history was
// being written) is not brought back.
func (c *conn) setLast(stream string, seq int64) {
	for i := range c.last {
		if c.last[i].stream == stream {
			c.last[i].seq = seq
			return
		}
	}
}

// addStream adds stream, started at seq (see written); one it has already
// keeps its position, and its start moves up to seq.
func (c *conn) addStream(stream string, seq int64) {
	for i := range c.last {
		if c.last[i].stream == stream {
			c.last[i].start = max(c.last[i].start, seq)
			return
		}
	}
	c.last = append(c.last, written{stream, seq, seq})
}

// startOf is where the connection started stream (see written).
func (c *conn) startOf(stream string) int64 {
	for _, p := range c.last {
		if p.stream == stream {
			return p.start
		}
	}
	return 0
}

// forget drops stream: nothing more of it is written here.
func (c *conn) forget(stream string) {
	c.last = slices.DeleteFunc(c.last, func(p written) bool { return p.stream == stream })
	c.mu.Lock()
	c.starts = slices.DeleteFunc(c.starts, func(p position) bool { return p.stream == stream })
	c.mu.Unlock()
}

// started records that stream's delivery on this connection begins after
// seq: the client's acks of it count from there.
func (c *conn) started(stream string, seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.starts {
		if c.starts[i].stream == stream {
			c.starts[i].seq = seq
			return
		}
	}
	c.starts = append(c.starts, position{stream, seq})
}

// enqueue hands an item to the writer without blocking, lending the
// connection to a writer if none holds it; false when the queue is full
// (the client is too slow). Items for a connection that is ending are
// dropped.
func (c *conn) enqueue(it item) bool {
	ok, lend := c.out.push(it, c.hub.o.QueueSize)
	if lend {
		c.hub.write(c)
	}
	return ok
}

// drain is the writer: it writes queued items in order until the queue is
// empty (or the connection ended, or a write failed).
func (c *conn) drain() {
	for {
		batch, ok := c.out.take()
		if !ok {
			return
		}
		var err error
		for _, it := range batch {
			if err = c.do(it); err != nil {
				break
			}
		}
		if err == nil {
			err = c.flush()
		}
		if err != nil {
			c.fail("feed delivery", err)
			return
		}
	}
}

// fail ends the connection after its writer's err and lets the outbox go:
// nothing more when the connection ended already; 1011 when the client's
// socket failed; otherwise the database could not be read (a gap to fill,
// a change of access to check), and the client is asked to try again
// (1013) and counted as unavailable, as at the start.
func (c *conn) fail(what string, err error) {
	c.discard()
	var wf writeFailed
	switch {
	case errors.Is(err, errEnded), c.ctx.Err() != nil:
	case errors.As(err, &wf):
		c.hub.o.Logger.Debug("feed write", slog.String("error", err.Error()))
		c.close(1011, "write failed")
	default:
		c.unavailable(what, err)
	}
	c.out.release()
}

// unavailable closes the connection with 1013 (try again) after a read of
// a dependency failed, and counts it; a read that failed because the
// connection was closing meanwhile (a shutdown) is no outage.
func (c *conn) unavailable(what string, err error) {
	if c.ctx.Err() != nil {
		return
	}
	c.hub.unavailable(what, err)
	c.close(1013, tryLater)
}

// tooSlow counts the connection in SlowKicked, once however many events
// found its queue full before it closed; true for the call that counted.
func (c *conn) tooSlow() bool {
	if !c.kicked.CompareAndSwap(false, true) {
		return false
	}
	c.hub.o.Metrics.SlowKicked.Add(1)
	return true
}

// close ends the connection with code: a close frame (best effort, it may
// be stuck behind a full socket), then the socket after a grace period for
// the client's close reply.
func (c *conn) close(code int, reason string) {
	c.once.Do(func() {
		c.cancel()
		c.hub.o.Metrics.countClose(code)
		c.out.end()
		c.mu.Lock()
		expiry := c.expiry
		c.mu.Unlock()
		if expiry != nil {
			expiry.Stop()
		}
		c.sendClose(websocket.FormatCloseMessage(code, reason))
		// The client has a moment to answer the close; then the socket
		// goes, unless end closed it first (and stopped this).
		t := time.AfterFunc(2*time.Second, func() {
			c.ws.NetConn().Close()
			c.readStop() // no poller hears a closed socket
		})
		c.mu.Lock()
		c.closer = t
		c.mu.Unlock()
	})
}

// checkOrigin allows requests without Origin (non-browser clients), the
// server's own origin (the console) and the configured origins; a refusal
// (a 403 from the upgrader) is logged with its reason.
func (h *Hub) checkOrigin(r *http.Request) bool {
	return h.origins.Check(r, "feed handshake")
}

// ServeHTTP upgrades GET /v1/feed and serves the connection until it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"type":"/v1/problems/malformed","title":"Malformed request","status":400,"detail":"GET /v1/feed is a websocket (subprotocol jarimu.v1)"}`)
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	// writing: start acts as the writer until the welcome and the resumed
	// history are out; live events queue behind them.
	c := &conn{hub: h, ws: ws, session: newSession(), out: newOutbox()}
	c.ctx, c.cancel = context.WithCancel(context.Background()) // not r's: it would keep the request's values for the connection's life
	// gorilla never reads (reader.go answers pings and close frames).
	// Registered before the hello, so that Close ends connections still
	// waiting for one too.
	if !h.register(c) {
		c.close(1001, "server going away")
		ws.Close()
		return
	}
	hello, ok := c.readHello(r)
	if !ok {
		c.end()
		return
	}
	// The connection lives on in its own goroutines and this handler
	// returns: net/http's per-connection state (buffers, the request, the
	// middleware frames on this goroutine's stack) is then garbage, which
	// keeps an idle feed connection small.
	if !c.out.hold() { // closed meanwhile (Close)
		c.end()
		return
	}
	c.mu.Lock()
	c.expiry = time.AfterFunc(time.Until(hello.expires), func() {
		c.close(4401, "token expired: send a token frame before expiry")
	})
	c.mu.Unlock()
	c.begin(hello.frame.Resume, hello.start)
	c.startReading()
}

// begin is the first writer: the welcome and the resumed history, then
// whatever live events queued meanwhile. It runs on the upgrade's
// goroutine, which ends afterwards: its deep stack (the database work,
// the HTTP middleware) goes with it. The client's frames wait in the
// socket meanwhile.
func (c *conn) begin(resume map[string]int64, st Start) {
	if err := c.start(resume, st); err != nil {
		c.fail("feed start", err)
		return
	}
	if err := c.flush(); err != nil {
		c.fail("feed start", err)
		return
	}
	c.drain()
}

// end releases the connection: socket, timers, hub registration, Close's
// count.
func (c *conn) end() {
	if c.rstate.Load()&rPolled != 0 {
		c.hub.polls.Load().remove(c)
	}
	c.ws.Close()
	c.cancel()
	c.mu.Lock()
	for _, t := range []*time.Timer{c.expiry, c.closer} {
		if t != nil {
			t.Stop()
		}
	}
	c.mu.Unlock()
	c.hub.unregister(c)
	c.hub.connWG.Done()
}

// trimReason fits a close reason into a control frame (123 bytes).
func trimReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

// heard notes that the client is alive (see watch.go).
func (c *conn) heard() { c.readAt.Store(time.Now().UnixNano()) }

// handle acts on one frame; false ends the connection.
func (c *conn) handle(f api.ClientFrame) bool {
	h := c.hub
	switch f.Type {
	case "hello":
		c.close(4400, "hello was already sent")
		return false
	case "token":
		ctx, cancel := context.WithTimeout(c.ctx, startTimeout)
		id, err := h.o.Auth(ctx, f.Token)
		cancel()
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			// The check cannot be made now: the connection stays as it
			// was, with its current token's expiry; the client sends the
			// token again later.
			if c.ctx.Err() == nil { // not a close cutting the check short
				h.unavailable("feed token frame", err)
			}
			return true
		}
		if err != nil || id.UserID != c.userID {
			c.close(4401, "token missing, invalid or expired")
			return false
		}
		if !c.expiry.Reset(time.Until(id.Expires)) {
			return false // it expired meanwhile: the connection is closing
		}
	case "ack":
		if h.o.Acks != nil {
			// An ack covers what this connection delivered after its last
			// ack of the stream (or its start): the next one counts from
			// here, however long after (the reach counts each volunteer
			// once per alert without keeping every connection's position
			// in Acks's memory).
			c.mu.Lock()
			id := c.id
			from, ok := int64(0), false
			for i := range c.starts {
				if p := &c.starts[i]; p.stream == f.Stream {
					from, ok = p.seq, true
					p.seq = max(p.seq, f.Seq)
				}
			}
			c.mu.Unlock()
			if ok {
				h.o.Acks(id, f.Stream, from, f.Seq, time.Now())
			}
		}
	case "ping":
		return c.send(item{ctrl: pongItem})
	}
	return true
}

// send queues a control item from the reader; a full queue means the
// client does not read its frames: too slow.
func (c *conn) send(it item) bool {
	if !c.enqueue(it) {
		c.tooSlow()
		c.close(4429, "too slow: reconnect and resume")
		return false
	}
	return true
}

// do writes one item.
func (c *conn) do(it item) error {
	switch {
	case it.ev != nil:
		return c.deliver(it.ev, it.frame)
	case it.ctrl == pongItem:
		return c.writeJSON(map[string]string{"type": "pong"})
	case it.ctrl == pingItem:
		if err := c.flush(); err != nil {
			return err
		}
		err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.o.WriteTimeout))
		c.deadline.Store(true)
		if err != nil {
			return writeFailed{err}
		}
		return nil
	}
	return nil
}

// writing marks a write as begun: the hub's watch cuts one that takes
// longer than WriteTimeout.
func (c *conn) writing() { c.writeAt.Store(time.Now().UnixNano()) }

// wrote marks the write in progress as done.
func (c *conn) wrote() { c.writeAt.Store(0) }

// writeJSON writes one frame built here (not shared).
func (c *conn) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.writeText(b)
}

// writeText adds one text frame built here (not shared) to the batch, so
// that a welcome and the history resumed after it, or a pong behind
// events, go out in one write.
func (c *conn) writeText(b []byte) error {
	return c.buffer(textFrame(b))
}
