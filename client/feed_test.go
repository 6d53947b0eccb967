package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
)

const feedWait = 5 * time.Second

// fakeFeed is a feed endpoint on a fakeServer: it upgrades like the real
// one (subprotocol jarimu.v1), reads the hello, checks every client frame as
// strictly as the server does (closing 4400 otherwise), and hands each
// connection to the test, which plays the server's side.
type fakeFeed struct {
	conns chan *feedConn
}

// feedConn is the server's side of one connection.
type feedConn struct {
	t      *testing.T
	ws     *websocket.Conn
	header http.Header
	proto  string
	raw    []byte // the hello as sent
	hello  api.ClientFrame
	frames chan api.ClientFrame // after the hello
	done   chan struct{}        // closed when the client's side is gone
}

func newFakeFeed(t *testing.T, f *fakeServer) *fakeFeed {
	ff := &fakeFeed{conns: make(chan *feedConn, 16)}
	up := websocket.Upgrader{Subprotocols: []string{api.FeedSubprotocol}, CheckOrigin: func(*http.Request) bool { return true }}
	f.mux.HandleFunc("GET /v1/feed", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		fc := &feedConn{t: t, ws: ws, header: r.Header.Clone(), proto: ws.Subprotocol(),
			frames: make(chan api.ClientFrame, 1024), done: make(chan struct{})}
		defer close(fc.done)
		ws.SetReadDeadline(time.Now().Add(feedWait))
		fc.raw, fc.hello, err = fc.read()
		if err != nil {
			return
		}
		if fc.hello.Type != "hello" {
			fc.refuse("the first frame must be hello")
			return
		}
		ws.SetReadDeadline(time.Time{})
		ff.conns <- fc
		for {
			_, f, err := fc.read()
			if err != nil {
				return
			}
			if f.Type == "hello" {
				fc.refuse("hello was already sent")
				return
			}
			fc.frames <- f
		}
	})
	return ff
}

// read reads and checks one client frame as the server would.
func (fc *feedConn) read() ([]byte, api.ClientFrame, error) {
	var f api.ClientFrame
	typ, b, err := fc.ws.ReadMessage()
	if err != nil {
		return nil, f, err
	}
	bad := func(why string) ([]byte, api.ClientFrame, error) {
		fc.refuse(why)
		return nil, f, errors.New(why)
	}
	if typ != websocket.TextMessage || len(b) > api.MaxClientFrameSize {
		return bad("binary or too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return bad(err.Error())
	}
	switch f.Type {
	case "hello":
		if len(f.Resume) > 256 {
			return bad("resume too long")
		}
		for s, seq := range f.Resume {
			if s == "" || len(s) > 128 || seq < 0 {
				return bad("bad resume entry")
			}
		}
	case "token":
		if f.Token == "" {
			return bad("token frame without a token")
		}
	case "ack":
		if f.Stream == "" || f.Seq < 1 {
			return bad("bad ack")
		}
	case "ping":
	default:
		return bad("unknown type " + f.Type)
	}
	return b, f, nil
}

func (fc *feedConn) refuse(reason string) {
	fc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(api.CloseBadFrame, reason), time.Now().Add(time.Second))
}

// accept waits for the next connection that sent its hello.
func (ff *fakeFeed) accept(t *testing.T) *feedConn {
	t.Helper()
	select {
	case fc := <-ff.conns:
		return fc
	case <-time.After(feedWait):
		t.Fatal("no feed connection")
		return nil
	}
}

// none checks that no connection comes within d.
func (ff *fakeFeed) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-ff.conns:
		t.Fatalf("unexpected feed connection")
	case <-time.After(d):
	}
}

func (fc *feedConn) send(v any) {
	fc.t.Helper()
	fc.ws.SetWriteDeadline(time.Now().Add(feedWait))
	if err := fc.ws.WriteJSON(v); err != nil {
		fc.t.Fatalf("fake feed: write: %v", err)
	}
}

