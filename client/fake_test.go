package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

// fakeServer imitates the server's sign-in calls closely enough for the
// client: token pairs rotate by generation, and only the current pair works.
// Tests add their own routes to mux; they take precedence over the built-in
// ones of base.
type fakeServer struct {
	t    *testing.T
	srv  *httptest.Server
	mux  *http.ServeMux
	base *http.ServeMux

	refreshHits atomic.Int32

	mu            sync.Mutex
	gen           int
	expiresIn     int
	refuseRefresh bool
	signIns       int // signups and logins answered, numbering device tokens
	seen          []seenRequest
}

// seenRequest is a request as the fake server received it.
type seenRequest struct {
	Method string
	Path   string // escaped
	Header http.Header
	Body   string
	Query  string // raw
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, mux: http.NewServeMux(), base: http.NewServeMux(), expiresIn: 900}
	f.base.HandleFunc("POST /v1/auth/login", f.handleLogin)
	f.base.HandleFunc("POST /v1/auth/signup", f.handleLogin)
	f.base.HandleFunc("POST /v1/auth/refresh", f.handleRefresh)
	f.base.HandleFunc("POST /v1/auth/logout", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	f.base.HandleFunc("GET /v1/me", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, api.Me{User: api.User{ID: "u1"}})
	})
	f.srv = httptest.NewServer(http.HandlerFunc(f.record))
	t.Cleanup(f.srv.Close)
	return f
}

// record notes each request, with its body, then routes it.
func (f *fakeServer) record(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{r.Method, r.URL.EscapedPath(), r.Header.Clone(), string(b), r.URL.RawQuery})
	f.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(b))
	if _, pattern := f.mux.Handler(r); pattern != "" {
		f.mux.ServeHTTP(w, r) // sets the path values, unlike the handler alone
		return
	}
	f.base.ServeHTTP(w, r)
}

// requests returns the requests received so far on path.
func (f *fakeServer) requests(path string) []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []seenRequest
	for _, s := range f.seen {
		if s.Path == path {
			out = append(out, s)
		}
	}
	return out
}

// tokens is the pair of generation gen.
func (f *fakeServer) tokens(gen int) api.Tokens {
	return api.Tokens{
		AccessToken:  "access-" + strconv.Itoa(gen),
		RefreshToken: "refresh-" + strconv.Itoa(gen),
		TokenType:    "Bearer",
		ExpiresIn:    f.expiresIn,
	}
}

// authorized reports whether r carries the current access token, and
// answers 401 invalid-token when it does not.
func (f *fakeServer) authorized(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	want := "Bearer " + f.tokens(f.gen).AccessToken
	f.mu.Unlock()
	if r.Header.Get("Authorization") == want {
		return true
	}
	writeProblem(w, http.StatusUnauthorized, "invalid-token", "the access token is missing, invalid or expired", nil)
	return false
}

func (f *fakeServer) handleLogin(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	t := f.tokens(f.gen)
	f.signIns++
	device := "device-" + strconv.Itoa(f.signIns)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, api.AuthResponse{User: api.User{ID: "u1"}, Tokens: t, DeviceToken: device})
}

func (f *fakeServer) handleRefresh(w http.ResponseWriter, r *http.Request) {
	f.refreshHits.Add(1)
	var req api.RefreshRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeProblem(w, http.StatusBadRequest, "malformed", err.Error(), nil)
		return
	}
	// Widen the window in which concurrent callers pile up; the client must
	// refresh once whatever the timing.
	time.Sleep(10 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuseRefresh || req.RefreshToken != f.tokens(f.gen).RefreshToken {
		writeProblem(w, http.StatusUnauthorized, "invalid-refresh-token", "sign in again", nil)
		return
	}
	f.gen++
	writeJSON(w, http.StatusOK, api.RefreshResponse{Tokens: f.tokens(f.gen)})
}

// client makes a Client of f that records its retry waits instead of
// sleeping.
func (f *fakeServer) client(opts ...Option) (*Client, *sleeps) {
	s := &sleeps{}
	opts = append([]Option{func(c *Client) { c.sleep = s.sleep }}, opts...)
	return New(f.srv.URL, opts...), s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, typ, detail string, fields []api.FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Problem{
		Type:      api.ProblemTypePrefix + typ,
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		RequestID: "req-1",
		Errors:    fields,
	})
}

// hangUp closes the connection without an answer: a network error.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// sleeps records the waits between retries and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// clock is a settable clock for token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2029, 2, 14, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// withClock makes the Client read time from c.
func withClock(c *clock) Option {
	return func(cl *Client) { cl.now = c.Now }
}

// mustDo makes a call that must succeed.
func mustDo(t *testing.T, c *Client, method, path string, in, out any, opts ...CallOption) {
	t.Helper()
	if err := c.do(context.Background(), method, path, nil, in, out, opts...); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// counter counts the requests of a handler.
func counter(n *atomic.Int32, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}
}
