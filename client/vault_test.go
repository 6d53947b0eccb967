package client

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

// memVault is a TokenVault in memory, shared by the Clients given it, as a
// credentials file is shared by the processes of a CLI.
type memVault struct {
	lock chan struct{}
	mu   sync.Mutex
	t    api.Tokens
}

func newMemVault(t api.Tokens) *memVault {
	return &memVault{lock: make(chan struct{}, 1), t: t}
}

func (v *memVault) Update(ctx context.Context, fn func(api.Tokens) (api.Tokens, bool)) error {
	select {
	case v.lock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-v.lock }()
	if t, keep := fn(v.tokens()); keep {
		v.set(t)
	}
	return nil
}

func (v *memVault) tokens() api.Tokens {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.t
}

func (v *memVault) set(t api.Tokens) {
	v.mu.Lock()
	v.t = t
	v.mu.Unlock()
}

// Two Clients of one session (two runs of a CLI) never spend a refresh token
// twice: the second takes the tokens the first kept, and refreshes them
// itself only when they are due.
func TestVaultSharesRefreshes(t *testing.T) {
	f := newFakeServer(t)
	clk := newClock()
	v := newMemVault(f.tokens(0))
	a, _ := f.client(withClock(clk), WithTokens(f.tokens(0)), WithTokenVault(v))
	b, _ := f.client(withClock(clk), WithTokens(f.tokens(0)), WithTokenVault(v))
	ctx := context.Background()

	clk.Advance(890 * time.Second) // both access tokens are due
	if _, err := a.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if got := v.tokens(); got != f.tokens(1) {
		t.Fatalf("vault after a's refresh: got %+v, want %+v", got, f.tokens(1))
	}
	// b holds refresh-0, spent by a: it takes refresh-1 from the vault
	// instead of presenting refresh-0 (the fake server, like the real one
	// past its grace, refuses it).
	if _, err := b.Me(ctx); err != nil {
		t.Fatalf("b after a refreshed: %v", err)
	}
	if n := f.refreshHits.Load(); n != 1 {
		t.Errorf("got %d refreshes, want 1: b took a's tokens", n)
	}
	if got := b.Tokens(); got != f.tokens(1) {
		t.Errorf("b's tokens: got %+v, want %+v", got, f.tokens(1))
	}

	// Tokens taken from the vault that are due themselves are refreshed.
	due := f.tokens(1)
	due.ExpiresIn = 10
	v.set(due)
	c, _ := f.client(withClock(clk), WithTokens(f.tokens(0)), WithTokenVault(v))
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := v.tokens(); got != f.tokens(2) || c.Tokens() != f.tokens(2) || f.refreshHits.Load() != 2 {
		t.Errorf("after refreshing due tokens from the vault: vault %+v, client %+v, %d refreshes; want %+v and 2",
			v.tokens(), c.Tokens(), f.refreshHits.Load(), f.tokens(2))
	}
}

// A refused refresh clears the vault only when it still holds the refused
// token; a Client whose token was replaced in the vault (a new sign-in
// elsewhere) takes the new session instead of ending it.
func TestVaultRefusedRefreshKeepsNewerSession(t *testing.T) {
	f := newFakeServer(t)
	f.gen = 7 // the session signed in since
	f.refuseRefresh = true
	v := newMemVault(f.tokens(7))
	ctx := context.Background()

	old, _ := f.client(WithTokens(api.Tokens{AccessToken: "stale", RefreshToken: "refresh-0", ExpiresIn: 900}), WithTokenVault(v))
	if _, err := old.Me(ctx); err != nil {
		t.Fatalf("a Client of the old session: got %v, want it to take the new one", err)
	}
	if got := v.tokens(); got != f.tokens(7) || old.Tokens() != f.tokens(7) || f.refreshHits.Load() != 0 {
		t.Errorf("got vault %+v, client %+v after %d refreshes; want %+v kept and no refresh",
			v.tokens(), old.Tokens(), f.refreshHits.Load(), f.tokens(7))
	}

	// The vault holds the token refused: it is cleared.
	cur, _ := f.client(WithTokens(f.tokens(7)), WithTokenVault(v))
	if _, err := cur.Refresh(ctx); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("refused refresh: got %v, want ErrNotSignedIn", err)
	}
	if got := v.tokens(); got != (api.Tokens{}) {
		t.Errorf("vault after its token was refused: got %+v, want none", got)
	}
}

// A sign-out clears the vault only when it holds the Client's session; a
// sign-in keeps its tokens there.
func TestVaultSignOutKeepsAnotherSession(t *testing.T) {
	f := newFakeServer(t)
	v := newMemVault(f.tokens(3))
	ctx := context.Background()
	old, _ := f.client(WithTokens(f.tokens(0)), WithTokenVault(v))
	if err := old.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if got := v.tokens(); got != f.tokens(3) {
		t.Errorf("after an old session's logout: got %+v, want %+v kept", got, f.tokens(3))
	}
	cur, _ := f.client(WithTokens(f.tokens(3)), WithTokenVault(v))
	if err := cur.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if got := v.tokens(); got != (api.Tokens{}) {
		t.Errorf("after the session's own logout: got %+v, want none", got)
	}
	if _, err := cur.Login(ctx, "a@b.id", "long enough pass"); err != nil {
		t.Fatal(err)
	}
	if got := v.tokens(); got != f.tokens(0) {
		t.Errorf("after a login: got %+v, want %+v", got, f.tokens(0))
	}
}

// A refresh that fails for a passing reason lets a call go with the access
// token held only while that token still lives once the refresh has failed:
// one that expired while the refresh was tried (a slow server, another
// process's lock held long) is not sent.
func TestFailedRefreshSendsNoExpiredToken(t *testing.T) {
	f := newFakeServer(t)
	clk := newClock()
	f.mux.HandleFunc("POST /v1/auth/refresh", func(w http.ResponseWriter, r *http.Request) {
		clk.Advance(time.Minute)
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the database is unavailable", nil)
	})
	c, _ := f.client(withClock(clk), WithTokens(api.Tokens{AccessToken: "access-0", RefreshToken: "refresh-0", ExpiresIn: 20}))
	var me api.Me
	if err := c.do(context.Background(), http.MethodGet, "/v1/me", nil, nil, &me); err == nil {
		t.Fatal("the call succeeded with a token that expired during the refresh")
	}
	if n := len(f.requests("/v1/me")); n != 0 {
		t.Fatalf("%d calls sent with the expired access token", n)
	}
}