func (fc *feedConn) welcome(ping int, streams ...api.StreamPosition) {
	fc.t.Helper()
	fc.send(api.Welcome{Type: "welcome", Session: "s1", Streams: streams, PingInterval: ping})
}

func eventFrame(stream string, seq int64) api.EventFrame {
	return api.EventFrame{Type: "event", Stream: stream, Seq: seq, ID: fmt.Sprintf("%s#%d", stream, seq),
		Event: "task.created", At: time.Date(2029, 2, 14, 8, 0, 0, 0, time.UTC), Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, seq))}
}

func (fc *feedConn) events(stream string, seqs ...int64) {
	fc.t.Helper()
	for _, s := range seqs {
		fc.send(eventFrame(stream, s))
	}
}

// closeWith closes the connection as the server does: a close frame, then
// the socket once the client answered (or after a while).
func (fc *feedConn) closeWith(code int, reason string) {
	fc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	select {
	case <-fc.done:
	case <-time.After(2 * time.Second):
	}
	fc.ws.Close()
}

// next is the client's next frame after the hello.
func (fc *feedConn) next() api.ClientFrame {
	fc.t.Helper()
	select {
	case f := <-fc.frames:
		return f
	case <-time.After(feedWait):
		fc.t.Fatal("fake feed: no frame from the client")
		return api.ClientFrame{}
	}
}

// quiet checks that the client sends nothing within d.
func (fc *feedConn) quiet(d time.Duration) {
	fc.t.Helper()
	select {
	case f := <-fc.frames:
		fc.t.Fatalf("fake feed: unexpected frame %+v", f)
	case <-time.After(d):
	}
}

// running is a Feed whose Run runs on its own goroutine until the test
// ends.
type running struct {
	*Feed
	cancel context.CancelFunc
	done   chan error
	states chan FeedState
}

func startFeed(t *testing.T, c *Client, opts FeedOptions, tweak ...func(*Feed)) *running {
	t.Helper()
	r := &running{done: make(chan error, 1), states: make(chan FeedState, 256)}
	opts.OnState = func(s FeedState) { r.states <- s }
	r.Feed = c.Feed(opts)
	for _, tw := range tweak {
		tw(r.Feed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		go func() {
			for range r.Events() {
			}
		}()
		select {
		case <-r.done:
		case <-time.After(feedWait):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

// stop cancels Run and returns what it returned.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return r.result(t)
}

// result waits for Run to return by itself.
func (r *running) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(feedWait):
		t.Fatal("Run did not return")
		return nil
	}
}

func (r *running) next(t *testing.T) FeedEvent {
	t.Helper()
	select {
	case ev, ok := <-r.Events():
		if !ok {
			t.Fatal("Events closed")
		}
		return ev
	case <-time.After(feedWait):
		t.Fatal("no event")
		return FeedEvent{}
	}
}

// want checks the next deliveries, by type, stream and seq.
func (r *running) want(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		ev := r.next(t)
		if got := fmt.Sprintf("%s %s %d", ev.Type, ev.Stream, ev.Seq); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
}

func (r *running) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-r.Events():
		t.Fatalf("unexpected delivery %+v", ev)
	case <-time.After(d):
	}
}

// waitState waits until OnState reported s.
func (r *running) waitState(t *testing.T, s FeedState) {
	t.Helper()
	timeout := time.After(feedWait)
	for {
		select {
		case got := <-r.states:
			if got == s {
				return
			}
		case <-timeout:
			t.Fatalf("state %v never came", s)
		}
	}
}

func (r *running) stateLog() []FeedState {
	var out []FeedState
	for {
		select {
		case s := <-r.states:
			out = append(out, s)
		default:
			return out
		}
	}
}

func fast(f *Feed) {
	f.opts.MinBackoff, f.opts.MaxBackoff = time.Millisecond, 5*time.Millisecond
}

func frameString(f api.ClientFrame) string {
	return fmt.Sprintf("%s %s %d", f.Type, f.Stream, f.Seq)
}

