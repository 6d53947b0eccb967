package drills_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/ratelimit"
)

// ---- the server ----------------------------------------------------------------

// The http.Server settings of `jarimu serve` (cmd/jarimu/serve.go). They
// are not exported there, so they are repeated here: keep them equal.
const (
	serveReadHeaderTimeout = 10 * time.Second
	serveReadTimeout       = 60 * time.Second
	serveWriteTimeout      = 60 * time.Second
	serveIdleTimeout       = 120 * time.Second
	serveMaxHeaderBytes    = 64 << 10
)

// drillApp is one running Jarimu: the app, served by an http.Server set up
// as `jarimu serve` sets up its own; Logs holds the app's log (JSON lines).
type drillApp struct {
	*apptest.Env
}

// startApp builds the app from o (filled in as apptest does: fast password
// hashing, test keys unless o has some) and serves it on a loopback port.
// Unless o sets the login throttle per address, it is lifted: every drill
// client is 127.0.0.1. With JARIMU_TEST_LOG_DIR set (CI), the log is written
// there at the end, for CI's search for secrets.
func startApp(t testing.TB, o app.Options) *drillApp {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.Keys == nil {
		o.Keys = apptest.NewKeys(t)
	}
	if o.VAPID == nil && o.VAPIDKeysFile == "" {
		o.VAPID = apptest.NewVAPID(t)
	}
	o.TokenIssuer, o.TokenAudience = "jarimu", "jarimu-api"
	o.AccessTokenTTL, o.RefreshTokenTTL = 15*time.Minute, 24*time.Hour
	o.HashParams = &apptest.FastHash
	o.MaxActiveClaims = 3
	o.ShutdownTimeout = 2 * time.Second
	if o.Limits.LoginIP == nil {
		o.Login.LoginPerIP = ratelimit.NewMemory(ratelimit.Rule{Burst: 1 << 20, Every: time.Microsecond}, nil)
	}
	logs := &apptest.Logs{}
	o.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(context.Background(), o)
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	a.Start(context.Background())
	t.Cleanup(func() { saveLog(t, logs) })
	t.Cleanup(a.Close)
	url := serve(t, a.Server, logs) // closed first: cleanups run last first
	return &drillApp{Env: &apptest.Env{Backend: backendOf(o), App: a, URL: url, Logs: logs}}
}

