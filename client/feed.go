package client

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
)

// Feed defaults and limits.
const (
	defaultMinBackoff = 500 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	defaultFeedBuffer = 256

	// feedRefreshMargin is how long before its expiry the feed replaces the
	// access token it authenticated with (by a token frame while connected,
	// before the hello otherwise): at most half the token's lifetime.
	feedRefreshMargin = 60 * time.Second
	// feedHandshakeTimeout bounds the upgrade and then the wait for the
	// welcome (the server reads the stream heads before answering).
	feedHandshakeTimeout = 30 * time.Second
	// feedWriteTimeout bounds the write of one frame.
	feedWriteTimeout = 10 * time.Second
	// feedReadSlack is added to twice the welcome's ping interval to make the
	// read deadline: a server silent for that long is taken for dead.
	feedReadSlack = 10 * time.Second
	// feedStableAfter is how long a connection must have lasted for the next
	// reconnection to start again from the shortest backoff.
	feedStableAfter = 30 * time.Second
	// feedTokenRetry is the wait before trying again a refresh that failed for
	// a passing reason while connected.
	feedTokenRetry = 5 * time.Second
	// maxAskedDelay bounds a delay named by the server (a close reason or
	// Retry-After) that the Feed waits out before reconnecting.
	maxAskedDelay = 5 * time.Minute
	// defaultPingInterval stands in for a welcome that names none.
	defaultPingInterval = 25 * time.Second
	// maxResumeStreams and maxStreamName are the server's limits on a hello's
	// resume and on stream names; a frame beyond them is closed with 4400.
	maxResumeStreams = 256
	maxStreamName    = 128
)

// Types of FeedEvent.
const (
	// FeedTypeEvent is an event of a stream.
	FeedTypeEvent = "event"
	// FeedTypeReset says the stream's history no longer reaches the position
	// held: reload what it carries by REST; it continues after Seq.
	FeedTypeReset = "reset"
	// FeedTypeSubscribed says the stream joined the feed (a membership was
	// approved, or a welcome names a stream the Feed did not know); its
	// events follow after Seq.
	FeedTypeSubscribed = "subscribed"
	// FeedTypeUnsubscribed says the stream left the feed (a membership ended,
	// or a welcome no longer names it): nothing more comes on it, and it is
	// no longer resumed.
	FeedTypeUnsubscribed = "unsubscribed"
)

// FeedEvent is what a Feed delivers: an event of a stream (Type
// FeedTypeEvent, every field as the server sent it), or a notice about a
// stream (Type FeedTypeReset, FeedTypeSubscribed or FeedTypeUnsubscribed,
// with Stream and Seq only).
type FeedEvent struct {
	api.EventFrame
}

// FeedState is where a Feed's connection stands.
type FeedState int

// States of a Feed, as FeedOptions.OnState reports them.
const (
	// FeedConnecting: Run started and makes its first connection.
	FeedConnecting FeedState = iota + 1
	// FeedConnected: the server welcomed the feed; events flow.
	FeedConnected
	// FeedReconnecting: the connection was lost (or refused); the feed waits
	// out its backoff and connects again, resuming where it stopped.
	FeedReconnecting
	// FeedClosed: Run returned.
	FeedClosed
)

func (s FeedState) String() string {
	switch s {
	case FeedConnecting:
		return "connecting"
	case FeedConnected:
		return "connected"
	case FeedReconnecting:
		return "reconnecting"
	case FeedClosed:
		return "closed"
	}
	return fmt.Sprintf("FeedState(%d)", int(s))
}

