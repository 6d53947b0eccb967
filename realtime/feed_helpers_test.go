package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// ---- a feed client ---------------------------------------------------------

// frame is any server frame, decoded loosely.
type frame struct {
	Type         string               `json:"type"`
	Session      string               `json:"session"`
	Streams      []api.StreamPosition `json:"streams"`
	PingInterval int                  `json:"ping_interval"`
	Stream       string               `json:"stream"`
	Seq          int64                `json:"seq"`
	ID           string               `json:"id"`
	Event        string               `json:"event"`
	At           time.Time            `json:"at"`
	Data         json.RawMessage      `json:"data"`
}

func (f frame) String() string {
	if f.Type == "event" {
		return fmt.Sprintf("event %s#%d %s", f.Stream, f.Seq, f.Event)
	}
	return fmt.Sprintf("%s %s %d", f.Type, f.Stream, f.Seq)
}

// client is one feed connection seen from the client side.
type client struct {
	t  testing.TB
	ws *websocket.Conn
}

// feedURL is the websocket URL of GET /v1/feed on an http:// base URL.
func feedURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/v1/feed" }

// connect opens the websocket without sending anything.
func connect(t testing.TB, base string, hdr http.Header, d *websocket.Dialer) *client {
	t.Helper()
	if d == nil {
		d = &websocket.Dialer{}
	}
	d.Subprotocols = []string{api.FeedSubprotocol}
	ws, resp, err := d.Dial(feedURL(base), hdr)
	if err != nil {
		t.Fatalf("dial feed: %v (%v)", err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

// hello connects and sends hello with token and resume.
func hello(t testing.TB, base, token string, resume map[string]int64) *client {
	t.Helper()
	c := connect(t, base, nil, nil)
	c.send(api.ClientFrame{Type: "hello", Token: token, Resume: resume})
	return c
}

// open connects, says hello and returns the welcome.
func open(t testing.TB, base, token string, resume map[string]int64) (*client, frame) {
	t.Helper()
	c := hello(t, base, token, resume)
	w := c.next()
	if w.Type != "welcome" {
		t.Fatalf("got %v, want welcome", w)
	}
	return c, w
}

// seqOf is a stream's position in a welcome (-1 when absent).
func seqOf(w frame, stream string) int64 {
	for _, s := range w.Streams {
		if s.Name == stream {
			return s.Seq
		}
	}
	return -1
}

func (c *client) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("send %v: %v", v, err)
	}
}

func (c *client) sendRaw(typ int, b []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(typ, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// read is the next frame, or the error that ended the wait.
func (c *client) read(timeout time.Duration) (frame, error) {
	c.ws.SetReadDeadline(time.Now().Add(timeout))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("server frame is not JSON: %q", b)
	}
	return f, nil
}

// next is the next frame; it fails the test when none comes within 5 s.
func (c *client) next() frame {
	c.t.Helper()
	f, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// events reads n event frames of stream, skipping nothing: any other frame
// fails the test. They must carry seqs from+1..from+n in order.
func (c *client) events(stream string, from int64, n int) []frame {
	c.t.Helper()
	out := make([]frame, 0, n)
	for i := range n {
		f := c.next()
		want := from + int64(i) + 1
		if f.Type != "event" || f.Stream != stream || f.Seq != want {
			c.t.Fatalf("frame %d: got %v, want event %s#%d", i, f, stream, want)
		}
		out = append(out, f)
	}
	return out
}

// barrier sends a ping and reads up to its pong; it fails the test on any
// frame in between. Frames are written in order by one writer, so whatever
// was queued before the ping would show up here.
func (c *client) barrier() {
	c.t.Helper()
	c.send(api.ClientFrame{Type: "ping"})
	if f := c.next(); f.Type != "pong" {
		c.t.Fatalf("got %v, want nothing before the pong", f)
	}
}

// closed waits for the end of the connection and returns its close code; it
// fails the test when any data frame arrives first. A connection dropped
// without a close frame gives -1.
func (c *client) closed(what string, timeout time.Duration) int {
	c.t.Helper()
	f, err := c.read(timeout)
	if err == nil {
		c.t.Errorf("%s: got %v, want the connection to close", what, f)
		return c.closed(what, timeout)
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("%s: the connection is still open after %v", what, timeout)
	}
	return -1
}

// expectClose fails the test unless the connection closes with code.
func (c *client) expectClose(what string, code int, timeout time.Duration) {
	c.t.Helper()
	if got := c.closed(what, timeout); got != code {
		c.t.Errorf("%s: got close code %d, want %d", what, got, code)
	}
}

// quiet fails the test when any frame arrives within d.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	f, err := c.read(d)
	if err == nil {
		c.t.Fatalf("got %v, want nothing for %v", f, d)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		c.t.Fatalf("got %v, want the connection to stay open", err)
	}
	// A read timeout leaves a gorilla connection unusable; the caller is done
	// with it.
}

// ---- app fixtures ----------------------------------------------------------

// appendEvents writes n events to stream, one committed transaction each,
// through the app's event log (so they are published as a service would).
func appendEvents(t testing.TB, e *apptest.Env, stream, name string, n int) []event.Event {
	t.Helper()
	out := make([]event.Event, 0, n)
	for i := range n {
		err := e.App.Events.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			ev, err := event.Append(ctx, tx, stream, name, map[string]int{"i": i})
			out = append(out, ev)
			return err
		})
		if err != nil {
			t.Fatalf("append to %s: %v", stream, err)
		}
	}
	return out
}