func pos(name string, seq int64) api.StreamPosition { return api.StreamPosition{Name: name, Seq: seq} }

func TestFeedHelloDeliveryAndRepeats(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)), WithUserAgent("relawan/1.0"))
	r := startFeed(t, c, FeedOptions{Resume: map[string]int64{"user:u1": 5, "org:o1": 2}, Origin: "https://app.jarimu.id"})

	fc := ff.accept(t)
	if fc.proto != api.FeedSubprotocol {
		t.Errorf("subprotocol: got %q, want %q", fc.proto, api.FeedSubprotocol)
	}
	want := api.ClientFrame{Type: "hello", Token: "access-0", Resume: map[string]int64{"user:u1": 5, "org:o1": 2}}
	if fc.hello.Type != want.Type || fc.hello.Token != want.Token || !maps.Equal(fc.hello.Resume, want.Resume) {
		t.Errorf("hello: got %+v, want %+v", fc.hello, want)
	}
	if o, ua := fc.header.Get("Origin"), fc.header.Get("User-Agent"); o != "https://app.jarimu.id" || ua != "relawan/1.0" {
		t.Errorf("headers: Origin %q, User-Agent %q", o, ua)
	}

	fc.welcome(25, pos("user:u1", 7), pos("org:o1", 2), pos("region:national", 10))
	r.want(t, "subscribed region:national 10")
	fc.events("user:u1", 6, 7, 6, 7)
	fc.events("org:o1", 3, 3, 2)
	fc.events("user:u1", 5, 8)
	fc.events("region:national", 10, 11)
	first := r.next(t)
	if first.EventFrame.Type != "event" || !first.At.Equal(eventFrame("user:u1", 6).At) || first.ID != "user:u1#6" ||
		first.Event != "task.created" || string(first.Data) != `{"n":6}` {
		t.Errorf("event: got %+v", first)
	}
	r.want(t, "event user:u1 7", "event org:o1 3", "event user:u1 8", "event region:national 11")
	r.quiet(t, 100*time.Millisecond)
	if got, want := r.Positions(), map[string]int64{"user:u1": 8, "org:o1": 3, "region:national": 11}; !maps.Equal(got, want) {
		t.Errorf("positions: got %v, want %v", got, want)
	}
	// Positions is a copy.
	r.Positions()["user:u1"] = 99
	if r.Positions()["user:u1"] != 8 {
		t.Error("Positions must return a copy")
	}

	if err := r.stop(t); err != nil {
		t.Errorf("Run after cancel: got %v, want nil", err)
	}
	if _, ok := <-r.Events(); ok {
		t.Error("Events not closed after Run returned")
	}
	if err := r.Run(context.Background()); err == nil {
		t.Error("a second Run must fail")
	}
	if got := r.stateLog(); !slices.Equal(got, []FeedState{FeedConnecting, FeedConnected, FeedClosed}) {
		t.Errorf("states: got %v", got)
	}
}