// FeedOptions configure a Feed. The zero value is usable.
type FeedOptions struct {
	// Resume holds the positions to start from, stream name to the last
	// seq the app has seen, typically saved from Positions by an earlier
	// run. The server sends every event after them (or a reset when its
	// history no longer reaches back). Streams not named here start at the
	// server's head: load their state by REST first.
	Resume map[string]int64
	// Origin is sent as the Origin header of the upgrade, for servers that
	// check it; empty sends none (non-browser clients need none).
	Origin string
	// OnState, when set, is told each change of the connection's state, for
	// UIs. It is called on Run's goroutine and must return quickly.
	OnState func(FeedState)
	// MinBackoff and MaxBackoff bound the wait before reconnecting: with n
	// failed attempts in a row, a random wait in [0, min(MaxBackoff,
	// MinBackoff·2^n)) ("full jitter"). Defaults 500 ms and 30 s. When the
	// server named a delay (the "retry in N s" of a 1013 or 4429 close, or
	// the Retry-After of a 429 or 5xx answer), the wait is at least that
	// delay (up to 5 minutes), spread over a quarter more.
	MinBackoff, MaxBackoff time.Duration
	// Buffer is the capacity of the Events channel; 0 or less means 256.
	Buffer int
	// AutoAck acks every event (Type "event", not the notices) once it is
	// handed to the Events channel. Acks count toward an alert's reach.
	AutoAck bool
}

// Feed subscribes to the server's real-time feed (GET /v1/feed) for the
// signed-in user. Make it with Client.Feed, start it with Run and read
// Events:
//
//	feed := c.Feed(client.FeedOptions{Resume: saved, AutoAck: true})
//	go func() {
//		for ev := range feed.Events() {
//			switch ev.Type {
//			case client.FeedTypeReset:
//				// reload ev.Stream's state by REST
//			case client.FeedTypeEvent:
//				// apply ev.Event with ev.Data
//			}
//			save(feed.Positions())
//		}
//	}()
//	err := feed.Run(ctx) // nil once ctx is cancelled
//
// The Feed reconnects by itself, with backoff, whenever the connection is
// lost, and resumes every stream after the last seq it delivered, so that
// nothing is missed; repeats are dropped: per stream, Events carries seqs in
// rising order, each at most once. It keeps the access token fresh, sending
// the server a new one before the one it holds expires.
//
// Events must be read: while its buffer is full the Feed stops reading the
// connection, the server eventually drops it as too slow (4429), and the
// Feed reconnects and resumes. Nothing is lost, but it is slower.
type Feed struct {
	c      *Client
	opts   FeedOptions
	url    string
	err    error // of the URL: Run returns it
	dialer websocket.Dialer
	header http.Header
	events chan FeedEvent
	ran    atomic.Bool
	state  FeedState // owned by Run's goroutine
	wake   chan struct{}

	// Tests shorten these.
	margin     time.Duration // feedRefreshMargin
	handshake  time.Duration // feedHandshakeTimeout
	readSlack  time.Duration // feedReadSlack
	stable     time.Duration // feedStableAfter
	tokenRetry time.Duration // feedTokenRetry

	mu   sync.Mutex
	last map[string]int64 // per stream, the last seq delivered
	acks map[string]int64 // acks waiting for a connection, highest seq per stream
}

// Feed makes a subscriber to the real-time feed of the signed-in user; it
// does nothing until Run. The Client must be signed in by then.
func (c *Client) Feed(opts FeedOptions) *Feed {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = defaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = defaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.Buffer <= 0 {
		opts.Buffer = defaultFeedBuffer
	}
	f := &Feed{
		c:          c,
		opts:       opts,
		events:     make(chan FeedEvent, opts.Buffer),
		wake:       make(chan struct{}, 1),
		header:     http.Header{},
		margin:     feedRefreshMargin,
		handshake:  feedHandshakeTimeout,
		readSlack:  feedReadSlack,
		stable:     feedStableAfter,
		tokenRetry: feedTokenRetry,
		last:       map[string]int64{},
		acks:       map[string]int64{},
	}
	for s, seq := range opts.Resume {
		f.last[s] = seq
	}
	f.url, f.err = feedURL(c.base)
	f.header.Set("User-Agent", c.userAgent)
	if opts.Origin != "" {
		f.header.Set("Origin", opts.Origin)
	}
	f.dialer = websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}, Proxy: http.ProxyFromEnvironment}
	tr, ok := c.hc.Transport.(*http.Transport)
	if c.hc.Transport == nil {
		tr, ok = http.DefaultTransport.(*http.Transport)
	}
	if ok {
		f.dialer.Proxy = tr.Proxy
		f.dialer.NetDialContext = tr.DialContext
		f.dialer.TLSClientConfig = tr.TLSClientConfig
	}
	return f
}

