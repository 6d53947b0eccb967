package client

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	privacy "github.com/jarimu/jarimu/notice"
)

func TestAutomaticIdempotencyKeyReusedOnRetry(t *testing.T) {
	f := newFakeServer(t)
	var hits atomic.Int32
	f.mux.HandleFunc("POST /v1/reports", counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		if hits.Load() == 1 {
			w.Header().Set("Retry-After", "1")
			writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the database is down", nil)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": "r1"})
	}))
	c, s := f.client()

	var out map[string]string
	mustDo(t, c, http.MethodPost, "/v1/reports", map[string]string{"url": "https://x.example/p"}, &out)
	mustDo(t, c, http.MethodPost, "/v1/reports", map[string]string{"url": "https://x.example/q"}, nil)

	seen := f.requests("/v1/reports")
	if len(seen) != 3 {
		t.Fatalf("got %d requests, want 3 (a retry, then a new call)", len(seen))
	}
	k0, k1, k2 := seen[0].Header.Get("Idempotency-Key"), seen[1].Header.Get("Idempotency-Key"), seen[2].Header.Get("Idempotency-Key")
	if k0 == "" || k0 != k1 {
		t.Errorf("retry keys: got %q then %q, want the same non-empty key", k0, k1)
	}
	if k2 == "" || k2 == k0 {
		t.Errorf("a new call must get a new key: got %q after %q", k2, k0)
	}
	if seen[0].Body != seen[1].Body {
		t.Errorf("retried body: got %q, want %q", seen[1].Body, seen[0].Body)
	}
	if got := s.waits(); len(got) != 1 || got[0] != time.Second {
		t.Errorf("waits: got %v, want [1s] (the Retry-After)", got)
	}
	if out["id"] != "r1" {
		t.Errorf("answer: got %v, want id r1", out)
	}
}

func TestExplicitIdempotencyKey(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("POST /v1/admin/users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, api.User{ID: "u2"})
	})
	c, _ := f.client()
	if _, err := c.CreateUser(context.Background(), api.CreateUserRequest{Email: "a@b.id"}, IdempotencyKey("officer-dki-1")); err != nil {
		t.Fatal(err)
	}
	if got := f.requests("/v1/admin/users")[0].Header.Get("Idempotency-Key"); got != "officer-dki-1" {
		t.Errorf("got key %q, want officer-dki-1", got)
	}
}

func TestNoIdempotencyKeyOrTokenOnAuthCalls(t *testing.T) {
	f := newFakeServer(t)
	c, _ := f.client(WithTokens(api.Tokens{AccessToken: "stale", RefreshToken: "refresh-0", ExpiresIn: 900}))
	ctx := context.Background()
	if _, err := c.Signup(ctx, api.SignupRequest{Email: "a@b.id", Password: "long enough pass", Name: "A", PrivacyVersion: privacy.Version}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, "a@b.id", "long enough pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/v1/auth/signup", "/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"} {
		seen := f.requests(p)
		if len(seen) != 1 {
			t.Fatalf("%s: got %d requests, want 1", p, len(seen))
		}
		if k, a := seen[0].Header.Get("Idempotency-Key"), seen[0].Header.Get("Authorization"); k != "" || a != "" {
			t.Errorf("%s: got Idempotency-Key %q, Authorization %q, want neither", p, k, a)
		}
	}
}

func TestRequestHeaders(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("POST /v1/things", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	f.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	c, _ := f.client(WithUserAgent("relawan-app/2.1"), WithTokens(f.tokens(0)))
	var out struct{ X int }
	mustDo(t, c, http.MethodPost, "/v1/things", struct{}{}, &out) // 204 with out given
	if err := c.Healthz(context.Background()); err != nil {
		t.Fatal(err)
	}

	h := f.requests("/v1/things")[0].Header
	want := map[string]string{"User-Agent": "relawan-app/2.1", "Content-Type": "application/json", "Authorization": "Bearer access-0"}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
	h = f.requests("/healthz")[0].Header
	if a, ct := h.Get("Authorization"), h.Get("Content-Type"); a != "" || ct != "" {
		t.Errorf("healthz: got Authorization %q, Content-Type %q, want neither", a, ct)
	}
}

func TestPathSegmentsEscaped(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("PATCH /v1/admin/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.User{ID: r.PathValue("id"), Status: api.UserSuspended})
	})
	c, _ := f.client()
	u, err := c.SetUserStatus(context.Background(), "a/b c", api.UserSuspended)
	if err != nil {
		t.Fatal(err)
	}
	seen := f.requests("/v1/admin/users/a%2Fb%20c")
	if len(seen) != 1 || u.ID != "a/b c" {
		t.Fatalf("got %d requests and id %q, want 1 request for id %q", len(seen), u.ID, "a/b c")
	}
	if got, want := seen[0].Body, `{"status":"suspended"}`; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
}

