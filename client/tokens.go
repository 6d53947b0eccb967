package client

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jarimu/jarimu/api"
)

const (
	// refreshMargin is how long before its expiry an access token is
	// replaced, so that it does not expire on the way to the server.
	refreshMargin = 30 * time.Second
	// refreshTimeout bounds a refresh, which runs on even when the caller
	// that started it gives up (see fly).
	refreshTimeout = 30 * time.Second
)

// ErrNotSignedIn matches (with errors.Is) the error of Refresh, or of a call
// that needed a refresh, when the session is over: the Client holds no
// refresh token, or the server refused it (that error also carries the
// server's *Error). Sign in again.
var ErrNotSignedIn = errors.New("jarimu: not signed in")

// refused is a refresh the server refused: its *Error, matching
// ErrNotSignedIn too.
type refused struct{ err *Error }

func (r refused) Error() string        { return r.err.Error() }
func (r refused) Unwrap() error        { return r.err }
func (r refused) Is(target error) bool { return target == ErrNotSignedIn }

// TokenVault keeps a session's tokens where several Clients share them,
// in one process or in several: a CLI's credentials file, say. See
// WithTokenVault.
type TokenVault interface {
	// Update takes a lock that every other Update of the same tokens waits
	// for, across processes, and calls fn with the tokens kept (zero when
	// none are; their ExpiresIn counted from now). When fn returns true, it
	// keeps the tokens fn returned before it releases the lock. fn may take
	// as long as a refresh: it calls the server. Update returns an error
	// when it cannot take the lock (ctx ends first, say) or read the tokens,
	// without calling fn, or when it cannot keep what fn returned.
	Update(ctx context.Context, fn func(kept api.Tokens) (api.Tokens, bool)) error
}

// flight is one refresh in progress, shared by every caller that wants to
// replace the same refresh token.
type flight struct {
	from string        // the refresh token being spent
	done chan struct{} // closed when err is set
	err  error
}

// Tokens returns the tokens the Client holds; zero when signed out.
func (c *Client) Tokens() api.Tokens {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok
}

// SetTokens replaces the tokens the Client holds (zero tokens sign it out)
// and tells the token store. The access token's expiry is counted from now.
// With a TokenVault, the tokens are kept there too; zero tokens clear it
// only when it holds the refresh token the Client held.
func (c *Client) SetTokens(t api.Tokens) {
	if c.vault == nil {
		c.setTokens(t, "")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	set := false
	c.vault.Update(ctx, func(kept api.Tokens) (api.Tokens, bool) {
		held := c.Tokens().RefreshToken
		c.setTokens(t, "")
		set = true
		// A sign-out does not end the session another Client kept since.
		return t, t.RefreshToken != "" || kept.RefreshToken == held
	})
	if !set { // the vault could not be read: the Client changes all the same
		c.setTokens(t, "")
	}
}

// setTokens replaces the tokens and tells the store; when from is not empty,
// only if the refresh token held is still from (a refresh that ends after a
// logout or a SetTokens must not undo it).
func (c *Client) setTokens(t api.Tokens, from string) {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	c.mu.Lock()
	if from != "" && c.tok.RefreshToken != from {
		c.mu.Unlock()
		return
	}
	c.tok, c.expiry = t, expiryOf(t, c.now())
	c.mu.Unlock()
	if c.store != nil {
		c.store(t)
	}
}

// expiryOf is when t's access token expires, counted from now; zero when
// unknown.
func expiryOf(t api.Tokens, now time.Time) time.Time {
	if t.AccessToken == "" || t.ExpiresIn <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(t.ExpiresIn) * time.Second)
}

// credentials returns the access token to send (empty when signed out) and
// the refresh token paired with it, refreshing first when the access token
// is missing or expires within refreshMargin.
func (c *Client) credentials(ctx context.Context) (access, held string, err error) {
	c.mu.Lock()
	t, exp := c.tok, c.expiry
	c.mu.Unlock()
	now := c.now()
	if !needsRefresh(t, exp, now) {
		return t.AccessToken, t.RefreshToken, nil
	}
	nt, err := c.refresh(ctx, t.RefreshToken)
	if err == nil {
		return nt.AccessToken, nt.RefreshToken, nil
	}
	// A refresh that failed for a passing reason need not fail a call
	// whose access token still has a few seconds to live, now that the
	// refresh has failed (it may have waited long: a slow server, another
	// process's lock).
	if StatusOf(err) != http.StatusUnauthorized && ctx.Err() == nil && t.AccessToken != "" && c.now().Before(exp) {
		return t.AccessToken, t.RefreshToken, nil
	}
	return "", "", err
}