func TestFeedReconnectsAndResumes(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{}, fast)

	fc := ff.accept(t)
	if len(fc.hello.Resume) != 0 {
		t.Errorf("first hello: got resume %v, want none", fc.hello.Resume)
	}
	fc.welcome(25, pos("user:u1", 0))
	r.want(t, "subscribed user:u1 0")

	endings := []struct {
		name string
		end  func(*feedConn)
	}{
		{"dropped", func(fc *feedConn) { fc.ws.Close() }},
		{"going away", func(fc *feedConn) { fc.closeWith(websocket.CloseGoingAway, "server going away") }},
		{"too slow", func(fc *feedConn) { fc.closeWith(api.CloseTooSlow, "too slow: reconnect and resume") }},
		{"internal", func(fc *feedConn) { fc.closeWith(websocket.CloseInternalServerErr, "try again") }},
		{"try again later", func(fc *feedConn) { fc.closeWith(websocket.CloseTryAgainLater, "") }},
		{"no hello in time", func(fc *feedConn) { fc.closeWith(api.CloseHelloTimeout, "") }},
	}
	seq := int64(0)
	for _, e := range endings {
		fc.events("user:u1", seq+1, seq+2)
		r.want(t, fmt.Sprintf("event user:u1 %d", seq+1), fmt.Sprintf("event user:u1 %d", seq+2))
		seq += 2
		e.end(fc)

		fc = ff.accept(t)
		if want := map[string]int64{"user:u1": seq}; !maps.Equal(fc.hello.Resume, want) || fc.hello.Token != "access-0" {
			t.Fatalf("after %s: hello %+v, want resume %v", e.name, fc.hello, want)
		}
		// The server resends from the resumed seq: the repeat is dropped.
		fc.welcome(25, pos("user:u1", seq+1))
		fc.events("user:u1", seq, seq+1)
		r.want(t, fmt.Sprintf("event user:u1 %d", seq+1))
		seq++
	}
	r.quiet(t, 50*time.Millisecond)
	if err := r.stop(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	got := r.stateLog()
	want := []FeedState{FeedConnecting, FeedConnected}
	for range endings {
		want = append(want, FeedReconnecting, FeedConnected)
	}
	want = append(want, FeedClosed)
	if !slices.Equal(got, want) {
		t.Errorf("states: got %v, want %v", got, want)
	}
}

func TestFeedBackoffHonorsCancel(t *testing.T) {
	f := newFakeServer(t)
	var hits atomic.Int32
	f.mux.HandleFunc("GET /v1/feed", counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "down", nil)
	}))
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	r.waitState(t, FeedReconnecting)
	start := time.Now()
	if err := r.stop(t); err != nil {
		t.Errorf("Run: got %v, want nil", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Run took %v to return after cancel", d)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("got %d dials, want 1", n)
	}
}

func TestFeedBackoffBounds(t *testing.T) {
	c := New("http://127.0.0.1:1")
	fd := c.Feed(FeedOptions{})
	if fd.opts.MinBackoff != 500*time.Millisecond || fd.opts.MaxBackoff != 30*time.Second || cap(fd.events) != 256 {
		t.Errorf("defaults: %v %v %d", fd.opts.MinBackoff, fd.opts.MaxBackoff, cap(fd.events))
	}
	fd = c.Feed(FeedOptions{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for n := range 70 {
		ceil := time.Second
		if n < 4 {
			ceil = 100 * time.Millisecond << n
		}
		var top time.Duration
		for range 200 {
			d := fd.backoff(n)
			if d < 0 || d >= ceil {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, ceil)
			}
			top = max(top, d)
		}
		if top < ceil/2 {
			t.Errorf("backoff(%d): the largest of 200 waits is %v, want it to spread up to %v", n, top, ceil)
		}
	}
}

func TestFeedURL(t *testing.T) {
	for base, want := range map[string]string{
		"http://127.0.0.1:8080":            "ws://127.0.0.1:8080/v1/feed",
		"https://jarimu.example.org/":      "wss://jarimu.example.org/v1/feed",
		"https://jarimu.example.org/api/":  "wss://jarimu.example.org/api/v1/feed",
		"wss://jarimu.example.org/api":     "wss://jarimu.example.org/api/v1/feed",
		"http://[::1]:8080/prefix%20x/sub": "ws://[::1]:8080/prefix%20x/sub/v1/feed",
	} {
		if got, err := feedURL(strings.TrimRight(base, "/")); got != want || err != nil {
			t.Errorf("feedURL(%q) = %q, %v; want %q", base, got, err, want)
		}
	}
	if _, err := feedURL("ftp://x"); err == nil {
		t.Error("ftp: want an error")
	}
	c := New("ftp://x", WithTokens(f0()))
	if err := c.Feed(FeedOptions{}).Run(context.Background()); err == nil {
		t.Error("Run with an ftp base: want an error")
	}
}

func f0() api.Tokens {
	return api.Tokens{AccessToken: "access-0", RefreshToken: "refresh-0", ExpiresIn: 900}
}

func TestFeedUnauthorizedRefreshesAndReconnects(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	// A backoff of an hour: the reconnection after a refresh is immediate.
	r := startFeed(t, c, FeedOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour})

	fc := ff.accept(t)
	fc.welcome(25, pos("user:u1", 3))
	r.want(t, "subscribed user:u1 3")
	fc.closeWith(api.CloseUnauthorized, "token expired: send a token frame before expiry")

	fc = ff.accept(t)
	if fc.hello.Token != "access-1" || !maps.Equal(fc.hello.Resume, map[string]int64{"user:u1": 3}) {
		t.Errorf("hello after 4401: got %+v, want access-1 resuming user:u1 at 3", fc.hello)
	}
	if n := f.refreshHits.Load(); n != 1 {
		t.Errorf("got %d refreshes, want 1", n)
	}
	fc.welcome(25, pos("user:u1", 3))
	fc.events("user:u1", 4)
	r.want(t, "event user:u1 4")
	if err := r.stop(t); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestFeedUnauthorizedRefreshRefused(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	f.refuseRefresh = true
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour})

	fc := ff.accept(t)
	fc.closeWith(api.CloseUnauthorized, "token missing, invalid or expired")
	err := r.result(t)
	if !errors.Is(err, ErrNotSignedIn) || !IsProblem(err, "invalid-refresh-token") {
		t.Errorf("got %v, want ErrNotSignedIn carrying the 401", err)
	}
	if got := c.Tokens(); got != (api.Tokens{}) {
		t.Errorf("tokens: got %+v, want none", got)
	}
}

