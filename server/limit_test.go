package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/ratelimit"
)

func rule(burst int, every time.Duration) *ratelimit.Rule {
	return &ratelimit.Rule{Burst: burst, Every: every}
}

// Writes are throttled per account and per client address, with 429 and
// Retry-After; reads are not. On PostgreSQL the test app uses Redis, so the
// shared limiter is exercised there.
func TestWriteRateLimits(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		vol := e.User(t, "volunteer", "vol", "31")
		bad := map[string]any{"title": "x"} // a 403 (volunteers make no national tasks), but a write all the same
		for i := range 3 {
			if r := e.Do(t, "POST", "/v1/tasks", bad, apptest.Bearer(vol.Tokens.AccessToken)...); r.Status != 403 {
				t.Fatalf("write %d: got %d, want 403 (not yet limited)", i+1, r.Status)
			}
		}
		r := e.Do(t, "POST", "/v1/tasks", bad, apptest.Bearer(vol.Tokens.AccessToken)...)
		if r.Status != 429 || r.Header.Get("Retry-After") == "" || r.Problem(t).Type != "/v1/problems/rate-limited" {
			t.Fatalf("4th write of one account: got %d %s (Retry-After %q), want 429", r.Status, r.Body, r.Header.Get("Retry-After"))
		}
		if r := e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(vol.Tokens.AccessToken)...); r.Status != 200 {
			t.Fatalf("a read after the write limit: got %d, want 200", r.Status)
		}
		other := e.User(t, "volunteer", "other", "31")
		if r := e.Do(t, "POST", "/v1/tasks", bad, apptest.Bearer(other.Tokens.AccessToken)...); r.Status != 403 {
			t.Fatalf("another account's first write: got %d, want 403", r.Status)
		}
		if r := e.Do(t, "POST", "/v1/tasks", bad, apptest.Bearer(other.Tokens.AccessToken)...); r.Status != 429 {
			t.Fatalf("the address's 6th write: got %d, want 429 (per-address limit)", r.Status)
		}
	}, func(o *app.Options) {
		o.Limits = app.LimitRules{UserWrites: rule(3, time.Minute), IPWrites: rule(5, time.Minute)}
	})
}

// Feed handshakes are throttled per address (429 on the upgrade) and per
// account (close 4429 after hello).
func TestFeedRateLimits(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		vol := e.User(t, "volunteer", "vol", "31")
		url := "ws" + strings.TrimPrefix(e.URL, "http") + "/v1/feed"
		d := websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}}
		open := func() (*websocket.Conn, *http.Response, error) { return d.Dial(url, nil) }
		ws, _, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.WriteJSON(api.ClientFrame{Type: "hello", Token: vol.Tokens.AccessToken})
		var w api.Welcome
		if err := ws.ReadJSON(&w); err != nil || w.Type != "welcome" {
			t.Fatalf("first connection: %v %+v", err, w)
		}
		ws2, _, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer ws2.Close()
		ws2.WriteJSON(api.ClientFrame{Type: "hello", Token: vol.Tokens.AccessToken})
		_, _, err = ws2.ReadMessage()
		if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4429 {
			t.Fatalf("second connection of one account: got %v, want close 4429", err)
		}
		_, resp, err := open()
		if err == nil || resp == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("third handshake from one address: got %v %v, want HTTP 429 with Retry-After", err, resp)
		}
	}, func(o *app.Options) {
		o.Limits = app.LimitRules{FeedIP: rule(2, time.Minute), FeedUser: rule(1, time.Minute)}
	})
}