// saveLog writes an app's log to JARIMU_TEST_LOG_DIR, when set.
func saveLog(t testing.TB, logs *apptest.Logs) {
	dir := os.Getenv("JARIMU_TEST_LOG_DIR")
	if dir == "" {
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_", ":", "_").Replace(t.Name())
	os.WriteFile(filepath.Join(dir, name+"-"+auth.NewID()[24:]+".log"), []byte(logs.String()), 0o644)
}

// productionLimits are the request throttles `jarimu serve` applies by
// default (cmd/jarimu/config.go; repeated here, as they are not exported).
func productionLimits(t testing.TB) app.LimitRules {
	t.Helper()
	rule := func(s string) *ratelimit.Rule {
		r, ok, err := ratelimit.ParseRule(s)
		if err != nil || !ok {
			t.Fatalf("rule %q: %v", s, err)
		}
		return &r
	}
	return app.LimitRules{UserWrites: rule("120/1m"), IPWrites: rule("3000/1m"), FeedIP: rule("1200/1m"),
		FeedUser: rule("30/1m"), LoginAccount: rule("10/10m"), LoginIP: rule("50/25s"),
		LoginAccountAll: rule("100/1h"), LoginDevice: rule("10/10m")}
}

func backendOf(o app.Options) dbtest.Backend {
	if o.DatabaseURL != "" {
		return dbtest.Postgres
	}
	return dbtest.SQLite
}

// serve serves h on a loopback port with the settings of `jarimu serve`
// and returns its base URL; it is closed at cleanup.
func serve(t testing.TB, h http.Handler, logs io.Writer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: serveReadHeaderTimeout,
		ReadTimeout:       serveReadTimeout,
		WriteTimeout:      serveWriteTimeout,
		IdleTimeout:       serveIdleTimeout,
		MaxHeaderBytes:    serveMaxHeaderBytes,
		ErrorLog:          log.New(logs, "http: ", 0),
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// anyBackend is an app on a fresh database: PostgreSQL (the shared one,
// never restarted by these drills) when JARIMU_TEST_DATABASE_URL is set,
// which CI always does, else SQLite.
func anyBackend(t testing.TB) *drillApp {
	t.Helper()
	b := dbtest.Backends(t)
	dbo := dbtest.Options(t, b[len(b)-1])
	return startApp(t, app.Options{DatabaseURL: dbo.URL, DataDir: dbo.DataDir, MaxOpenConns: dbo.MaxOpenConns})
}

// ---- HTTP ----------------------------------------------------------------------

// answer is one HTTP answer, or the error that stood for it.
type answer struct {
	Start  time.Time
	Took   time.Duration
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

func (a answer) String() string {
	if a.Err != nil {
		return fmt.Sprintf("error after %v: %v", a.Took.Round(time.Millisecond), a.Err)
	}
	return fmt.Sprintf("%d %s (after %v)", a.Status, bytes.TrimSpace(a.Body), a.Took.Round(time.Millisecond))
}

// problemType is the answer's problem type slug ("" when it is none).
func (a answer) problemType() string {
	if !strings.HasPrefix(a.Header.Get("Content-Type"), "application/problem+json") {
		return ""
	}
	var p api.Problem
	if json.Unmarshal(a.Body, &p) != nil {
		return ""
	}
	return strings.TrimPrefix(p.Type, api.ProblemTypePrefix)
}

// problem decodes the answer as a problem.
func (a answer) problem() api.Problem {
	var p api.Problem
	json.Unmarshal(a.Body, &p)
	return p
}

// unavailable reports whether the answer is the database-unavailable
// problem: 503 problem+json "unavailable" with a Retry-After.
func (a answer) unavailable() bool {
	return a.Err == nil && a.Status == http.StatusServiceUnavailable && a.problemType() == "unavailable" &&
		a.Header.Get("Retry-After") != ""
}

func (a answer) ok() bool { return a.Err == nil && a.Status >= 200 && a.Status < 300 }

// newHTTPClient is a client with a timeout, keeping enough idle
// connections for the drill's concurrency.
func newHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
}

// do sends a request with a JSON body (nil: none; []byte or string: as is)
// and header pairs.
func do(hc *http.Client, method, url string, body any, header ...string) answer {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(j)
	}
	a := answer{Start: time.Now()}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		a.Err = err
		return a
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		a.Took, a.Err = time.Since(a.Start), err
		return a
	}
	defer resp.Body.Close()
	a.Body, a.Err = io.ReadAll(resp.Body)
	a.Took, a.Status, a.Header = time.Since(a.Start), resp.StatusCode, resp.Header
	return a
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// mustDo is do, failing the test unless the answer has status want.
func mustDo(t testing.TB, hc *http.Client, want int, method, url string, body any, header ...string) answer {
	t.Helper()
	a := do(hc, method, url, body, header...)
	if a.Err != nil || a.Status != want {
		t.Fatalf("%s %s: got %v, want %d", method, url, a, want)
	}
	return a
}

func decodeInto(t testing.TB, a answer, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Body, v); err != nil {
		t.Fatalf("decode %s: %v", a.Body, err)
	}
}

// percentile is the p-th percentile (0..100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// ---- fixtures ------------------------------------------------------------------

var orgSeq atomic.Int64

// orgFixture is an accredited national org, its admin and its first
// coordinator.
type orgFixture struct {
	admin, coord api.AuthResponse
	org          api.Org
}

func (f orgFixture) stream() string { return "org:" + f.org.ID }