func TestFeedSignedOut(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client()
	r := startFeed(t, c, FeedOptions{})
	if err := r.result(t); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("got %v, want ErrNotSignedIn", err)
	}
	ff.none(t, 50*time.Millisecond)
}

func TestFeedBadFrameStops(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{}, fast)

	fc := ff.accept(t)
	fc.welcome(25, pos("user:u1", 0))
	fc.closeWith(api.CloseBadFrame, "unknown type")
	err := r.result(t)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != api.CloseBadFrame || errors.Is(err, ErrNotSignedIn) {
		t.Errorf("got %v, want an error wrapping close 4400", err)
	}
	ff.none(t, 50*time.Millisecond)
}

func TestFeedResetAndStreamChanges(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{Resume: map[string]int64{"user:u1": 5, "org:o1": 1, "org:gone": 4}}, fast)

	fc := ff.accept(t)
	// org:gone is not named any more (the membership ended meanwhile).
	fc.welcome(25, pos("user:u1", 5), pos("org:o1", 9))
	r.want(t, "unsubscribed org:gone 0")

	fc.send(api.ResetFrame{Type: "reset", Stream: "org:o1", Seq: 9})
	r.want(t, "reset org:o1 9")
	fc.events("org:o1", 9, 10)
	r.want(t, "event org:o1 10")

	fc.send(api.StreamFrame{Type: "subscribed", Stream: "org:o2", Seq: 4})
	r.want(t, "subscribed org:o2 4")
	fc.events("org:o2", 4, 5)
	r.want(t, "event org:o2 5")

	fc.send(api.StreamFrame{Type: "unsubscribed", Stream: "org:o1"})
	r.want(t, "unsubscribed org:o1 0")
	fc.send(map[string]string{"type": "pong"})
	fc.send(map[string]any{"type": "something-new", "stream": "user:u1", "seq": 99})
	r.quiet(t, 50*time.Millisecond)
	if got, want := r.Positions(), map[string]int64{"user:u1": 5, "org:o2": 5}; !maps.Equal(got, want) {
		t.Errorf("positions: got %v, want %v", got, want)
	}

	fc.ws.Close()
	fc = ff.accept(t)
	if want := map[string]int64{"user:u1": 5, "org:o2": 5}; !maps.Equal(fc.hello.Resume, want) {
		t.Errorf("resume after the changes: got %v, want %v", fc.hello.Resume, want)
	}
}