func TestRetryNetworkErrorOnlyWhenSafe(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("GET /v1/down", hangUp)
	f.mux.HandleFunc("POST /v1/down", hangUp)
	f.mux.HandleFunc("PATCH /v1/admin/users/{id}", hangUp)
	f.mux.HandleFunc("POST /v1/auth/login", hangUp)
	c, s := f.client()
	ctx := context.Background()

	tests := []struct {
		name     string
		call     func() error
		path     string
		attempts int
	}{
		{"GET", func() error { return c.do(ctx, http.MethodGet, "/v1/down", nil, nil, nil) }, "/v1/down", 3},
		{"POST with key", func() error { return c.do(ctx, http.MethodPost, "/v1/down", nil, struct{}{}, nil) }, "/v1/down", 3},
		{"PATCH", func() error { _, err := c.SetUserStatus(ctx, "u1", "active"); return err }, "/v1/admin/users/u1", 1},
		{"login", func() error { _, err := c.Login(ctx, "a@b.id", "pw"); return err }, "/v1/auth/login", 1},
	}
	for _, tt := range tests {
		before := len(f.requests(tt.path))
		err := tt.call()
		if err == nil || StatusOf(err) != 0 {
			t.Errorf("%s: got %v, want a network error", tt.name, err)
		}
		if got := len(f.requests(tt.path)) - before; got != tt.attempts {
			t.Errorf("%s: got %d attempts, want %d", tt.name, got, tt.attempts)
		}
	}
	waits := s.waits()
	if len(waits) != 4 {
		t.Fatalf("got waits %v, want two per retried call", waits)
	}
	for i, w := range waits {
		base := backoffs[i%2]
		if w < base/2 || w >= base*3/2 {
			t.Errorf("wait %d: got %v, want within [%v, %v)", i, w, base/2, base*3/2)
		}
	}
}

func TestNoRetryOnUnsafeOrLongRetryAfter(t *testing.T) {
	f := newFakeServer(t)
	var patches, gets, readys atomic.Int32
	unavailable := func(after string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", after)
			writeProblem(w, http.StatusServiceUnavailable, "unavailable", "down", nil)
		}
	}
	f.mux.HandleFunc("PATCH /v1/admin/users/{id}", counter(&patches, unavailable("1")))
	f.mux.HandleFunc("GET /v1/me", counter(&gets, unavailable("11")))
	f.mux.HandleFunc("GET /readyz", counter(&readys, unavailable("1")))
	c, _ := f.client()
	ctx := context.Background()

	_, err := c.SetUserStatus(ctx, "u1", api.UserActive)
	_, err2 := c.Me(ctx)
	err3 := c.Readyz(ctx)
	for _, e := range []error{err, err2, err3} {
		if StatusOf(e) != http.StatusServiceUnavailable {
			t.Errorf("got %v, want a 503", e)
		}
	}
	if p, g, r := patches.Load(), gets.Load(), readys.Load(); p != 1 || g != 1 || r != 1 {
		t.Errorf("attempts: PATCH %d, GET with Retry-After 11 s %d, readyz %d; want 1 each", p, g, r)
	}
}

func TestRetriesGiveUpAfterTwo(t *testing.T) {
	f := newFakeServer(t)
	var hits atomic.Int32
	f.mux.HandleFunc("GET /v1/busy", counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusTooManyRequests, "rate-limited", "slow down", nil)
	}))
	c, s := f.client()
	err := c.do(context.Background(), http.MethodGet, "/v1/busy", nil, nil, nil)
	if !IsProblem(err, "rate-limited") || hits.Load() != 3 || len(s.waits()) != 2 {
		t.Errorf("got %v after %d attempts and waits %v; want rate-limited after 3 attempts and 2 waits", err, hits.Load(), s.waits())
	}
}

func TestContextCancellationStopsRetries(t *testing.T) {
	f := newFakeServer(t)
	var hits atomic.Int32
	f.mux.HandleFunc("GET /v1/down", counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "down", nil)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The caller gives up while the Client waits out the Retry-After.
	c := New(f.srv.URL, func(c *Client) {
		c.sleep = func(ctx context.Context, d time.Duration) error {
			cancel()
			return sleep(ctx, d)
		}
	})
	start := time.Now()
	err := c.do(ctx, http.MethodGet, "/v1/down", nil, nil, nil)
	if !errors.Is(err, context.Canceled) || StatusOf(err) != http.StatusServiceUnavailable {
		t.Errorf("got %v, want context.Canceled carrying the last 503", err)
	}
	if hits.Load() != 1 || time.Since(start) > 4*time.Second {
		t.Errorf("got %d attempts in %v, want 1 and no 5 s wait", hits.Load(), time.Since(start))
	}

	err = c.do(ctx, http.MethodGet, "/v1/down", nil, nil, nil)
	if !errors.Is(err, context.Canceled) || hits.Load() != 1 {
		t.Errorf("a done context: got %v after %d attempts, want context.Canceled and no request", err, hits.Load())
	}
}

func TestHealthzAndReadyz(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	f.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusServiceUnavailable, "draining", "shutting down", nil)
	})
	c := New(f.srv.URL + "/") // a trailing slash is fine
	if err := c.Healthz(context.Background()); err != nil {
		t.Errorf("healthz: got %v, want nil", err)
	}
	err := c.Readyz(context.Background())
	if !IsProblem(err, "draining") {
		t.Errorf("readyz: got %v, want draining", err)
	}
}