// feedURL is the websocket URL of the feed of the server at base.
func feedURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("jarimu: feed: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("jarimu: feed: base URL %q is not http or https", base)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/feed"
	u.RawPath = ""
	return u.String(), nil
}

// Events is the channel of delivered events and notices. Run closes it when
// it returns.
func (f *Feed) Events() <-chan FeedEvent { return f.events }

// Positions returns a copy of the last seq delivered per stream (or given
// by a reset or a subscription), for the app to save and pass back as
// FeedOptions.Resume. It is safe to call at any time.
func (f *Feed) Positions() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int64, len(f.last))
	for s, seq := range f.last {
		out[s] = seq
	}
	return out
}

// Ack tells the server that everything up to seq on stream was received
// (it counts toward an alert's reach). Acks are queued and sent by the
// connection's writer; acks of one stream waiting together are sent as the
// highest one, and acks made while disconnected are sent after the next
// welcome. An empty stream or a seq below 1 is ignored. Safe to call from
// any goroutine.
func (f *Feed) Ack(stream string, seq int64) {
	if stream == "" || len(stream) > maxStreamName || seq < 1 {
		return // the server would close the connection with 4400
	}
	f.mu.Lock()
	if seq > f.acks[stream] {
		f.acks[stream] = seq
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run connects and delivers events until ctx is cancelled, then returns
// nil, reconnecting whenever the connection is lost. A server that cannot
// serve for now (a network error, an HTTP 429 or 5xx, a refresh answered
// so, a close 1001, 1011, 1013 or 4429) is tried again with backoff, for
// as long as it takes; a 4401 refreshes the token once and reconnects at
// once. Run returns an error only when going on is pointless: the session
// is over (the error matches ErrNotSignedIn and says the session ended: the
// Client holds no refresh token, or the server refused it with 401), or the
// server refused a frame of this client (close 4400, a bug; the error wraps
// a *websocket.CloseError). Run may be called once; it closes Events when
// it returns.
func (f *Feed) Run(ctx context.Context) error {
	if !f.ran.CompareAndSwap(false, true) {
		return errors.New("jarimu: feed: Run called twice")
	}
	defer close(f.events)
	defer f.setState(FeedClosed)
	if f.err != nil {
		return f.err
	}
	f.setState(FeedConnecting)
	failures, unauthorized := 0, 0
	for {
		res := f.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if res.welcomed {
			unauthorized = 0
			if res.lasted >= f.stable {
				failures = 0
			}
		}
		err := res.err
		var ce *websocket.CloseError
		errors.As(err, &ce)
		immediate := false
		asked := retryAsked(err)
		switch {
		case errors.Is(err, ErrNotSignedIn):
			return sessionOver(err)
		case ce != nil && ce.Code == api.CloseBadFrame:
			return fmt.Errorf("jarimu: feed: the server refused a frame of this client: %w", err)
		case ce != nil && ce.Code == api.CloseUnauthorized:
			// Spend the refresh token paired with the access token the
			// server refused (unless it was replaced already), then connect
			// again at once; backoff only when that keeps happening. A
			// refresh that fails for a passing reason (the server is down
			// or overloaded) is tried again after the backoff.
			_, rerr := f.c.refresh(ctx, res.held)
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(rerr, ErrNotSignedIn) {
				return sessionOver(rerr)
			}
			immediate = rerr == nil && unauthorized == 0
			unauthorized++
			if rerr != nil {
				asked = retryAsked(rerr)
			}
		}
		f.setState(FeedReconnecting)
		if immediate {
			continue
		}
		if sleep(ctx, f.wait(failures, asked)) != nil {
			return nil
		}
		failures++
	}
}

// sessionOver is Run's error when the session is over (err matches
// ErrNotSignedIn).
func sessionOver(err error) error {
	var r refused
	if errors.As(err, &r) {
		return fmt.Errorf("jarimu: feed: the session ended (the server refused the refresh token); sign in again: %w", err)
	}
	return fmt.Errorf("jarimu: feed: no session (no refresh token held); sign in: %w", err)
}

// retryAsked is the delay the server asked for before the next attempt:
// the "retry in N s" of the reason of a 1013 or 4429 close, or the
// Retry-After of an HTTP answer (a refused upgrade, a refresh answered 429
// or 5xx); 0 when it named none.
func retryAsked(err error) time.Duration {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Code != api.CloseTryAgainLater && ce.Code != api.CloseTooSlow {
			return 0
		}
		return reasonDelay(ce.Text)
	}
	var e *Error
	if errors.As(err, &e) && (e.Status == http.StatusTooManyRequests || e.Status >= 500) {
		return e.RetryAfter
	}
	return 0
}

// reasonDelay reads the delay of a close reason such as "try again later:
// retry in 5 s"; 0 when it has none.
func reasonDelay(reason string) time.Duration {
	_, after, ok := strings.Cut(reason, "retry in ")
	if !ok {
		return 0
	}
	num, _, ok := strings.Cut(after, " s")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, int(maxAskedDelay/time.Second))) * time.Second
}

