package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	privacy "github.com/jarimu/jarimu/notice"
)

func TestRefreshBeforeExpiry(t *testing.T) {
	f := newFakeServer(t)
	f.expiresIn = 60
	clk := newClock()
	c, _ := f.client(withClock(clk), WithTokens(f.tokens(0)))
	ctx := context.Background()

	clk.Advance(25 * time.Second) // 35 s left: kept
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.refreshHits.Load(); n != 0 {
		t.Fatalf("with 35 s left: got %d refreshes, want 0", n)
	}
	clk.Advance(10 * time.Second) // 25 s left: refreshed first
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}
	seen := f.requests("/v1/me")
	if n, last := f.refreshHits.Load(), seen[len(seen)-1].Header.Get("Authorization"); n != 1 || last != "Bearer access-1" || len(seen) != 2 {
		t.Errorf("with 25 s left: got %d refreshes, %d calls, last with %q; want 1, 2, Bearer access-1", n, len(seen), last)
	}
	if got := c.Tokens(); got != f.tokens(1) {
		t.Errorf("tokens: got %+v, want %+v", got, f.tokens(1))
	}
}

func TestRefreshOn401ThenRetry(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("POST /v1/alerts", func(w http.ResponseWriter, r *http.Request) {
		if f.authorized(w, r) {
			writeJSON(w, http.StatusCreated, map[string]string{"id": "a1"})
		}
	})
	c, _ := f.client(WithTokens(api.Tokens{AccessToken: "stale", RefreshToken: "refresh-0", ExpiresIn: 900}))

	in := map[string]string{"title": "Hoaks", "body": "Jangan percaya"}
	var out map[string]string
	mustDo(t, c, http.MethodPost, "/v1/alerts", in, &out)

	seen := f.requests("/v1/alerts")
	if len(seen) != 2 || f.refreshHits.Load() != 1 {
		t.Fatalf("got %d calls and %d refreshes, want 2 and 1", len(seen), f.refreshHits.Load())
	}
	if a0, a1 := seen[0].Header.Get("Authorization"), seen[1].Header.Get("Authorization"); a0 != "Bearer stale" || a1 != "Bearer access-1" {
		t.Errorf("tokens sent: got %q then %q", a0, a1)
	}
	if seen[0].Body != seen[1].Body || seen[0].Body == "" {
		t.Errorf("bodies: got %q then %q, want the same", seen[0].Body, seen[1].Body)
	}
	if k0, k1 := seen[0].Header.Get("Idempotency-Key"), seen[1].Header.Get("Idempotency-Key"); k0 == "" || k0 != k1 {
		t.Errorf("keys: got %q then %q, want the same", k0, k1)
	}
	if out["id"] != "a1" {
		t.Errorf("answer: got %v", out)
	}
}

func TestConcurrentCallsShareOneRefresh(t *testing.T) {
	tests := []struct {
		name    string
		tokens  func(f *fakeServer) api.Tokens
		advance time.Duration
	}{
		{"expiring", func(f *fakeServer) api.Tokens { return f.tokens(0) }, 890 * time.Second},
		{"refused", func(f *fakeServer) api.Tokens {
			return api.Tokens{AccessToken: "stale", RefreshToken: "refresh-0", ExpiresIn: 900}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t)
			clk := newClock()
			c, _ := f.client(withClock(clk), WithTokens(tt.tokens(f)))
			clk.Advance(tt.advance)

			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for range 20 {
				wg.Go(func() {
					_, err := c.Me(context.Background())
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if n := f.refreshHits.Load(); n != 1 {
				t.Errorf("got %d refreshes for 20 calls, want 1", n)
			}
		})
	}
}

func TestRefreshFailureClearsTokens(t *testing.T) {
	f := newFakeServer(t)
	f.refuseRefresh = true
	var stored []api.Tokens
	c, _ := f.client(
		WithTokens(api.Tokens{AccessToken: "stale", RefreshToken: "refresh-0", ExpiresIn: 900}),
		WithTokenStore(func(t api.Tokens) { stored = append(stored, t) }),
	)
	_, err := c.Me(context.Background())
	if !IsProblem(err, "invalid-refresh-token") || StatusOf(err) != http.StatusUnauthorized || !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("got %v, want 401 invalid-refresh-token matching ErrNotSignedIn", err)
	}
	if got := c.Tokens(); got != (api.Tokens{}) {
		t.Errorf("tokens: got %+v, want none", got)
	}
	if want := []api.Tokens{{}}; !reflect.DeepEqual(stored, want) {
		t.Errorf("stored: got %+v, want %+v", stored, want)
	}
	if _, err := c.Refresh(context.Background()); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("refresh when signed out: got %v, want ErrNotSignedIn", err)
	}
	if n := f.refreshHits.Load(); n != 1 {
		t.Errorf("got %d refreshes, want 1", n)
	}
}