// purgeAll ages every event not kept forever by three months and runs
// retention as the chores do (on PostgreSQL, the events move to their
// month's partition, which is then dropped), so all of them go; events
// appended afterwards stay.
func purgeAll(t testing.TB, e *apptest.Env) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if _, err := e.App.DB.NewRaw("UPDATE events SET at = ? WHERE NOT kept", now.AddDate(0, -3, 0)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Events.Partition(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Events.Purge(ctx, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// orgFixture is an accredited national org with its first coordinator.
type orgFixture struct {
	admin, coord api.AuthResponse
	org          api.Org
}

func (f orgFixture) stream() string       { return "org:" + f.org.ID }
func (f orgFixture) reviewStream() string { return "review:" + f.org.ID }

var orgSeq struct {
	sync.Mutex
	n int
}

func newOrg(t testing.TB, e *apptest.Env) orgFixture {
	t.Helper()
	orgSeq.Lock()
	orgSeq.n++
	n := orgSeq.n
	orgSeq.Unlock()
	admin := e.User(t, "admin", "root", "")
	coord := e.User(t, "volunteer", "coord", "31")
	r := e.Do(t, "POST", "/v1/orgs", map[string]any{"name": fmt.Sprintf("KIPP %d", n),
		"accreditation_number": fmt.Sprintf("RT/%05d", n), "accredited_until": time.Now().Add(90 * 24 * time.Hour),
		"coordinator_email": coord.User.Email}, apptest.Bearer(admin.Tokens.AccessToken)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create org: got %d %s", r.Status, r.Body)
	}
	var o api.Org
	r.Decode(t, &o)
	return orgFixture{admin: admin, coord: coord, org: o}
}

// toggleAccreditation suspends (even i) or renews (odd i) the org through
// HTTP: one org.accreditation_changed event on its stream each time.
func toggleAccreditation(t testing.TB, e *apptest.Env, f orgFixture, i int) {
	t.Helper()
	body := map[string]any{"action": "suspend", "reason": "laporan dana kampanye belum"}
	if i%2 == 1 {
		body = map[string]any{"action": "renew", "reason": "laporan diterima", "until": time.Now().Add(90 * 24 * time.Hour)}
	}
	r := e.Do(t, "POST", "/v1/orgs/"+f.org.ID+"/accreditation", body, apptest.Bearer(f.admin.Tokens.AccessToken)...)
	if r.Status != http.StatusOK {
		t.Fatalf("accreditation %v: got %d %s", body["action"], r.Status, r.Body)
	}
}

// craftToken signs an access token for userID with the app's key, valid
// until exp, as auth.Tokens would.
func craftToken(t testing.TB, e *apptest.Env, userID string, exp time.Time) string {
	t.Helper()
	k := e.App.Keys.Current().Signing()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "jarimu", "aud": "jarimu-api",
		"sub": userID, "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(), "jti": fmt.Sprint(now.UnixNano()), "role": "volunteer"})
	tok.Header["kid"] = k.ID
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ---- a hub on its own, over an in-memory log --------------------------------

// memLog is an in-memory realtime.Log.
type memLog struct {
	mu      sync.Mutex
	streams map[string][]event.Event
	heads   map[string]int64 // the last seq given out, purged or not
	// beforeHeads, when set, runs at the start of every Heads call;
	// afterHeads after it read them.
	beforeHeads, afterHeads func(streams []string)
	// duringAfter, when set, runs at the start of every After call.
	duringAfter func(stream string)
	sinceCalls  atomic.Int32 // calls of HeadsSince
	// down makes After fail, as a database that cannot be reached.
	down atomic.Bool
}

func newMemLog() *memLog {
	return &memLog{streams: map[string][]event.Event{}, heads: map[string]int64{}}
}

// add appends n events to stream with a payload of size bytes and returns
// them (not published: the caller hands them to a hub).
func (l *memLog) add(stream string, n, size int) []event.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	data, _ := json.Marshal(map[string]string{"pad": strings.Repeat("x", size)})
	out := make([]event.Event, 0, n)
	for range n {
		evs := l.streams[stream]
		l.heads[stream]++
		seq := l.heads[stream]
		ev := event.Event{Stream: stream, Seq: seq, ID: fmt.Sprintf("%s-%d", stream, seq), Name: "test.happened",
			At: time.Now().UTC(), Data: data}
		l.streams[stream] = append(evs, ev)
		out = append(out, ev)
	}
	return out
}

// addEvent appends one event named name with data to stream.
func (l *memLog) addEvent(stream, name string, data any) event.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, _ := json.Marshal(data)
	l.heads[stream]++
	ev := event.Event{Stream: stream, Seq: l.heads[stream], ID: fmt.Sprintf("%s-%d", stream, l.heads[stream]), Name: name,
		At: time.Now().UTC(), Data: b}
	l.streams[stream] = append(l.streams[stream], ev)
	return ev
}

// drop deletes stream's events with the given seqs, as a purge would.
func (l *memLog) drop(stream string, seqs ...int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.streams[stream] = slices.DeleteFunc(l.streams[stream], func(ev event.Event) bool { return slices.Contains(seqs, ev.Seq) })
}

func (l *memLog) After(_ context.Context, stream string, after int64, limit int) ([]event.Event, error) {
	l.mu.Lock()
	hook := l.duringAfter
	l.mu.Unlock()
	if hook != nil {
		hook(stream)
	}
	if l.down.Load() {
		return nil, errors.New("failed to connect to the database")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []event.Event
	for _, ev := range l.streams[stream] {
		if ev.Seq > after && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (l *memLog) Heads(_ context.Context, streams []string) (map[string]int64, error) {
	l.mu.Lock()
	hook := l.beforeHeads
	l.mu.Unlock()
	if hook != nil {
		hook(streams)
	}
	l.mu.Lock()
	heads := map[string]int64{}
	for _, s := range streams {
		heads[s] = l.heads[s]
	}
	after := l.afterHeads
	l.mu.Unlock()
	if after != nil {
		after(streams)
	}
	return heads, nil
}

func (l *memLog) HeadsSince(ctx context.Context, streams []string, from map[string]int64, limit int) (map[string]int64, map[string][]event.Event, error) {
	l.sinceCalls.Add(1)
	heads, _ := l.Heads(ctx, streams)
	since := map[string][]event.Event{}
	for s, seq := range from {
		evs, _ := l.After(ctx, s, seq-1, limit)
		if len(evs) > 0 {
			since[s] = evs
		}
	}
	return heads, since, nil
}

// hubEnv is a hub served by an httptest server. Tokens are "<user>" (valid
// for an hour) or whatever tokens maps; every user listens to their own
// stream and to "org:shared" unless streamsOf says otherwise.
type hubEnv struct {
	hub *realtime.Hub
	srv *httptest.Server
	log *memLog
	url string

	once   sync.Once
	mu     sync.Mutex
	tokens map[string]tokenInfo
	acks   []string
	// streamsOf overrides a user's streams (set before they connect).
	streamsOf map[string][]string
}

type tokenInfo struct {
	user string
	exp  time.Time
}

// startHub serves a hub with options o (Log, Auth and Streams are filled in).
func startHub(t testing.TB, o realtime.Options) *hubEnv { return startHubOn(t, o, nil) }

// smallReadBuffers dials with a small socket receive buffer, so that the
// server's writes to a client that does not read block soon.
func smallReadBuffers() *websocket.Dialer {
	return &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return conn, err
	}}
}

// smallSendBuffers makes each accepted connection's kernel send buffer
// small, so that a client that does not read blocks the server's writes
// soon (loopback otherwise absorbs megabytes).
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// startHubOn is startHub with the server's listener wrapped by wrap.
func startHubOn(t testing.TB, o realtime.Options, wrap func(net.Listener) net.Listener) *hubEnv {
	t.Helper()
	env := &hubEnv{log: newMemLog(), tokens: map[string]tokenInfo{}, streamsOf: map[string][]string{}}
	o.Log = env.log
	o.Auth = env.auth
	o.Streams = func(_ context.Context, id realtime.Identity) ([]string, error) {
		user := id.UserID
		env.mu.Lock()
		defer env.mu.Unlock()
		if s, ok := env.streamsOf[user]; ok {
			return s, nil
		}
		return []string{"user:" + user, "org:shared"}, nil
	}
	o.Acks = func(id realtime.Identity, stream string, from, seq int64, _ time.Time) {
		env.mu.Lock()
		env.acks = append(env.acks, fmt.Sprintf("%s %s %d..%d", id.UserID, stream, from, seq))
		env.mu.Unlock()
	}
	env.hub = realtime.NewHub(o)
	env.hub.Run()
	env.srv = httptest.NewUnstartedServer(env.hub)
	if wrap != nil {
		env.srv.Listener = wrap(env.srv.Listener)
	}
	env.srv.Start()
	env.url = env.srv.URL
	t.Cleanup(env.close)
	return env
}

// close closes the hub (its connections get 1001) and the server; once.
func (env *hubEnv) close() {
	env.once.Do(func() {
		env.hub.Close(2 * time.Second)
		env.srv.Close()
	})
}

// token registers a token for user expiring at exp.
func (env *hubEnv) token(user string, exp time.Time) string {
	env.mu.Lock()
	defer env.mu.Unlock()
	tok := fmt.Sprintf("%s@%d", user, len(env.tokens))
	env.tokens[tok] = tokenInfo{user: user, exp: exp}
	return tok
}

func (env *hubEnv) auth(_ context.Context, token string) (realtime.Identity, error) {
	env.mu.Lock()
	defer env.mu.Unlock()
	if token == "outage" {
		return realtime.Identity{}, errors.New("failed to connect to the database")
	}
	if ti, ok := env.tokens[token]; ok {
		return realtime.Identity{UserID: ti.user, Stream: "user:" + ti.user, Role: "volunteer", Expires: ti.exp}, nil
	}
	if token != "" && !strings.ContainsAny(token, "@ ") {
		return realtime.Identity{UserID: token, Stream: "user:" + token, Role: "volunteer", Expires: time.Now().Add(time.Hour)}, nil
	}
	return realtime.Identity{}, fmt.Errorf("%w: bad token", realtime.ErrUnauthorized)
}

// publish writes n events of size bytes to stream and hands them to the hub.
func (env *hubEnv) publish(stream string, n, size int) []event.Event {
	evs := env.log.add(stream, n, size)
	env.hub.Deliver(evs)
	return evs
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closeEndsRead closes env's hub and fails the test unless a read made for
// a connection ends, cancelled (ended says how), and Close returns, each
// within 5 s.
func closeEndsRead(t *testing.T, env *hubEnv, what string, ended <-chan error) {
	t.Helper()
	closed := make(chan struct{})
	go func() { env.close(); close(closed) }()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s ended with %v, want it cancelled", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s still runs 5 s after its connection closed", what)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close still waits 5 s later")
	}
}
