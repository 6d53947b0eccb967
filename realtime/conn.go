package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
)

// item is one thing for a connection's writer, in order: an event (with its
// shared prepared frame when it came from a broadcast), or a control step.
type item struct {
	ev *event.Event
	pm *websocket.PreparedMessage
	// expires is a fresh token's expiry in Unix nanoseconds, or pongItem
	// for a pong (an int, not a time.Time, keeps queue slots at 24 bytes).
	expires int64
}

// pongItem marks an item that answers a client's ping.
const pongItem = -1

// conn is one feed connection: the HTTP handler's goroutine reads, one
// writer goroutine writes everything (gorilla allows one writer).
type conn struct {
	hub     *Hub
	ws      *websocket.Conn
	userID  string
	id      Identity
	session string
	queue   chan item
	done    chan struct{}
	once    sync.Once
	kicked  atomic.Bool // counted in SlowKicked

	// Owned by the writer goroutine: the last seq written per stream. A
	// stream absent here is not delivered on this connection.
	last map[string]int64
}

// enqueue hands an item to the writer without blocking; false when the
// queue is full (the client is too slow) or the connection is ending.
func (c *conn) enqueue(it item) bool {
	select {
	case <-c.done:
		return true
	default:
	}
	select {
	case c.queue <- it:
		return true
	default:
		return false
	}
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
		close(c.done)
		msg := websocket.FormatCloseMessage(code, reason)
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		time.AfterFunc(2*time.Second, func() { c.ws.NetConn().Close() })
	})
}

// checkOrigin allows requests without Origin (non-browser clients), the
// configured origins, and otherwise only the server's own host.
func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range h.o.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	if len(h.o.AllowedOrigins) > 0 {
		return false
	}
	host := strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")
	return strings.EqualFold(host, r.Host)
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
	h.connWG.Add(1)
	c := &conn{hub: h, ws: ws, session: newSession(), queue: make(chan item, h.o.QueueSize),
		done: make(chan struct{}), last: map[string]int64{}}
	// No gorilla read limit: readFrame reads at most MaxClientFrameSize+1
	// bytes of a message and closes with 4400 past that, where the limit
	// would close with 1009. Registered before the hello, so that Close
	// ends connections still waiting for one too.
	if !h.register(c) {
		c.close(1001, "server going away")
		ws.Close()
		h.connWG.Done()
		return
	}
	hello, ok := c.readHello(r)
	if !ok {
		c.end()
		return
	}
	// The connection lives on in its own two goroutines and this handler
	// returns: net/http's per-connection state (buffers, the request, the
	// middleware frames on this goroutine's stack) is then garbage, which
	// keeps an idle feed connection small.
	go c.run(hello)
}

// run serves the connection after a good hello: the writer in its own
// goroutine, the reader here, until either ends.
func (c *conn) run(hello helloState) {
	defer c.end()
	select {
	case <-c.done: // closed meanwhile (Close)
		return
	default:
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.write(hello) })
	c.read()
	c.close(1000, "")
	wg.Wait()
}

// end releases the connection: socket, hub registration, Close's count.
func (c *conn) end() {
	c.ws.Close()
	c.hub.unregister(c)
	c.hub.connWG.Done()
}

func newSession() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// helloState is what the handshake established.
type helloState struct {
	frame   api.ClientFrame
	expires time.Time
}

// readHello waits (at most HelloTimeout) for the hello frame and checks its
// token, or the Authorization header of the upgrade for non-browser clients.
func (c *conn) readHello(r *http.Request) (helloState, bool) {
	h := c.hub
	c.ws.SetReadDeadline(time.Now().Add(h.o.HelloTimeout))
	f, err := c.readFrame()
	if err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			c.close(4408, "no hello in time")
		}
		return helloState{}, false
	}
	if f.Type != "hello" {
		c.close(4400, "the first frame must be hello")
		return helloState{}, false
	}
	token := f.Token
	if token == "" {
		token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	id, err := h.o.Auth(r.Context(), token)
	if err != nil || !time.Now().Before(id.Expires) { // expired, if within the verifier's leeway
		c.close(4401, "token missing, invalid or expired")
		return helloState{}, false
	}
	if h.o.HelloLimit != nil {
		if ok, retry := h.o.HelloLimit(r.Context(), id.UserID); !ok {
			c.close(4429, fmt.Sprintf("too many connections: retry in %d s", int(retry.Seconds())+1))
			return helloState{}, false
		}
	}
	c.userID, c.id = id.UserID, id
	return helloState{frame: f, expires: id.Expires}, true
}