func TestFeedResumeFitsTheServerLimits(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	resume := map[string]int64{"user:u1": 1, "": 3, "org:bad": -1}
	var named []api.StreamPosition
	for i := range 300 {
		s := fmt.Sprintf("org:00000000-0000-0000-0000-%012d", i)
		resume[s] = 1_000_000_000 + int64(i)
		named = append(named, pos(s, 1_000_000_500))
	}
	r := startFeed(t, c, FeedOptions{Resume: resume, Buffer: 4})

	fc := ff.accept(t)
	if len(fc.raw) > api.MaxClientFrameSize || len(fc.hello.Resume) > 256 || fc.hello.Resume["user:u1"] != 1 {
		t.Fatalf("hello of %d bytes resuming %d streams (user:u1 at %d)", len(fc.raw), len(fc.hello.Resume), fc.hello.Resume["user:u1"])
	}
	fc.welcome(25, append(named, pos("user:u1", 1))...)
	// Streams left out of the resume restart at the head: the app is told
	// to reload them.
	resets := map[string]bool{}
	for range 300 - (len(fc.hello.Resume) - 1) {
		ev := r.next(t)
		if ev.Type != FeedTypeReset || ev.Seq != 1_000_000_500 || fc.hello.Resume[ev.Stream] != 0 {
			t.Fatalf("got %+v, want a reset of a stream left out", ev)
		}
		resets[ev.Stream] = true
	}
	r.want(t, "unsubscribed  0", "unsubscribed org:bad 0")
	r.quiet(t, 50*time.Millisecond)
	if got := r.Positions(); len(got) != 301 {
		t.Errorf("got %d positions, want 301", len(got))
	}
}

func TestFeedRefreshesBeforeHello(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	clk := newClock()
	c, _ := f.client(withClock(clk), WithTokens(f.tokens(0)))
	// 50 s left: the Client's calls would still use the token, the feed
	// (which keeps it for long) refreshes it first.
	clk.Advance(850 * time.Second)
	startFeed(t, c, FeedOptions{})
	fc := ff.accept(t)
	if fc.hello.Token != "access-1" || f.refreshHits.Load() != 1 {
		t.Errorf("hello with %q after %d refreshes, want access-1 after 1", fc.hello.Token, f.refreshHits.Load())
	}
}

func TestFeedSendsTokenBeforeExpiry(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	f.expiresIn = 2 // the feed refreshes at half the lifetime: after 1 s
	c, _ := f.client(WithTokens(f.tokens(0)))
	startFeed(t, c, FeedOptions{})

	fc := ff.accept(t)
	if fc.hello.Token != "access-0" {
		t.Errorf("hello token: got %q, want access-0", fc.hello.Token)
	}
	fc.welcome(25, pos("user:u1", 0))
	start := time.Now()
	got := fc.next()
	if got.Type != "token" || got.Token != "access-1" {
		t.Fatalf("got %+v, want a token frame with access-1", got)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 1900*time.Millisecond {
		t.Errorf("token frame after %v, want about 1 s (before the 2 s expiry)", d)
	}
	if got := fc.next(); got.Type != "token" || got.Token != "access-2" {
		t.Fatalf("got %+v, want the next token frame with access-2", got)
	}
	if c.Tokens().AccessToken == "access-0" {
		t.Error("the Client's tokens were not replaced")
	}
}

func TestFeedKeeperRefusedRefresh(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	f.expiresIn = 2
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	fc := ff.accept(t)
	f.mu.Lock()
	f.refuseRefresh = true
	f.mu.Unlock()
	fc.welcome(25, pos("user:u1", 0))
	if err := r.result(t); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("got %v, want ErrNotSignedIn", err)
	}
}

