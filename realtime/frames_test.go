package realtime_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/realtime"
)

// Every bad first frame closes the connection with its code, and nothing is
// sent before the close: no welcome.
func TestBadFirstFrames(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		u := e.User(t, "volunteer", "vol", "3171")
		good := u.Tokens.AccessToken
		parts := strings.Split(good, ".")
		k := e.App.Keys.Current().Signing()
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"` + k.ID + `"}`))
		cases := []struct {
			name string
			typ  int
			body string
			code int
		}{
			{"not JSON", websocket.TextMessage, `hello`, api.CloseBadFrame},
			{"truncated JSON", websocket.TextMessage, `{"type":"hello","token":"`, api.CloseBadFrame},
			{"JSON array", websocket.TextMessage, `[{"type":"hello"}]`, api.CloseBadFrame},
			{"two objects", websocket.TextMessage, `{"type":"hello","token":"` + good + `"}{}`, api.CloseBadFrame},
			{"unknown type", websocket.TextMessage, `{"type":"subscribe","token":"` + good + `"}`, api.CloseBadFrame},
			{"unknown field", websocket.TextMessage, `{"type":"hello","token":"` + good + `","admin":true}`, api.CloseBadFrame},
			{"ping before hello", websocket.TextMessage, `{"type":"ping"}`, api.CloseBadFrame},
			{"TYPE in upper case", websocket.TextMessage, `{"TYPE":"hello","token":"` + good + `"}`, api.CloseBadFrame},
			{"Token in mixed case", websocket.TextMessage, `{"type":"hello","Token":"` + good + `"}`, api.CloseBadFrame},
			{"negative resume seq", websocket.TextMessage, `{"type":"hello","token":"` + good + `","resume":{"user:x":-1}}`, api.CloseBadFrame},
			{"NUL in a resumed stream", websocket.TextMessage, `{"type":"hello","token":"` + good + `","resume":{"region:31\u0000":1}}`, api.CloseBadFrame},
			{"oversized", websocket.TextMessage, `{"type":"hello","token":"` + good + `","resume":{"` + strings.Repeat("a", 5000) + `":1}}`, api.CloseBadFrame},
			{"oversized, 100 KiB", websocket.TextMessage, `{"type":"hello","token":"` + strings.Repeat("a", 100<<10) + `"}`, api.CloseBadFrame},
			{"binary frame", websocket.BinaryMessage, `{"type":"hello","token":"` + good + `"}`, api.CloseBadFrame},
			{"no token", websocket.TextMessage, `{"type":"hello"}`, api.CloseUnauthorized},
			{"bad token", websocket.TextMessage, `{"type":"hello","token":"not.a.token"}`, api.CloseUnauthorized},
			{"tampered token", websocket.TextMessage, `{"type":"hello","token":"` + parts[0] + "." + parts[1] + ".AAAA" + `"}`, api.CloseUnauthorized},
			{"alg none", websocket.TextMessage, `{"type":"hello","token":"` + none + "." + parts[1] + "." + `"}`, api.CloseUnauthorized},
			{"expired token", websocket.TextMessage, `{"type":"hello","token":"` + craftToken(t, e, u.User.ID, time.Now().Add(-time.Minute)) + `"}`, api.CloseUnauthorized},
			{"token expired within leeway", websocket.TextMessage, `{"type":"hello","token":"` + craftToken(t, e, u.User.ID, time.Now().Add(-2*time.Second)) + `"}`, api.CloseUnauthorized},
		}
		for _, tc := range cases {
			// A write buffer larger than any case: each is one websocket
			// frame, not fragments.
			c := connect(t, e.URL, nil, &websocket.Dialer{WriteBufferSize: 128 << 10})
			c.sendRaw(tc.typ, []byte(tc.body))
			c.expectClose(tc.name, tc.code, 5*time.Second)
			c.ws.Close()
		}
		waitFor(t, "no connection left", func() bool { return e.App.Hub.Connections() == 0 })
		// The good token still works, and so does the Authorization header.
		open(t, e.URL, good, nil)
		c := connect(t, e.URL, http.Header{"Authorization": {"Bearer " + good}}, nil)
		c.send(api.ClientFrame{Type: "hello"})
		if w := c.next(); w.Type != "welcome" {
			t.Fatalf("hello with Authorization on the upgrade: got %v, want welcome", w)
		}
	})
}

