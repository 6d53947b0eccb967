package client

// One connection of a Feed: its credentials, the handshake and resume, the
// reader, the writer (acks, token frames) and the token keeper.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
)

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