func TestTokenStoreFollowsEveryChange(t *testing.T) {
	f := newFakeServer(t)
	f.expiresIn = 60
	clk := newClock()
	var mu sync.Mutex
	var stored []api.Tokens
	c, _ := f.client(withClock(clk), WithTokenStore(func(t api.Tokens) {
		mu.Lock()
		stored = append(stored, t)
		mu.Unlock()
	}))
	ctx := context.Background()

	if _, err := c.Login(ctx, "a@b.id", "long enough pass"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if want := []api.Tokens{f.tokens(0), f.tokens(1), {}}; !reflect.DeepEqual(stored, want) {
		t.Errorf("stored: got %+v, want %+v", stored, want)
	}
	if got, want := f.requests("/v1/auth/logout")[0].Body, `{"refresh_token":"refresh-1"}`; got != want {
		t.Errorf("logout body: got %q, want %q", got, want)
	}
}

func TestLogoutSignsOutEvenWhenRefused(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("POST /v1/auth/logout", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusUnauthorized, "invalid-refresh-token", "already revoked", nil)
	})
	c, _ := f.client(WithTokens(f.tokens(0)))
	if err := c.Logout(context.Background()); err != nil {
		t.Errorf("got %v, want nil", err)
	}
	if got := c.Tokens(); got != (api.Tokens{}) {
		t.Errorf("tokens: got %+v, want none", got)
	}
	if err := c.Logout(context.Background()); err != nil || len(f.requests("/v1/auth/logout")) != 1 {
		t.Errorf("logout when signed out: got %v, want nil and no request", err)
	}
}

// A refresh runs on when its caller gives up, and Wait returns once its
// new tokens are kept, by the Client and by its TokenVault: the server has
// spent the old refresh token.
func TestRefreshOutlivesCallerThatGivesUp(t *testing.T) {
	for _, shared := range []bool{false, true} {
		f := newFakeServer(t)
		v := newMemVault(f.tokens(0))
		opts := []Option{WithTokens(f.tokens(0))}
		if shared {
			opts = append(opts, WithTokenVault(v))
		}
		c, _ := f.client(opts...)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Refresh(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("vault %v: got %v, want context.Canceled", shared, err)
		}
		c.Wait()
		if got := c.Tokens(); got != f.tokens(1) || f.refreshHits.Load() != 1 {
			t.Errorf("vault %v: got tokens %+v after %d refreshes, want %+v after 1", shared, got, f.refreshHits.Load(), f.tokens(1))
		}
		if got := v.tokens(); shared && got != f.tokens(1) {
			t.Errorf("the vault after Wait: got %+v, want %+v", got, f.tokens(1))
		}
	}
}

// The device token of each sign-in is sent with the next login, survives a
// logout, and can be handed to a new Client (a CLI's next run).
func TestDeviceTokenResentOnLogin(t *testing.T) {
	f := newFakeServer(t)
	c, _ := f.client()
	ctx := context.Background()
	sentDevice := func(i int) string {
		t.Helper()
		var req api.LoginRequest
		if err := json.Unmarshal([]byte(f.requests("/v1/auth/login")[i].Body), &req); err != nil {
			t.Fatal(err)
		}
		return req.DeviceToken
	}

	if _, err := c.Signup(ctx, api.SignupRequest{Email: "a@b.id", Password: "long enough pass", Name: "A", PrivacyVersion: privacy.Version}); err != nil {
		t.Fatal(err)
	}
	if got := c.DeviceToken(); got != "device-1" {
		t.Fatalf("after signup: got device token %q, want device-1", got)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, "a@b.id", "long enough pass"); err != nil {
		t.Fatal(err)
	}
	if got := sentDevice(0); got != "device-1" {
		t.Errorf("login after logout sent device token %q, want device-1 (the signup's)", got)
	}
	if _, err := c.Login(ctx, "a@b.id", "long enough pass"); err != nil {
		t.Fatal(err)
	}
	if got := sentDevice(1); got != "device-2" {
		t.Errorf("second login sent device token %q, want device-2 (the first login's)", got)
	}

	fresh, _ := f.client()
	if _, err := fresh.Login(ctx, "a@b.id", "long enough pass"); err != nil {
		t.Fatal(err)
	}
	if raw := f.requests("/v1/auth/login")[2].Body; strings.Contains(raw, "device_token") {
		t.Errorf("a Client without a device token sent %s, want no device_token field", raw)
	}
	saved, _ := f.client(WithDeviceToken(c.DeviceToken()))
	if _, err := saved.Login(ctx, "a@b.id", "long enough pass"); err != nil {
		t.Fatal(err)
	}
	if got := sentDevice(3); got != "device-3" {
		t.Errorf("a Client given the saved device token sent %q, want device-3", got)
	}
}