// wait is the wait before reconnecting after n failures in a row: the
// backoff, or at least the delay the server asked for (asked, bounded by
// maxAskedDelay), spread over a quarter more so that clients sent away
// together do not come back together.
func (f *Feed) wait(n int, asked time.Duration) time.Duration {
	d := f.backoff(n)
	if asked <= 0 {
		return d
	}
	asked = min(asked, maxAskedDelay)
	return max(d, asked+rand.N(asked/4+1))
}

// backoff is the wait before reconnecting after n failures in a row: full
// jitter over [0, min(MaxBackoff, MinBackoff·2^n)).
func (f *Feed) backoff(n int) time.Duration {
	d := f.opts.MaxBackoff
	if n < 32 {
		if x := f.opts.MinBackoff << n; x > 0 && x < d {
			d = x
		}
	}
	return rand.N(d)
}

func (f *Feed) setState(s FeedState) {
	if s == f.state {
		return
	}
	f.state = s
	if f.opts.OnState != nil {
		f.opts.OnState(s)
	}
}

// feedCreds are the credentials a connection authenticates with.
type feedCreds struct {
	access  string
	held    string        // the refresh token paired with access
	expires time.Time     // of access; zero: unknown
	margin  time.Duration // how long before expires to replace it
}

// feedToken returns the access token for the feed, refreshing it first when
// it is missing or expires within the feed's margin (at most half its
// lifetime, so that short-lived tokens are not refreshed without end). When
// a refresh fails it returns the error with the credentials held.
func (f *Feed) feedToken(ctx context.Context) (feedCreds, error) {
	c := f.c
	read := func() feedCreds {
		c.mu.Lock()
		defer c.mu.Unlock()
		m := f.margin
		if c.tok.ExpiresIn > 0 {
			m = min(m, time.Duration(c.tok.ExpiresIn)*time.Second/2)
		}
		return feedCreds{access: c.tok.AccessToken, held: c.tok.RefreshToken, expires: c.expiry, margin: m}
	}
	cr := read()
	switch {
	case cr.access == "" && cr.held == "":
		return cr, ErrNotSignedIn
	case cr.held == "":
		return cr, nil // nothing to refresh with: the server has the last word
	case cr.access != "" && (cr.expires.IsZero() || c.now().Add(cr.margin).Before(cr.expires)):
		return cr, nil
	}
	if _, err := c.refresh(ctx, cr.held); err != nil {
		return cr, err
	}
	if cr = read(); cr.access == "" {
		return cr, ErrNotSignedIn
	}
	return cr, nil
}

