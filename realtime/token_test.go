package realtime_test

import (
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
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
