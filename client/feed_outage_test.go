package client

import (
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
)

// The feed through an outage of the server's database: the server answers
// hellos with 1013 and refreshes with 503; the Feed waits and tries again
// for as long as it takes, and only a refresh refused with 401 ends it.

func TestReasonDelay(t *testing.T) {
	for reason, want := range map[string]time.Duration{
		"try again later: retry in 5 s":        5 * time.Second,
		"too many connections: retry in 12 s":  12 * time.Second,
		"retry in 0 s":                         0,
		"try again later":                      0,
		"":                                     0,
		"retry in five s":                      0,
		"retry in -3 s":                        0,
		"retry in 5s":                          0,
		"retry in 99999999 s":                  maxAskedDelay,
		"try again later: retry in 7 s; later": 7 * time.Second,
	} {
		if got := reasonDelay(reason); got != want {
			t.Errorf("reasonDelay(%q) = %v, want %v", reason, got, want)
		}
	}
}

func TestRetryAsked(t *testing.T) {
	closeErr := func(code int, text string) error {
		return &websocket.CloseError{Code: code, Text: text}
	}
	for _, c := range []struct {
		name string
		err  error
		want time.Duration
	}{
		{"1013 with a delay", closeErr(api.CloseTryAgainLater, "try again later: retry in 5 s"), 5 * time.Second},
		{"4429 with a delay", closeErr(api.CloseTooSlow, "too many connections: retry in 3 s"), 3 * time.Second},
		{"4429 too slow", closeErr(api.CloseTooSlow, "too slow: reconnect and resume"), 0},
		{"4401 names none", closeErr(api.CloseUnauthorized, "retry in 5 s"), 0},
		{"503 Retry-After", &Error{Status: 503, RetryAfter: 2 * time.Second}, 2 * time.Second},
		{"502 Retry-After", &Error{Status: 502, RetryAfter: time.Second}, time.Second},
		{"429 Retry-After", &Error{Status: 429, RetryAfter: 4 * time.Second}, 4 * time.Second},
		{"409 Retry-After is not a wait for the feed", &Error{Status: 409, RetryAfter: 4 * time.Second}, 0},
		{"a network error", errors.New("connection refused"), 0},
		{"none", nil, 0},
	} {
		if got := retryAsked(c.err); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFeedWaitHonorsTheAskedDelay(t *testing.T) {
	fd := New("http://127.0.0.1:1").Feed(FeedOptions{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	for range 200 {
		if d := fd.wait(0, 4*time.Second); d < 4*time.Second || d > 5*time.Second {
			t.Fatalf("wait with 4 s asked: got %v, want in [4 s, 5 s]", d)
		}
		if d := fd.wait(0, 0); d >= 5*time.Millisecond {
			t.Fatalf("wait without a delay asked: got %v, want the backoff (< 5 ms)", d)
		}
		if d := fd.wait(0, time.Hour); d < maxAskedDelay || d > maxAskedDelay*5/4 {
			t.Fatalf("wait with an hour asked: got %v, want about %v", d, maxAskedDelay)
		}
	}
	// A longer backoff (many failures) is not cut short by a small delay.
	slow := New("http://127.0.0.1:1").Feed(FeedOptions{MinBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second})
	var top time.Duration
	for range 200 {
		d := slow.wait(5, time.Second)
		if d < time.Second {
			t.Fatalf("wait: got %v, want at least the 1 s asked", d)
		}
		top = max(top, d)
	}
	if top < 5*time.Second {
		t.Errorf("the longest of 200 waits is %v, want the 10 s backoff to show", top)
	}
}

// A hello answered by close 1013 (the server cannot check the token now) is
// tried again after the delay of the reason, with the same token and
// resume, as many times as it takes; the feed never stops.
func TestFeedTryAgainLaterWaitsTheDelay(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{Resume: map[string]int64{"user:u1": 4}}, fast)

	fc := ff.accept(t)
	for range 2 {
		fc.closeWith(api.CloseTryAgainLater, "try again later: retry in 1 s")
		start := time.Now()
		fc = ff.accept(t)
		if d := time.Since(start); d < time.Second || d > 2*time.Second {
			t.Errorf("reconnected %v after the 1013, want after the 1 s it named (and a little jitter)", d)
		}
		if fc.hello.Token != "access-0" || !maps.Equal(fc.hello.Resume, map[string]int64{"user:u1": 4}) {
			t.Errorf("hello after 1013: got %+v, want access-0 resuming user:u1 at 4", fc.hello)
		}
	}
	if n := f.refreshHits.Load(); n != 0 {
		t.Errorf("got %d refreshes, want none: a 1013 says nothing about the token", n)
	}
	fc.welcome(25, pos("user:u1", 5))
	fc.events("user:u1", 5)
	r.want(t, "event user:u1 5")
	if got := r.stateLog(); got[len(got)-1] != FeedConnected {
		t.Errorf("states: got %v, want connected at the end", got)
	}
	// A 1013 without a delay falls back to the backoff (here a few ms).
	fc.closeWith(api.CloseTryAgainLater, "try again later")
	start := time.Now()
	ff.accept(t)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("reconnected %v after a 1013 naming no delay, want the backoff (ms)", d)
	}
}

// An upgrade answered 503 with Retry-After (a balancer whose instances are
// all out) waits that long before the next try.
func TestFeedUpgradeUnavailableHonorsRetryAfter(t *testing.T) {
	f := newFakeServer(t)
	var hits atomic.Int32
	times := make(chan time.Time, 16)
	f.mux.HandleFunc("GET /v1/feed", counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		times <- time.Now()
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the database is not answering", nil)
	}))
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{}, fast)
	first := <-times
	var second time.Time
	select {
	case second = <-times:
	case <-time.After(feedWait):
		t.Fatal("no second try")
	}
	if d := second.Sub(first); d < time.Second || d > 2*time.Second {
		t.Errorf("second try %v after the first, want after the 1 s of Retry-After", d)
	}
	r.waitState(t, FeedReconnecting)
	if err := r.stop(t); err != nil {
		t.Errorf("Run: got %v, want nil", err)
	}
}