// Bad frames after the welcome close with 4400 too; nothing else is sent.
func TestBadLaterFrames(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		u := e.User(t, "volunteer", "vol", "3171")
		tok := u.Tokens.AccessToken
		cases := []struct {
			name string
			typ  int
			body string
		}{
			{"second hello", websocket.TextMessage, `{"type":"hello","token":"` + tok + `"}`},
			{"not JSON", websocket.TextMessage, `pong`},
			{"unknown type", websocket.TextMessage, `{"type":"pong"}`},
			{"TYPE in upper case", websocket.TextMessage, `{"TYPE":"ping"}`},
			{"ack without seq", websocket.TextMessage, `{"type":"ack","stream":"user:x"}`},
			{"token frame without token", websocket.TextMessage, `{"type":"token"}`},
			{"oversized", websocket.TextMessage, `{"type":"ping","stream":"` + strings.Repeat("s", 4100) + `"}`},
			{"oversized, 100 KiB", websocket.TextMessage, `{"type":"ping","stream":"` + strings.Repeat("s", 100<<10) + `"}`},
			{"binary frame", websocket.BinaryMessage, `{"type":"ping"}`},
		}
		for _, tc := range cases {
			c := connect(t, e.URL, nil, &websocket.Dialer{WriteBufferSize: 128 << 10})
			c.send(api.ClientFrame{Type: "hello", Token: tok})
			if w := c.next(); w.Type != "welcome" {
				t.Fatalf("got %v, want welcome", w)
			}
			c.sendRaw(tc.typ, []byte(tc.body))
			c.expectClose(tc.name, api.CloseBadFrame, 5*time.Second)
			c.ws.Close()
		}
	})
}

// A connection that says nothing is closed with 4408 when HelloTimeout
// passes.
func TestNoHelloInTime(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{HelloTimeout: 200 * time.Millisecond})
	silent := connect(t, env.url, nil, nil)
	start := time.Now()
	silent.expectClose("silent", api.CloseHelloTimeout, 3*time.Second)
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("closed after %v, want about 200 ms", d)
	}
	waitFor(t, "no connection left", func() bool { return env.hub.Connections() == 0 })
}

// A ping gets a pong; acks are accepted (and recorded), not answered.
func TestPingAndAck(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		f := newOrg(t, e)
		c, w := open(t, e.URL, f.coord.Tokens.AccessToken, nil)
		c.send(api.ClientFrame{Type: "ping"})
		if p := c.next(); p.Type != "pong" {
			t.Fatalf("got %v, want pong", p)
		}
		appendEvents(t, e, f.stream(), "test.x", 2)
		base := seqOf(w, f.stream())
		c.events(f.stream(), base, 2)
		c.send(api.ClientFrame{Type: "ack", Stream: f.stream(), Seq: base + 2})
		c.send(api.ClientFrame{Type: "ack", Stream: "org:not-mine", Seq: 9}) // acks of unknown streams are harmless
		c.barrier()
		c.barrier()
	})

	// The sink gets where the connection's delivery of the stream began
	// (the head at connecting, or the resume position) or, after an ack,
	// that ack's seq; acks of streams the connection does not have are not
	// passed on.
	env := startHub(t, realtime.Options{})
	env.publish("org:shared", 5, 10)
	c, _ := open(t, env.url, "u1", nil)
	c.send(api.ClientFrame{Type: "ack", Stream: "org:shared", Seq: 7})
	c.send(api.ClientFrame{Type: "ack", Stream: "org:shared", Seq: 9})
	c.send(api.ClientFrame{Type: "ack", Stream: "org:other", Seq: 9})
	c.barrier()
	r, _ := open(t, env.url, "u1", map[string]int64{"org:shared": 2})
	r.events("org:shared", 2, 3)
	r.send(api.ClientFrame{Type: "ack", Stream: "org:shared", Seq: 5})
	r.barrier()
	env.mu.Lock()
	acks := strings.Join(env.acks, ";")
	env.mu.Unlock()
	if want := "u1 org:shared 5..7;u1 org:shared 7..9;u1 org:shared 2..5"; acks != want {
		t.Errorf("got acks %q, want %q", acks, want)
	}
}
