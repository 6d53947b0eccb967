package realtime_test

import (
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/realtime"
)

// The feed closes a connection with 4401 when its token expires, unless a
// fresh token of the same user came first; a token of someone else, or an
// invalid one, closes it at once.
func TestTokenFrames(t *testing.T) {
	t.Parallel()
	shortTokens := func(o *app.Options) { o.AccessTokenTTL = 2 * time.Second }
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		other := e.User(t, "volunteer", "other", "3171")
		u := e.User(t, "volunteer", "vol", "3171") // its token lives 2 s
		issued := time.Now()
		expiring, _ := open(t, e.URL, u.Tokens.AccessToken, nil)
		renewed, _ := open(t, e.URL, u.Tokens.AccessToken, nil)
		renewed.send(api.ClientFrame{Type: "token", Token: craftToken(t, e, u.User.ID, time.Now().Add(time.Minute))})
		renewed.barrier() // the token frame was taken

		long := craftToken(t, e, u.User.ID, time.Now().Add(time.Minute))
		foreign, _ := open(t, e.URL, long, nil)
		foreign.send(api.ClientFrame{Type: "token", Token: other.Tokens.AccessToken})
		foreign.expectClose("token of another user", api.CloseUnauthorized, 5*time.Second)
		invalid, _ := open(t, e.URL, long, nil)
		invalid.send(api.ClientFrame{Type: "token", Token: "not.a.token"})
		invalid.expectClose("invalid token", api.CloseUnauthorized, 5*time.Second)
		stale, _ := open(t, e.URL, long, nil)
		stale.send(api.ClientFrame{Type: "token", Token: craftToken(t, e, u.User.ID, time.Now().Add(-time.Minute))})
		stale.expectClose("expired token", api.CloseUnauthorized, 5*time.Second)

		// The token's exp is in whole seconds: 1 to 2 s after issue.
		expiring.expectClose("expired", api.CloseUnauthorized, 4*time.Second)
		if d := time.Since(issued); d < 900*time.Millisecond {
			t.Errorf("closed %v after the token was issued, want at its expiry (1-2 s)", d)
		}
		time.Sleep(time.Until(issued.Add(2500 * time.Millisecond)))
		renewed.barrier() // still open past the first token's expiry
	}, shortTokens)
}

// An outage is never a bad token: a hello whose token cannot be checked
// (the database is down) closes with 1013 and a retry delay, a token frame
// that cannot be checked leaves the connection open as it was, and each is
// counted; a refused token still closes with 4401.
func TestOutageIsNotABadToken(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{})
	c := hello(t, env.url, "outage", nil)
	if got := c.closed("hello during an outage", 5*time.Second); got != 1013 {
		t.Fatalf("hello during an outage: close %d, want 1013", got)
	}

	live, _ := open(t, env.url, "u1", nil)
	live.send(api.ClientFrame{Type: "token", Token: "outage"})
	live.barrier() // still open, answering
	env.publish("org:shared", 1, 10)
	live.events("org:shared", 0, 1)
	if n := env.hub.Metrics().Unavailable.Load(); n != 2 {
		t.Fatalf("unavailable checks counted: %d, want 2", n)
	}

	bad := hello(t, env.url, "bad token", nil)
	bad.expectClose("refused token", 4401, 5*time.Second)
	live.send(api.ClientFrame{Type: "token", Token: "bad token"})
	live.expectClose("refused token frame", 4401, 5*time.Second)
	closes := env.hub.Metrics().Closed()
	if closes[1013] != 1 || closes[4401] != 2 {
		t.Fatalf("closes by code %v, want one 1013 and two 4401", closes)
	}
}