// newOrg registers an accredited national org through e's API.
func newOrg(t testing.TB, e *drillApp, hc *http.Client) orgFixture {
	t.Helper()
	n := orgSeq.Add(1)
	admin := e.User(t, "admin", "root", "")
	coord := e.User(t, "volunteer", "coord", "")
	a := mustDo(t, hc, http.StatusCreated, "POST", e.URL+"/v1/orgs", api.CreateOrgRequest{
		Name: fmt.Sprintf("Jaringan Pemantau Uji %d", n), AccreditationNumber: fmt.Sprintf("DRILL/%s/%d", auth.NewID()[24:], n),
		AccreditedUntil: time.Now().Add(180 * 24 * time.Hour).UTC().Truncate(time.Second), CoordinatorEmail: &coord.User.Email,
	}, bearer(admin.Tokens.AccessToken)...)
	var o api.Org
	decodeInto(t, a, &o)
	return orgFixture{admin: admin, coord: coord, org: o}
}

// invite makes an invite code of f's org for maxUses joins.
func (f orgFixture) invite(t testing.TB, e *drillApp, hc *http.Client, maxUses int) string {
	t.Helper()
	a := mustDo(t, hc, http.StatusCreated, "POST", e.URL+"/v1/orgs/"+f.org.ID+"/invites",
		api.InviteRequest{MaxUses: maxUses, ExpiresAt: time.Now().Add(24 * time.Hour).UTC()}, bearer(f.coord.Tokens.AccessToken)...)
	var inv api.Invite
	decodeInto(t, a, &inv)
	return inv.Code
}

// toggle suspends (even i) or renews (odd i) f's org: one
// org.accreditation_changed event on its stream.
func (f orgFixture) toggle(e *drillApp, hc *http.Client, i int) answer {
	body := api.AccreditationRequest{Action: api.ActionSuspend, Reason: fmt.Sprintf("uji gangguan %d", i)}
	if i%2 == 1 {
		until := time.Now().Add(90 * 24 * time.Hour).UTC()
		body = api.AccreditationRequest{Action: api.ActionRenew, Reason: fmt.Sprintf("uji pulih %d", i), Until: &until}
	}
	return do(hc, "POST", e.URL+"/v1/orgs/"+f.org.ID+"/accreditation", body, bearer(f.admin.Tokens.AccessToken)...)
}

// ---- a feed reader -------------------------------------------------------------

func feedURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/v1/feed" }

// localDialer dials from source address 127.0.0.(1+i%250), as bench does,
// so that thousands of connections do not run out of ephemeral ports.
func localDialer(i int) *websocket.Dialer {
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%250))}, Timeout: 10 * time.Second}
	return &websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: 15 * time.Second,
		Subprotocols: []string{api.FeedSubprotocol}, ReadBufferSize: 1024, WriteBufferSize: 1024}
}

// serverFrame is any frame the server sends, decoded loosely.
type serverFrame struct {
	Type    string               `json:"type"`
	Streams []api.StreamPosition `json:"streams"`
	Stream  string               `json:"stream"`
	Seq     int64                `json:"seq"`
	Event   string               `json:"event"`
}

// feedReader is a raw feed client that follows the contract: it resumes
// after the last seq it got whenever the connection ends for a passing
// reason (too slow, going away, try again, a network error). It records
// every event of one stream exactly as the server sent it, repeats
// included, so that the test sees what the server did.
type feedReader struct {
	name, url, token, stream string

	mu          sync.Mutex
	base        int64   // the stream's seq in the first welcome
	last        int64   // the last seq got
	seqs        []int64 // every seq got on the stream, in order of arrival
	got         []time.Time
	reconnects  []string // why each reconnection happened
	fatal       error    // why it stopped before ctx ended
	welcomed    chan struct{}
	welcomeOnce sync.Once
	ended       chan struct{}
}