// readFrame reads one text frame of at most MaxClientFrameSize bytes and
// decodes it; it closes the connection with 4400 for a bad frame.
func (c *conn) readFrame() (api.ClientFrame, error) {
	typ, rd, err := c.ws.NextReader()
	if err != nil {
		return api.ClientFrame{}, err
	}
	if typ != websocket.TextMessage {
		c.close(4400, "binary frames are not accepted")
		return api.ClientFrame{}, errBadFrame
	}
	b, err := io.ReadAll(io.LimitReader(rd, api.MaxClientFrameSize+1))
	if err != nil {
		return api.ClientFrame{}, err
	}
	f, err := DecodeClientFrame(b)
	if err != nil {
		c.close(4400, trimReason(err.Error()))
		return api.ClientFrame{}, err
	}
	return f, nil
}

// trimReason fits a close reason into a control frame (123 bytes).
func trimReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

// read serves the client's frames after hello until the connection ends.
func (c *conn) read() {
	h := c.hub
	deadline := func() { c.ws.SetReadDeadline(time.Now().Add(2*h.o.PingInterval + 10*time.Second)) }
	deadline()
	c.ws.SetPongHandler(func(string) error { deadline(); return nil })
	for {
		f, err := c.readFrame()
		if err != nil {
			return
		}
		deadline()
		if !c.handle(f) {
			return
		}
	}
}

// handle acts on one frame; false ends the connection.
func (c *conn) handle(f api.ClientFrame) bool {
	h := c.hub
	switch f.Type {
	case "hello":
		c.close(4400, "hello was already sent")
		return false
	case "token":
		id, err := h.o.Auth(context.Background(), f.Token)
		if err != nil || id.UserID != c.userID {
			c.close(4401, "token missing, invalid or expired")
			return false
		}
		return c.send(item{expires: id.Expires.UnixNano()})
	case "ack":
		if h.o.Acks != nil {
			h.o.Acks(context.Background(), c.userID, f.Stream, f.Seq, time.Now())
		}
	case "ping":
		return c.send(item{expires: pongItem})
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

// write is the connection's only writer: welcome, resumed history, then
// live events, pings and pongs, until the connection ends or the token
// expires.
func (c *conn) write(hs helloState) {
	if err := isolated(func() error { return c.start(hs.frame.Resume) }); err != nil {
		c.hub.o.Logger.Debug("feed start", slog.String("error", err.Error()))
		c.close(1011, "try again")
		return
	}
	ping := time.NewTicker(c.hub.o.PingInterval)
	defer ping.Stop()
	expiry := time.NewTimer(time.Until(hs.expires))
	defer expiry.Stop()
	for {
		var err error
		select {
		case <-c.done:
			return
		case <-expiry.C:
			c.close(4401, "token expired: send a token frame before expiry")
			return
		case <-ping.C:
			err = c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.o.WriteTimeout))
		case it := <-c.queue:
			err = c.do(it, expiry)
		}
		if err != nil {
			c.close(1011, "write failed")
			return
		}
	}
}

func (c *conn) do(it item, expiry *time.Timer) error {
	switch {
	case it.ev != nil:
		return c.deliver(it.ev, it.pm)
	case it.expires == pongItem:
		return c.writeJSON(map[string]string{"type": "pong"})
	case it.expires > 0:
		expiry.Reset(time.Until(time.Unix(0, it.expires)))
	}
	return nil
}

// writeJSON writes one frame built here (not shared).
func (c *conn) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.ws.SetWriteDeadline(time.Now().Add(c.hub.o.WriteTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// isolated runs fn on a short-lived goroutine and waits for it. start's
// database work needs a deep stack; run on the writer goroutine it would
// leave that long-lived goroutine's stack grown for the whole connection.
// The writer is blocked meanwhile, so there is still one writer at a time.
func isolated(fn func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- fn() }()
	return <-errc
}