// result is how one connection ended.
type result struct {
	welcomed bool
	lasted   time.Duration // from the welcome
	held     string        // the refresh token paired with the last token sent
	err      error
}

// conn is one connection of a Feed.
type conn struct {
	f      *Feed
	ws     *websocket.Conn
	ctx    context.Context // of Run, cancelled by end
	cancel context.CancelFunc
	stop   chan struct{} // closed by end
	once   sync.Once
	err    error // why it ended; set by end

	mu   sync.Mutex
	held string // the refresh token paired with the last access token sent
}

// end ends the connection for err (the first call wins): a close frame
// (best effort), then the socket. Safe from any goroutine.
func (cn *conn) end(err error) {
	cn.once.Do(func() {
		cn.err = err
		close(cn.stop)
		cn.cancel()
		cn.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(time.Second))
		cn.ws.Close()
	})
}

// connect makes one connection and serves it until it ends.
func (f *Feed) connect(ctx context.Context) (res result) {
	cr, err := f.feedToken(ctx)
	res.held = cr.held
	if err != nil {
		// A refresh that failed for a passing reason need not keep out a
		// token that is still valid.
		if errors.Is(err, ErrNotSignedIn) || cr.access == "" || !cr.expires.IsZero() && !f.c.now().Before(cr.expires) {
			res.err = err
			return res
		}
	}
	dctx, cancel := context.WithTimeout(ctx, f.handshake)
	ws, resp, err := f.dialer.DialContext(dctx, f.url, f.header)
	cancel()
	if err != nil {
		if resp != nil {
			// The answer to the upgrade (a 503 of a balancer whose
			// instances are all out, a 429): its status and Retry-After.
			err = fmt.Errorf("%w: %w", err, newError(resp, f.c.now()))
		}
		res.err = fmt.Errorf("jarimu: feed: dial: %w", err)
		return res
	}
	cctx, ccancel := context.WithCancel(ctx)
	cn := &conn{f: f, ws: ws, ctx: cctx, cancel: ccancel, stop: make(chan struct{}), held: cr.held}
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			cn.end(ctx.Err())
		case <-cn.stop:
		}
	})
	defer func() {
		wg.Wait()
		res.held = cn.held
	}()

	resume, pruned := f.resume(cr.access)
	err = cn.write(api.ClientFrame{Type: "hello", Token: cr.access, Resume: resume})
	var w api.Welcome
	if err == nil {
		err = cn.readWelcome(&w)
	}
	if err == nil {
		err = f.welcome(cn, w, pruned)
	}
	if err != nil {
		cn.end(err)
		res.err = cn.err
		return res
	}
	res.welcomed = true
	start := time.Now()
	f.setState(FeedConnected)

	ping := time.Duration(w.PingInterval) * time.Second
	if ping <= 0 {
		ping = defaultPingInterval
	}
	wait := 2*ping + f.readSlack
	pong := ws.PingHandler()
	ws.SetPingHandler(func(data string) error {
		ws.SetReadDeadline(time.Now().Add(wait))
		return pong(data)
	})
	tokens := make(chan feedCreds)
	wg.Go(func() { cn.writer(tokens) })
	if !cr.expires.IsZero() && cr.held != "" {
		wg.Go(func() { cn.keeper(cr, tokens) })
	}
	cn.end(cn.reader(wait))
	res.lasted = time.Since(start)
	res.err = cn.err
	return res
}

