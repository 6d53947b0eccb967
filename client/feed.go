package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
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
