// Package client is the Go SDK of Jarimu's public API (v1), for volunteer
// apps, dashboards, the jarimu CLI and end-to-end tests.
//
//	c := client.New("https://jarimu.example.org")
//	if _, err := c.Login(ctx, email, password); err != nil {
//		return err
//	}
//	me, err := c.Me(ctx)
//	if client.IsProblem(err, "invalid-token") {
//		// signed out: sign in again
//	}
//
// A Client remembers the device token each sign-in answers and sends it with
// its next login (see WithDeviceToken to keep it across runs).
//
// A Client keeps its tokens fresh by itself: it refreshes the access token
// when it expires within 30 seconds, and once more when a call is answered
// 401 "invalid-token". Concurrent calls share one refresh. Clients in several
// processes share one session through a TokenVault (see WithTokenVault). A
// refresh runs to its end when the calls that wanted it give up; a program
// that exits on Ctrl-C calls Wait before it does, so that the tokens of a
// refresh the server has answered are kept.
//
// It retries only what is safe to repeat (GETs and POSTs carrying an
// Idempotency-Key), at most twice, on a network error, a 503 or a 429 whose
// Retry-After is at most 10 seconds. Every POST outside /v1/auth/ carries an
// Idempotency-Key (see IdempotencyKey), so a report, claim or alert sent over
// a flaky network is never made twice.
//
// List calls (Orgs, Memberships, Audit, Tasks, Reports, Alerts,
// Subscriptions) return one api.Page; All, or AllOrgs, AllMemberships,
// AllAudit, AllTasks, AllReports, AllAlerts and AllSubscriptions, follow the
// pages with range-over-func:
//
//	for o, err := range c.AllOrgs(ctx, client.OrgFilter{Status: api.OrgAccredited}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(o.Name)
//	}
//
// Public reads (the registry: Orgs, Org; alerts: Alerts, Alert; open data:
// OpenIndex, OpenStats, OpenExport) are sent without the access token, so
// they work signed out too.
//
// Evidence files are streamed both ways: UploadEvidence sends a multipart
// body while it reads the file, Evidence and OpenExport hand over the answer
// unread. The http.Client's timeout (30 s by default) bounds the whole
// transfer; give a longer one with WithHTTPClient for big files on slow
// networks.
//
// Errors answered by the server are *Error values; switch on their Type.
//
// The real-time feed (GET /v1/feed) is read with Feed, which reconnects,
// resumes without losing or repeating events, and keeps its access token
// fresh by itself.
package client

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jarimu/jarimu/api"
)

const (
	// defaultTimeout bounds each HTTP attempt of the default http.Client.
	defaultTimeout = 30 * time.Second
	// defaultUserAgent names this SDK to the server's logs.
	defaultUserAgent = "jarimu-go"
)

// Client calls one Jarimu server. Make it with New; it is safe for concurrent
// use by multiple goroutines and meant to be shared.
type Client struct {
	base      string
	hc        *http.Client
	userAgent string
	store     func(api.Tokens)
	vault     TokenVault

	// now is the clock of token expiry and sleep waits between retries;
	// tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	storeMu sync.Mutex // serializes token changes with their store callback
	mu      sync.Mutex // guards the fields below
	tok     api.Tokens
	expiry  time.Time // of tok.AccessToken; zero when unknown
	flight  *flight   // the refresh in progress, if any
	device  string    // the device token of the last sign-in, sent with the next login
}

// Option configures a Client made by New.
type Option func(*Client)

// New makes a Client for the server at baseURL, such as
// "https://jarimu.example.org" (a path prefix is kept; a trailing slash is
// not needed). By default it uses its own http.Client with a 30 s timeout and
// starts signed out.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{
		base:      strings.TrimRight(baseURL, "/"),
		hc:        &http.Client{Timeout: defaultTimeout},
		userAgent: defaultUserAgent,
		now:       time.Now,
		sleep:     sleep,
	}
	for _, o := range opts {
		o(c)
	}
	c.expiry = expiryOf(c.tok, c.now())
	return c
}

// WithHTTPClient makes the Client send its requests through hc, for custom
// transports, proxies or timeouts. A nil hc keeps the default.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithUserAgent sets the User-Agent header of every request (default
// "jarimu-go"), so that server logs can tell apps and versions apart.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithTokens starts the Client signed in with t, typically tokens a CLI saved
// earlier. The access token's expiry is counted from now; one that is in fact
// older is caught by the 401 "invalid-token" answer and refreshed then. The
// token store is not called for these tokens.
func WithTokens(t api.Tokens) Option {
	return func(c *Client) { c.tok = t }
}

// WithDeviceToken gives the Client the device token a sign-in answered
// earlier (api.AuthResponse.DeviceToken, kept by the caller, typically with
// its saved session), to send with its next Login. With it, the server lets
// the login through even while strangers guessing the password are being
// throttled. See DeviceToken.
func WithDeviceToken(token string) Option {
	return func(c *Client) { c.device = token }
}

// WithTokenStore makes the Client call store with the new tokens whenever
// they change (sign-in, refresh, SetTokens) and with zero tokens when they
// are cleared (logout, refused refresh), so that a CLI can persist them.
// Calls are serialized and in order. store may call Tokens but must not call
// SetTokens, nor make calls with this Client.
func WithTokenStore(store func(api.Tokens)) Option {
	return func(c *Client) { c.store = store }
}

// WithTokenVault makes the Client share its session with every other Client
// of v, in this process or in others (see TokenVault):
//
//   - Before it spends its refresh token, the Client reads the tokens kept in
//     v, under v's lock. When another Client kept other tokens there (it
//     refreshed, or signed in or out), the Client takes those instead of
//     presenting a refresh token that may be spent already: the server
//     answers a spent one, past a few seconds' grace, by ending the whole
//     session. It refreshes the tokens it took only if their access token is
//     due too.
//   - It keeps the tokens of its refresh in v before releasing the lock.
//   - A refresh the server refuses clears v only when v still holds the
//     refused token, never a session kept there since.
//   - A sign-in or SetTokens keeps its tokens in v; a sign-out (zero tokens)
//     clears v only when v holds the refresh token the Client held.
//
// The token store of WithTokenStore, if any, is called as well, with every
// change of the Client's tokens, those taken from v included.
func WithTokenVault(v TokenVault) Option {
	return func(c *Client) { c.vault = v }
}
