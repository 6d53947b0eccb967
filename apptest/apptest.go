// Package apptest starts a complete Jarimu in-process for tests: the same
// app.App that `jarimu serve` runs, on a fresh database of each backend,
// behind an httptest server. Password hashing uses cheap parameters here
// (tests of hashing itself use the real ones).
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/requestid"
	"github.com/jarimu/jarimu/s3test"
)

// Env is one running server.
type Env struct {
	Logs    *Logs // everything the app logged (JSON lines)
	Backend dbtest.Backend
	App     *app.App
	HTTP    *httptest.Server
	URL     string
}

// FastHash are argon2id parameters cheap enough for tests.
var FastHash = auth.HashParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Option adjusts the app's options before it is built.
type Option func(*app.Options)

// Start builds and serves a fresh app on backend b, stopped at cleanup.
func Start(t testing.TB, b dbtest.Backend, opts ...Option) *Env {
	t.Helper()
	keys := NewKeys(t)
	dbo := dbtest.Options(t, b)
	o := app.Options{DatabaseURL: dbo.URL, DataDir: dbo.DataDir, MaxOpenConns: dbo.MaxOpenConns, Keys: keys, VAPID: NewVAPID(t),
		TokenIssuer: "jarimu", TokenAudience: "jarimu-api", AccessTokenTTL: 15 * time.Minute,
		RefreshTokenTTL: 24 * time.Hour, HashParams: &FastHash, MaxActiveClaims: 3}
	if dbo.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if u := os.Getenv("JARIMU_TEST_REDIS_URL"); u != "" && b == dbtest.Postgres {
		o.RedisURL = u
		o.RedisPrefix = "test:" + auth.NewID() + ":"
	}
	logs := &Logs{}
	o.Log = slog.New(requestid.NewHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	for _, opt := range opts {
		opt(&o)
	}
	a, err := app.New(context.Background(), o)
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	a.Start(context.Background())
	srv := httptest.NewServer(a.Server)
	t.Cleanup(func() {
		srv.Close()
		a.Close()
		logs.save(t)
	})
	return &Env{Backend: b, App: a, HTTP: srv, URL: srv.URL, Logs: logs}
}

// Each runs fn on a fresh server of every backend.
func Each(t *testing.T, fn func(t *testing.T, e *Env), opts ...Option) {
	t.Helper()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) { fn(t, Start(t, b, opts...)) })
	}
}

// NewKeys makes an in-memory signing key set.
func NewKeys(t testing.TB) *auth.KeySet {
	t.Helper()
	k, err := auth.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ks, err := auth.NewKeySet(k)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// NewVAPID makes an in-memory Web Push key pair.
func NewVAPID(t testing.TB) *push.VAPID {
	t.Helper()
	v, err := push.GenerateVAPID(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Password is the password of every account the helpers make.
const Password = "kawal-pemilu-jujur-2029"

// User makes an account of role directly through the service (no admin
// needed), consents to the privacy notice for it and signs it in; region ""
// is national.
func (e *Env) User(t testing.TB, role, name, regionCode string) api.AuthResponse {
	t.Helper()
	req := api.CreateUserRequest{Email: name + "-" + auth.NewID()[24:] + "@example.org", Name: name, Role: role, Password: Password}
	if regionCode != "" {
		req.RegionCode = &regionCode
	}
	u, err := e.App.Auth.CreateUser(context.Background(), nil, req)
	if err != nil {
		t.Fatalf("create %s: %v", role, err)
	}
	// The account's owner consents to the privacy notice, as on a first
	// sign-in (tests of consent itself make their accounts otherwise).
	if _, err := e.App.Auth.Consent(context.Background(), auth.Principal{UserID: u.ID, Role: u.Role}, api.ConsentRequest{Version: e.App.Notice.Version}); err != nil {
		t.Fatalf("consent %s: %v", role, err)
	}
	resp, err := e.App.Auth.Login(context.Background(), api.LoginRequest{Email: req.Email, Password: Password}, "apptest")
	if err != nil {
		t.Fatalf("login %s: %v", role, err)
	}
	return resp
}

// Principal is the signed-in user of an AuthResponse, as the services take
// it (for tests that call a service directly).
func Principal(u api.AuthResponse) auth.Principal {
	p := auth.Principal{UserID: u.User.ID, Role: u.User.Role}
	if u.User.RegionCode != nil {
		p.Region = *u.User.RegionCode
	}
	return p
}

// Response is a raw answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Problem decodes the answer as a problem.
func (r Response) Problem(t testing.TB) api.Problem {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("answer %d is not a problem: %v: %s", r.Status, err, r.Body)
	}
	return p
}

// Decode decodes the answer's JSON into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode answer %d: %v: %s", r.Status, err, r.Body)
	}
}

// Do sends a raw request: body is sent as is (string or []byte) or encoded as
// JSON; header pairs follow ("Authorization", "Bearer x", ...). A JSON
// Content-Type is set unless a header pair sets another.
func (e *Env) Do(t testing.TB, method, path string, body any, header ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Bearer is the header pair for an access token.
func Bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// Count counts rows of table (for "nothing changed" checks).
func (e *Env) Count(t testing.TB, table string) int {
	t.Helper()
	n, err := e.App.DB.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return int(n)
}

// Logs collects an app's log lines, or any output written from several
// goroutines (a child process's stderr, say), safely. With
// JARIMU_TEST_LOG_DIR set an app's lines are also written there when the
// test ends, so CI can search the logs of the whole run for secrets.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *Logs) save(t testing.TB) {
	dir := os.Getenv("JARIMU_TEST_LOG_DIR")
	if dir == "" {
		return
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, t.Name())
	os.WriteFile(filepath.Join(dir, name+"-"+auth.NewID()[24:]+".log"), []byte(l.String()), 0o644)
}

// WithBucket keeps the app's evidence files in the test bucket b
// (s3test.New) instead of the data dir.
func WithBucket(b *s3test.Bucket) Option {
	return func(o *app.Options) {
		o.EvidenceURL, o.EvidenceAccessKey, o.EvidenceSecretKey = b.URL, b.AccessKey, b.SecretKey
	}
}

// Stores are the evidence stores tests run on: "disk" (the data dir) and
// "s3" (a fresh bucket of the test S3 server).
var Stores = []string{"disk", "s3"}

// StoreOption is the option that puts evidence in store: none for "disk";
// for "s3", a fresh bucket, returned too (t is skipped without a test S3
// server, or fails in CI: s3test.Require).
func StoreOption(t testing.TB, store string) (Option, *s3test.Bucket) {
	t.Helper()
	if store == "disk" {
		return func(*app.Options) {}, nil
	}
	b := s3test.New(t)
	return WithBucket(b), b
}