// After a 4401, a refresh that fails for a passing reason (503 with
// Retry-After, a proxy's 502 page, a 429, the connection cut) is no reason
// to stop: the feed waits (the Retry-After when named), connects again,
// and once a refresh succeeds goes on with the new token.
func TestFeedRefreshUnavailableRetries(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer http.HandlerFunc
		wait   time.Duration // the least wait before the next hello
	}{
		{"503 unavailable", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the database is not answering", nil)
		}, time.Second},
		{"502 from a proxy", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		}, 0},
		{"429", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			writeProblem(w, http.StatusTooManyRequests, "rate-limited", "slow down", nil)
		}, time.Second},
		{"network error", hangUp, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeServer(t)
			ff := newFakeFeed(t, f)
			var calls atomic.Int32
			f.mux.HandleFunc("POST /v1/auth/refresh", func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) <= 2 {
					c.answer(w, r)
					return
				}
				f.handleRefresh(w, r)
			})
			cl, _ := f.client(WithTokens(f.tokens(0)))
			r := startFeed(t, cl, FeedOptions{}, fast)

			fc := ff.accept(t)
			fc.welcome(25, pos("user:u1", 3))
			r.want(t, "subscribed user:u1 3")
			// The token is refused twice while refreshes fail: the feed
			// keeps trying with the token it holds (still valid by its
			// clock) and keeps its session.
			for i := range 2 {
				fc.closeWith(api.CloseUnauthorized, "token missing, invalid or expired")
				start := time.Now()
				fc = ff.accept(t)
				if d := time.Since(start); d < c.wait {
					t.Errorf("try %d: reconnected after %v, want at least %v", i, d, c.wait)
				}
				if fc.hello.Token != "access-0" || !maps.Equal(fc.hello.Resume, map[string]int64{"user:u1": 3}) {
					t.Errorf("try %d: hello %+v, want access-0 resuming user:u1 at 3", i, fc.hello)
				}
			}
			if n := calls.Load(); n != 2 {
				t.Errorf("got %d refreshes, want 2", n)
			}
			// The third refresh succeeds: the hello carries the new token.
			fc.closeWith(api.CloseUnauthorized, "token missing, invalid or expired")
			fc = ff.accept(t)
			if fc.hello.Token != "access-1" {
				t.Errorf("hello after the refresh: got %q, want access-1", fc.hello.Token)
			}
			fc.welcome(25, pos("user:u1", 4))
			fc.events("user:u1", 4)
			r.want(t, "event user:u1 4")
			select {
			case err := <-r.done:
				t.Fatalf("Run returned %v", err)
			default:
			}
		})
	}
}

// A refresh refused with 401 after an outage's 503s ends the feed with an
// error that says the session ended (matching ErrNotSignedIn), and signs
// the Client out.
func TestFeedRefreshRefusedAfterOutageEndsTheSession(t *testing.T) {
	f := newFakeServer(t)
	ff := newFakeFeed(t, f)
	var calls atomic.Int32
	f.mux.HandleFunc("POST /v1/auth/refresh", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the database is not answering", nil)
			return
		}
		writeProblem(w, http.StatusUnauthorized, "invalid-refresh-token", "the session was revoked", nil)
	})
	c, _ := f.client(WithTokens(f.tokens(0)))
	r := startFeed(t, c, FeedOptions{}, fast)

	fc := ff.accept(t)
	fc.closeWith(api.CloseUnauthorized, "token missing, invalid or expired")
	fc = ff.accept(t) // after the 503: the feed is still on
	fc.closeWith(api.CloseUnauthorized, "token missing, invalid or expired")
	err := r.result(t)
	if !errors.Is(err, ErrNotSignedIn) || !IsProblem(err, "invalid-refresh-token") || !strings.Contains(err.Error(), "session ended") {
		t.Errorf("got %v, want an error saying the session ended, matching ErrNotSignedIn and carrying the 401", err)
	}
	if got := c.Tokens(); got != (api.Tokens{}) {
		t.Errorf("tokens: got %+v, want none", got)
	}
	ff.none(t, 100*time.Millisecond)
}