// resume is the resume of the hello: the positions held, less what the
// server would refuse (names it does not take, more than 256 streams, a
// hello larger than its frame limit). Streams left out are returned: the
// server starts them at its head, so the app must be told to reload them.
func (f *Feed) resume(token string) (map[string]int64, map[string]bool) {
	resume := f.Positions()
	pruned := map[string]bool{}
	var names []string
	for s, seq := range resume {
		if s == "" || len(s) > maxStreamName || seq < 0 {
			delete(resume, s)
			pruned[s] = true
			continue
		}
		names = append(names, s)
	}
	// The user's own stream is kept first, then by name.
	slices.SortFunc(names, func(a, b string) int {
		ua, ub := strings.HasPrefix(a, "user:"), strings.HasPrefix(b, "user:")
		if ua != ub {
			if ua {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	drop := func() {
		s := names[len(names)-1]
		names = names[:len(names)-1]
		delete(resume, s)
		pruned[s] = true
	}
	for len(names) > maxResumeStreams {
		drop()
	}
	for len(names) > 0 {
		b, _ := json.Marshal(api.ClientFrame{Type: "hello", Token: token, Resume: resume})
		if len(b) <= api.MaxClientFrameSize {
			break
		}
		drop()
	}
	return resume, pruned
}

// write writes one client frame. Before the welcome it is called from the
// connection's goroutine, afterwards only from the writer.
func (cn *conn) write(fr api.ClientFrame) error {
	b, err := json.Marshal(fr)
	if err != nil {
		return err
	}
	cn.ws.SetWriteDeadline(time.Now().Add(feedWriteTimeout))
	return cn.ws.WriteMessage(websocket.TextMessage, b)
}

// readWelcome reads the server's answer to the hello.
func (cn *conn) readWelcome(w *api.Welcome) error {
	cn.ws.SetReadDeadline(time.Now().Add(cn.f.handshake))
	_, b, err := cn.ws.ReadMessage()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, w); err != nil || w.Type != "welcome" {
		return fmt.Errorf("jarimu: feed: the server answered the hello with %.100q", b)
	}
	return nil
}

// welcome brings the positions in line with the streams the server
// welcomed: streams it no longer names are unsubscribed, streams the Feed
// did not know are subscribed at the server's head, and streams left out of
// the resume are reset to it. Each change is delivered as a notice first.
func (f *Feed) welcome(cn *conn, w api.Welcome, pruned map[string]bool) error {
	known := f.Positions()
	named := map[string]bool{}
	var notes []FeedEvent
	for _, s := range w.Streams {
		named[s.Name] = true
		_, ok := known[s.Name]
		switch {
		case !ok:
			notes = append(notes, notice(FeedTypeSubscribed, s.Name, s.Seq))
		case pruned[s.Name]:
			notes = append(notes, notice(FeedTypeReset, s.Name, s.Seq))
		}
	}
	var gone []string
	for s := range known {
		if !named[s] {
			gone = append(gone, s)
		}
	}
	slices.Sort(gone)
	for _, s := range gone {
		notes = append(notes, notice(FeedTypeUnsubscribed, s, 0))
	}
	for _, n := range notes {
		if err := cn.handle(n); err != nil {
			return err
		}
	}
	return nil
}

func notice(typ, stream string, seq int64) FeedEvent {
	return FeedEvent{api.EventFrame{Type: typ, Stream: stream, Seq: seq}}
}

// reader reads the server's frames until the connection fails, each read
// within wait (extended by the server's pings).
func (cn *conn) reader(wait time.Duration) error {
	for {
		cn.ws.SetReadDeadline(time.Now().Add(wait))
		typ, b, err := cn.ws.ReadMessage()
		if err != nil {
			return err
		}
		if typ != websocket.TextMessage {
			continue
		}
		var ev FeedEvent
		if err := json.Unmarshal(b, &ev.EventFrame); err != nil {
			return fmt.Errorf("jarimu: feed: bad frame from the server: %w", err)
		}
		if err := cn.handle(ev); err != nil {
			return err
		}
	}
}

// handle delivers one frame or notice and then moves the stream's position:
// a position never runs ahead of what the app was handed. Repeats of a
// stream's events are dropped; frames of other types (pong, ones added
// later) are ignored.
func (cn *conn) handle(ev FeedEvent) error {
	f := cn.f
	f.mu.Lock()
	last, known := f.last[ev.Stream]
	f.mu.Unlock()
	switch ev.Type {
	case FeedTypeEvent:
		if known && ev.Seq <= last {
			return nil
		}
	case FeedTypeReset, FeedTypeSubscribed, FeedTypeUnsubscribed:
	default:
		return nil
	}
	select {
	case f.events <- ev:
	case <-cn.stop:
		return cn.err
	}
	f.mu.Lock()
	switch ev.Type {
	case FeedTypeEvent, FeedTypeReset:
		f.last[ev.Stream] = ev.Seq
	case FeedTypeSubscribed:
		if _, ok := f.last[ev.Stream]; !ok {
			f.last[ev.Stream] = ev.Seq
		}
	case FeedTypeUnsubscribed:
		delete(f.last, ev.Stream)
	}
	f.mu.Unlock()
	if ev.Type == FeedTypeEvent && f.opts.AutoAck {
		f.Ack(ev.Stream, ev.Seq)
	}
	return nil
}

// writer is the connection's only writer after the welcome: acks and fresh
// tokens. (Pongs and the close frame go through WriteControl, which gorilla
// allows alongside.)
func (cn *conn) writer(tokens <-chan feedCreds) {
	err := cn.flushAcks()
	for err == nil {
		select {
		case <-cn.stop:
			return
		case cr := <-tokens:
			if err = cn.write(api.ClientFrame{Type: "token", Token: cr.access}); err == nil {
				cn.mu.Lock()
				cn.held = cr.held
				cn.mu.Unlock()
			}
		case <-cn.f.wake:
			err = cn.flushAcks()
		}
	}
	cn.end(err)
}

// flushAcks sends the acks waiting, by stream name; those it could not send
// wait for the next connection.
func (cn *conn) flushAcks() error {
	f := cn.f
	f.mu.Lock()
	acks := f.acks
	f.acks = map[string]int64{}
	f.mu.Unlock()
	names := make([]string, 0, len(acks))
	for s := range acks {
		names = append(names, s)
	}
	slices.Sort(names)
	for i, s := range names {
		if err := cn.write(api.ClientFrame{Type: "ack", Stream: s, Seq: acks[s]}); err != nil {
			f.mu.Lock()
			for _, s := range names[i:] {
				if acks[s] > f.acks[s] {
					f.acks[s] = acks[s]
				}
			}
			f.mu.Unlock()
			return err
		}
	}
	return nil
}

// keeper replaces the connection's access token before it expires: it
// refreshes the Client's tokens when needed (a refresh shared with the
// Client's calls) and has the writer send the new access token. A refused
// refresh ends the connection with an error matching ErrNotSignedIn.
func (cn *conn) keeper(cr feedCreds, tokens chan<- feedCreds) {
	f := cn.f
	sent := cr.access
	var retry time.Duration
	for {
		wait := cr.expires.Sub(f.c.now()) - cr.margin
		if retry > 0 {
			wait = retry
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-cn.stop:
			t.Stop()
			return
		case <-t.C:
		}
		next, err := f.feedToken(cn.ctx)
		if errors.Is(err, ErrNotSignedIn) {
			cn.end(err)
			return
		}
		if err != nil {
			if cn.ctx.Err() != nil {
				return
			}
			// The server closes 4401 if it comes to that.
			retry = max(f.tokenRetry, min(retryAsked(err), maxAskedDelay))
			continue
		}
		retry = 0
		if next.access != sent {
			select {
			case tokens <- next:
				sent = next.access
			case <-cn.stop:
				return
			}
		}
		if cr = next; cr.expires.IsZero() || cr.held == "" {
			return
		}
		if cr.expires.Sub(f.c.now()) <= cr.margin {
			// Not replaced (the Client's clock says it is due, yet the
			// token is the same): look again later rather than spin.
			retry = f.tokenRetry
		}
	}
}
