package server_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
)

// Nothing secret reaches the logs: not passwords, access or refresh tokens,
// even from calls that fail or bad feed handshakes.
func TestLogsHoldNoSecrets(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		su := signup(t, e, "rahasia@example.org")
		li := e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "rahasia@example.org", "password": apptest.Password})
		var auth api.AuthResponse
		li.Decode(t, &auth)
		e.Do(t, "POST", "/v1/auth/login", map[string]string{"email": "rahasia@example.org", "password": "salah-sekali-123"})
		rf := e.Do(t, "POST", "/v1/auth/refresh", map[string]string{"refresh_token": auth.Tokens.RefreshToken})
		var fresh api.RefreshResponse
		rf.Decode(t, &fresh)
		e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(fresh.Tokens.AccessToken)...)
		e.Do(t, "GET", "/v1/me", nil, apptest.Bearer(su.Tokens.AccessToken+"x")...)
		e.Do(t, "POST", "/v1/auth/logout", map[string]string{"refresh_token": fresh.Tokens.RefreshToken})
		ws, _, err := (&websocket.Dialer{Subprotocols: []string{api.FeedSubprotocol}}).Dial("ws"+strings.TrimPrefix(e.URL, "http")+"/v1/feed", nil)
		if err == nil {
			ws.WriteJSON(api.ClientFrame{Type: "hello", Token: su.Tokens.AccessToken + "broken"})
			ws.ReadMessage()
			ws.Close()
		}
		logs := e.Logs.String()
		if !strings.Contains(logs, `"path":"/v1/auth/login"`) {
			t.Fatal("the logs hold no request lines: the check below would prove nothing")
		}
		for name, secret := range map[string]string{
			"password": apptest.Password, "wrong password": "salah-sekali-123",
			"access token": su.Tokens.AccessToken[:40], "refresh token": su.Tokens.RefreshToken,
			"rotated refresh token": fresh.Tokens.RefreshToken, "a JWT": "eyJhbGci",
		} {
			if strings.Contains(logs, secret) {
				t.Errorf("the logs contain the %s", name)
			}
		}
	})
}

// Browsers of configured origins may call the API (preflight answered);
// others get no CORS grant, and are logged. HSTS is sent only behind TLS.
func TestCORSAndHSTS(t *testing.T) {
	e := apptest.Start(t, "sqlite", func(o *app.Options) {
		o.AllowedOrigins = []string{"https://dashboard.kopel.or.id"}
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	r := e.Do(t, "OPTIONS", "/v1/tasks", nil, "Origin", "https://dashboard.kopel.or.id", "Access-Control-Request-Method", "POST")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://dashboard.kopel.or.id" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Idempotency-Key") {
		t.Fatalf("preflight from an allowed origin: got %d %v", r.Status, r.Header)
	}
	r = e.Do(t, "GET", "/v1/orgs", nil, "Origin", "https://evil.example")
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("another origin: got %d with Allow-Origin %q, want none", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
	}
	// The console's own origin needs no grant and is no refusal; another
	// site's is logged (once a minute at most) so that a missing entry in
	// JARIMU_ALLOWED_ORIGINS shows.
	e.Do(t, "GET", "/v1/orgs", nil, "Origin", e.URL)
	e.Do(t, "GET", "/v1/orgs", nil, "Origin", "https://evil.example")
	if n := strings.Count(e.Logs.String(), `"origin":"https://evil.example"`); n != 1 || strings.Contains(e.Logs.String(), `"origin":"`+e.URL) {
		t.Fatalf("refusals logged: %d lines for another site (want 1), own origin logged: %v\n%s", n, strings.Contains(e.Logs.String(), `"origin":"`+e.URL), e.Logs.String())
	}
	if r.Header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS over plain HTTP")
	}
	r = e.Do(t, "GET", "/v1/orgs", nil, "X-Forwarded-Proto", "https")
	if !strings.Contains(r.Header.Get("Strict-Transport-Security"), "max-age=") || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("behind a TLS proxy: got %v, want HSTS and nosniff", r.Header)
	}
}

// Every log line written while serving a request names its request id,
// the same one the answer (and any problem) carries.
func TestLogLinesCarryTheRequestID(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	r := e.Do(t, "GET", "/v1/me", nil, "X-Request-Id", "uji-123")
	if r.Problem(t).RequestID != "uji-123" || r.Header.Get("X-Request-Id") != "uji-123" {
		t.Fatalf("got %s / %q, want the request id in the problem and the header", r.Body, r.Header.Get("X-Request-Id"))
	}
	var lines int
	for _, line := range strings.Split(strings.TrimSpace(e.Logs.String()), "\n") {
		if strings.Contains(line, `"path":"/v1/me"`) {
			lines++
			if !strings.Contains(line, `"request_id":"uji-123"`) {
				t.Fatalf("log line without the request id: %s", line)
			}
		}
	}
	if lines != 1 {
		t.Fatalf("got %d request lines for /v1/me, want 1", lines)
	}
}