func TestFeedAcks(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{}, func(fd *Feed) {
		// Made before Run: kept for the connection, one per stream; the
		// invalid ones are dropped.
		fd.Ack("user:u1", 3)
		fd.Ack("user:u1", 2)
		fd.Ack("", 5)
		fd.Ack("user:u1", 0)
		fd.Ack("org:o1", 1)
	})

	fc := ff.accept(t)
	fc.welcome(25, pos("user:u1", 3), pos("org:o1", 1))
	if a, b := fc.next(), fc.next(); frameString(a) != "ack org:o1 1" ||
		frameString(b) != "ack user:u1 3" {
		t.Errorf("acks: got %+v and %+v", a, b)
	}
	fc.quiet(50 * time.Millisecond)
	r.Ack("user:u1", 4)
	if a := fc.next(); frameString(a) != "ack user:u1 4" {
		t.Errorf("ack: got %+v", a)
	}
	fc.quiet(50 * time.Millisecond)
}

func TestFeedAutoAck(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{AutoAck: true, Buffer: 1, Resume: map[string]int64{"user:u1": 0}})

	fc := ff.accept(t)
	fc.welcome(25, pos("user:u1", 0))
	fc.send(api.ResetFrame{Type: "reset", Stream: "user:u1", Seq: 1}) // notices are not acked
	r.want(t, "reset user:u1 1")
	fc.events("user:u1", 2, 3)
	// 2 is handed to the channel (its buffer), 3 waits for the app.
	if a := fc.next(); frameString(a) != "ack user:u1 2" {
		t.Errorf("ack: got %+v, want user:u1 2", a)
	}
	fc.quiet(100 * time.Millisecond)
	r.want(t, "event user:u1 2", "event user:u1 3")
	if a := fc.next(); frameString(a) != "ack user:u1 3" {
		t.Errorf("ack: got %+v, want user:u1 3", a)
	}
	for i := int64(4); i <= 40; i++ {
		fc.events("user:u1", i)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 37 {
			<-r.Events()
		}
	}()
	var last int64 = 3
	for last < 40 {
		a := fc.next()
		if a.Type != "ack" || a.Stream != "user:u1" || a.Seq <= last || a.Seq > 40 {
			t.Fatalf("ack: got %+v after %d", a, last)
		}
		last = a.Seq
	}
	<-done
}

func TestFeedReconnectsWhenServerGoesSilent(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{}, fast, func(f *Feed) { f.readSlack = 200 * time.Millisecond })

	// Pings keep a quiet connection alive past the read deadline (2.2 s).
	fc := ff.accept(t)
	fc.welcome(1, pos("user:u1", 0))
	for range 6 {
		time.Sleep(500 * time.Millisecond)
		if err := fc.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-ff.conns:
		t.Fatal("reconnected although the server pinged")
	default:
	}
	// Silence: the feed gives up on the server and reconnects.
	start := time.Now()
	fc2 := ff.accept(t)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("reconnected after %v of silence, want about 2.2 s", d)
	}
	if !maps.Equal(fc2.hello.Resume, map[string]int64{"user:u1": 0}) {
		t.Errorf("resume: got %v", fc2.hello.Resume)
	}
	r.want(t, "subscribed user:u1 0")
}

func TestFeedOverTLSUsesTheClientsTransport(t *testing.T) {
	up := websocket.Upgrader{Subprotocols: []string{api.FeedSubprotocol}}
	hellos := make(chan api.ClientFrame, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		var h api.ClientFrame
		if ws.ReadJSON(&h) != nil {
			return
		}
		hellos <- h
		ws.WriteJSON(api.Welcome{Type: "welcome", Streams: []api.StreamPosition{pos("user:u1", 2)}, PingInterval: 25})
		ws.ReadMessage() // until the client leaves
	}))
	t.Cleanup(srv.Close)
	// srv.Client trusts the test certificate; the default transport would not.
	c := New(srv.URL, WithHTTPClient(srv.Client()), WithTokens(f0()))
	r := startFeed(t, c, FeedOptions{}, fast)
	r.want(t, "subscribed user:u1 2")
	if h := <-hellos; h.Token != "access-0" {
		t.Errorf("hello: %+v", h)
	}
}