// startFeed connects a reader and waits for its first welcome.
func startFeed(t testing.TB, ctx context.Context, name, base, token, stream string) *feedReader {
	t.Helper()
	r := &feedReader{name: name, url: base, token: token, stream: stream, base: -1,
		welcomed: make(chan struct{}), ended: make(chan struct{})}
	go r.run(ctx)
	select {
	case <-r.welcomed:
	case <-r.ended:
		t.Fatalf("feed %s: %v", name, r.fatal)
	case <-time.After(20 * time.Second):
		t.Fatalf("feed %s: no welcome within 20 s", name)
	}
	return r
}

func (r *feedReader) run(ctx context.Context) {
	defer close(r.ended)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		why, again := r.connect(ctx, attempt)
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		if !again {
			r.fatal = errors.New(why)
			r.mu.Unlock()
			return
		}
		r.reconnects = append(r.reconnects, why)
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// connect serves one connection; it returns why it ended and whether to
// connect again.
func (r *feedReader) connect(ctx context.Context, attempt int) (string, bool) {
	ws, _, err := localDialer(attempt).DialContext(ctx, feedURL(r.url), nil)
	if err != nil {
		return "dial: " + err.Error(), true
	}
	defer ws.Close()
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	hello := api.ClientFrame{Type: "hello", Token: r.token}
	r.mu.Lock()
	if r.base >= 0 {
		hello.Resume = map[string]int64{r.stream: r.last}
	}
	r.mu.Unlock()
	if err := ws.WriteJSON(hello); err != nil {
		return "hello: " + err.Error(), true
	}
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				switch ce.Code {
				case api.CloseTooSlow, api.CloseGoingAway, websocket.CloseInternalServerErr, websocket.CloseAbnormalClosure:
					return fmt.Sprintf("closed %d %s", ce.Code, ce.Text), true
				}
				return fmt.Sprintf("closed %d %s", ce.Code, ce.Text), false
			}
			return "read: " + err.Error(), true
		}
		var f serverFrame
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Sprintf("frame is not JSON: %q", b), false
		}
		r.mu.Lock()
		switch {
		case f.Type == "welcome" && r.base < 0:
			for _, s := range f.Streams {
				if s.Name == r.stream {
					r.base, r.last = s.Seq, s.Seq
				}
			}
			if r.base < 0 {
				r.mu.Unlock()
				return fmt.Sprintf("the welcome has no stream %s: %s", r.stream, b), false
			}
			r.welcomeOnce.Do(func() { close(r.welcomed) })
		case f.Type == "event" && f.Stream == r.stream:
			r.seqs = append(r.seqs, f.Seq)
			r.got = append(r.got, time.Now())
			r.last = max(r.last, f.Seq)
		case f.Type == "reset" && f.Stream == r.stream:
			r.mu.Unlock()
			return fmt.Sprintf("reset of %s to %d", f.Stream, f.Seq), false
		}
		r.mu.Unlock()
	}
}

// lastSeq is the last seq got.
func (r *feedReader) lastSeq() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// check reports (t.Errorf) unless the reader got exactly seqs base+1..head,
// each once, in order.
func (r *feedReader) check(t testing.TB, head int64) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal != nil {
		t.Errorf("feed %s stopped: %v", r.name, r.fatal)
	}
	want := r.base + 1
	for i, s := range r.seqs {
		if s != want {
			t.Errorf("feed %s: frame %d carries %s#%d, want #%d (every seq once, in order; got %v)", r.name, i, r.stream, s, want, around(r.seqs, i))
			return
		}
		want++
	}
	if want-1 != head {
		t.Errorf("feed %s: got %s up to #%d, want up to #%d", r.name, r.stream, want-1, head)
	}
}

func around(s []int64, i int) []int64 { return s[max(0, i-5):min(len(s), i+5)] }

// waitFor polls cond every 50 ms until it holds or timeout passes; it
// returns how long that took and whether it held.
func waitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inCI reports whether the drills run in CI.
func inCI() bool { return os.Getenv("CI") == "true" }