// needsRefresh reports whether t can be refreshed and its access token is
// missing or expires (at exp; zero: unknown) within refreshMargin of now.
func needsRefresh(t api.Tokens, exp, now time.Time) bool {
	if t.RefreshToken == "" {
		return false
	}
	return t.AccessToken == "" || !exp.IsZero() && !now.Add(refreshMargin).Before(exp)
}

// refresh replaces the refresh token from with new tokens and returns the
// tokens held afterwards. Callers that ask while a refresh of the same token
// is in flight wait for it; callers whose token was already replaced get the
// new tokens at once: one token is never spent twice (the server would revoke
// its whole family).
func (c *Client) refresh(ctx context.Context, from string) (api.Tokens, error) {
	for {
		c.mu.Lock()
		f := c.flight
		if from == "" || c.tok.RefreshToken != from {
			c.mu.Unlock()
			return c.held()
		}
		if f == nil {
			f = &flight{from: from, done: make(chan struct{})}
			c.flight = f
			go c.fly(context.WithoutCancel(ctx), f)
		}
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return api.Tokens{}, ctx.Err()
		}
		if f.from != from {
			continue // tokens were set meanwhile: refresh those
		}
		if f.err != nil {
			return api.Tokens{}, f.err
		}
		return c.held()
	}
}

// Wait returns once no refresh of the Client is in flight. A refresh runs
// on when the calls that wanted it give up (their context ends): once it is
// sent, the server may have spent the old refresh token, and only its answer
// holds the new one, which the Client then keeps (in its TokenVault too,
// under the vault's lock). A program that exits when its context is
// cancelled (Ctrl-C, say) calls Wait first, or a session renewed at that
// moment is lost. A refresh ends within 30 seconds.
func (c *Client) Wait() {
	for {
		c.mu.Lock()
		f := c.flight
		c.mu.Unlock()
		if f == nil {
			return
		}
		<-f.done // f no longer is c.flight: one started since is waited for next
	}
}

// held returns the tokens held, or ErrNotSignedIn when there are none to
// refresh.
func (c *Client) held() (api.Tokens, error) {
	t := c.Tokens()
	if t.RefreshToken == "" {
		return api.Tokens{}, ErrNotSignedIn
	}
	return t, nil
}

// fly performs the refresh of f. It runs on its own goroutine, bounded by
// refreshTimeout, and outlives a caller that gives up: once the server has
// spent the old refresh token, only this answer holds the new one.
func (c *Client) fly(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	if c.vault != nil {
		f.err = c.flyShared(ctx, f.from)
	} else {
		t, err := c.spend(ctx, f.from)
		switch {
		case err == nil:
			c.setTokens(t, f.from)
		case errors.As(err, new(refused)):
			c.setTokens(api.Tokens{}, f.from)
		}
		f.err = err
	}
	c.mu.Lock()
	c.flight = nil
	c.mu.Unlock()
	close(f.done)
}

// flyShared is fly with a TokenVault: under the vault's lock, it takes the
// tokens kept there when another Client replaced from, refreshes what is
// due, and keeps the result.
func (c *Client) flyShared(ctx context.Context, from string) error {
	ran := false
	var err error
	uerr := c.vault.Update(ctx, func(kept api.Tokens) (api.Tokens, bool) {
		ran = true
		if kept.RefreshToken != from {
			// Another Client refreshed, signed in or signed out: from may
			// be spent already, and presenting it again could end the
			// session. Take the tokens kept instead.
			c.setTokens(kept, from)
			if now := c.now(); !needsRefresh(kept, expiryOf(kept, now), now) {
				return api.Tokens{}, false
			}
			from = kept.RefreshToken
		}
		var t api.Tokens
		t, err = c.spend(ctx, from)
		switch {
		case err == nil:
			c.setTokens(t, from)
			return t, true
		case errors.As(err, new(refused)):
			// The vault still holds from: its lock is held.
			c.setTokens(api.Tokens{}, from)
			return api.Tokens{}, true
		}
		return api.Tokens{}, false
	})
	if !ran {
		return uerr // a passing failure: the lock or the read
	}
	return err // a failure to keep the tokens is the vault's to tell
}

// spend presents the refresh token from to the server and returns the new
// tokens; a refusal (401) is a refused error.
func (c *Client) spend(ctx context.Context, from string) (api.Tokens, error) {
	var resp api.RefreshResponse
	err := c.do(ctx, http.MethodPost, "/v1/auth/refresh", nil, api.RefreshRequest{RefreshToken: from}, &resp)
	var e *Error
	switch {
	case err == nil:
		return resp.Tokens, nil
	case errors.As(err, &e) && e.Status == http.StatusUnauthorized:
		return api.Tokens{}, refused{e}
	}
	return api.Tokens{}, err
}
