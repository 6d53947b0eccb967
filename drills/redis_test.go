package drills_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/notice"
	"github.com/jarimu/jarimu/realtime"
)

// Redis dies (SIGKILL) for 30 s (5 s with -short) under two instances
// sharing a PostgreSQL schema and this Redis, with the production rate
// limits (kept in Redis). Through instance A the org's accreditation is
// changed back to back, and volunteers sign up (A) and sign in (B): every
// call answers 2xx. Clients of instance B listening to the org's stream (3
// raw websockets and the Go SDK's Feed) keep getting its events, as B heals
// from the database while its subscription is down; once Redis is back,
// within 15 s every one has every event exactly once, in order, and fresh
// events are carried by Redis again.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	if !slices.Contains(dbtest.Backends(t), dbtest.Postgres) {
		t.Skip("needs JARIMU_TEST_DATABASE_URL (always set in CI): Redis serves scaled mode, which is on PostgreSQL")
	}
	outage := 30 * time.Second
	if testing.Short() {
		outage = 5 * time.Second
	}
	rs := startRedis(t)
	redisLog := goRedisLogger()
	dbo := dbtest.Options(t, dbtest.Postgres)
	keys := apptest.NewKeys(t)
	// One VAPID pair for both, as in production: it also keys the shared
	// rate-limit counters.
	o := app.Options{DatabaseURL: dbo.URL, MaxOpenConns: dbo.MaxOpenConns, Keys: keys, VAPID: apptest.NewVAPID(t), RedisURL: rs.URL(),
		RedisPrefix: "drill:" + auth.NewID() + ":", Limits: productionLimits(t)}
	a, b := startApp(t, o), startApp(t, o)
	hc := newHTTPClient(10 * time.Second)
	defer hc.CloseIdleConnections()
	f := newOrg(t, a, hc)
	code := f.invite(t, a, hc, 10)

	// Four members listen on B: three raw clients, one through the SDK.
	tokens := []api.AuthResponse{f.coord}
	for range 3 {
		v := a.User(t, "volunteer", "anggota", "")
		mustDo(t, hc, http.StatusCreated, "POST", a.URL+"/v1/orgs/"+f.org.ID+"/memberships", api.JoinRequest{InviteCode: &code}, bearer(v.Tokens.AccessToken)...)
		tokens = append(tokens, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var raws []*feedReader
	for i, v := range tokens[:3] {
		raws = append(raws, startFeed(t, ctx, "raw"+string(rune('A'+i)), b.URL, v.Tokens.AccessToken, f.stream()))
	}
	sdk := startSDKFeed(t, ctx, b.URL, tokens[3].Tokens, f.stream())

	head := func() int64 {
		h, err := a.App.Events.Head(context.Background(), f.stream())
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	caughtUp := func() bool {
		h := head()
		for _, r := range raws {
			if r.lastSeq() < h {
				return false
			}
		}
		return sdk.lastSeq() >= h
	}
	var n int
	write := func() answer {
		ans := f.toggle(a, hc, n)
		n++
		return ans
	}
	// Warm up: events flow through Redis.
	for range 5 {
		if ans := write(); !ans.ok() {
			t.Fatalf("accreditation before the outage: %v", ans)
		}
	}
	if took, ok := waitFor(10*time.Second, caughtUp); !ok {
		t.Fatalf("clients on B did not get the first events within %v", took)
	}
	brokerA, brokerB := a.App.Broker.(*realtime.Redis), b.App.Broker.(*realtime.Redis)
	subsBefore, droppedBefore := brokerB.Reconnects.Load(), brokerA.Dropped.Load()

	rs.Kill()
	down := time.Now()
	// Through A: accreditation changes, back to back; alongside, volunteers
	// sign up (A) and sign in (B).
	var (
		mu             sync.Mutex
		failed, logins []string
		took           []time.Duration
		accounts       int
		loginTook      []time.Duration
		wg             sync.WaitGroup
	)
	wg.Go(func() {
		for time.Since(down) < outage {
			ans := write()
			mu.Lock()
			took = append(took, ans.Took)
			if !ans.ok() {
				failed = append(failed, "accreditation: "+ans.String())
			}
			mu.Unlock()
			time.Sleep(100 * time.Millisecond)
		}
	})
	wg.Go(func() {
		run := auth.NewID()[24:]
		for i := 0; time.Since(down) < outage; i++ {
			email := fmt.Sprintf("redis-%s-%d@example.org", run, i)
			s := do(hc, "POST", a.URL+"/v1/auth/signup", api.SignupRequest{Email: email, Password: apptest.Password, Name: "Relawan", PrivacyVersion: notice.Version})
			l := do(hc, "POST", b.URL+"/v1/auth/login", api.LoginRequest{Email: email, Password: apptest.Password})
			mu.Lock()
			accounts++
			if !s.ok() {
				failed = append(failed, "signup: "+s.String())
			}
			if !l.ok() {
				logins = append(logins, l.String())
			}
			loginTook = append(loginTook, l.Took)
			mu.Unlock()
			time.Sleep(500 * time.Millisecond)
		}
	})
	wg.Wait()
	lagDuring := head() - minSeq(raws, sdk)
	rs.Start()
	up := time.Now()
	for range 5 {
		if ans := write(); !ans.ok() {
			failed = append(failed, "after the restart: "+ans.String())
		}
	}
	t.Logf("Redis down for %v: %d accreditation changes through A (p50 %v, p99 %v, slowest %v), %d signups; when it came back B's clients were %d events behind",
		up.Sub(down).Round(time.Millisecond), len(took), percentile(took, 50).Round(time.Millisecond),
		percentile(took, 99).Round(time.Millisecond), slices.Max(took).Round(time.Millisecond), accounts, lagDuring)
	if len(failed) > 0 {
		t.Errorf("%d writes failed while Redis was down, first:\n\t%s", len(failed), strings.Join(failed[:min(8, len(failed))], "\n\t"))
	}
	if p := percentile(took, 99); p > time.Second {
		// Each write asks the rate limiters (kept in Redis) first; with
		// Redis refusing connections, go-redis retries its dials (up to
		// seconds per limiter) before the limiter lets the request through.
		t.Logf("KNOWN: writes took up to %v (p99) while Redis was down: the Redis rate limiters have no deadline of their own", p)
	}
	t.Logf("logins on B while Redis was down: p50 %v, slowest %v", percentile(loginTook, 50).Round(time.Millisecond), slices.Max(loginTook).Round(time.Millisecond))
	if len(logins) > 0 {
		t.Errorf("%d of %d logins failed while Redis was down (its throttles must let them through), first: %s", len(logins), accounts, logins[0])
	}
	caught, ok := waitFor(15*time.Second, caughtUp)
	if !ok {
		t.Errorf("15 s after Redis came back, B's clients are not caught up: head %d, raw %d/%d/%d, sdk %d",
			head(), raws[0].lastSeq(), raws[1].lastSeq(), raws[2].lastSeq(), sdk.lastSeq())
	} else {
		t.Logf("every client on B had every event %v after Redis came back", caught.Round(time.Millisecond))
	}
	// B subscribes again, and events flow through Redis again (not only by
	// healing): the delay of a fresh event is far below the 5 s sync.
	if _, ok := waitFor(15*time.Second, func() bool { return brokerB.Reconnects.Load() > subsBefore }); !ok {
		t.Errorf("B did not subscribe to Redis again within 15 s of its return")
	}
	healedBefore := b.App.Hub.Metrics().Healed.Load()
	var delays []time.Duration
	for range 3 {
		sent := time.Now()
		if ans := write(); !ans.ok() {
			t.Fatalf("write after the restart: %v", ans)
		}
		want := head()
		if _, ok := waitFor(5*time.Second, func() bool { return raws[0].lastSeq() >= want }); !ok {
			t.Errorf("event #%d, written after Redis came back, did not reach B within 5 s", want)
		}
		delays = append(delays, time.Since(sent))
	}
	t.Logf("fresh events reached B in %v (write included)", delays)
	if slices.Max(delays) > 2*time.Second {
		t.Errorf("fresh events took up to %v to reach B after Redis came back: not carried by Redis?", slices.Max(delays))
	}
	if h := b.App.Hub.Metrics().Healed.Load() - healedBefore; h > 0 {
		t.Logf("(%d of those were healed from the database rather than carried by Redis)", h)
	}
	t.Logf("A counted %d publishes dropped while Redis was down; B's subscription counter reads %d; go-redis logged %d lines, such as %q",
		brokerA.Dropped.Load()-droppedBefore, brokerB.Reconnects.Load(), redisLog.count(), redisLog.first())

	final := head()
	cancel()
	for _, r := range raws {
		<-r.ended
		r.check(t, final)
		if len(r.reconnects) > 0 {
			t.Logf("feed %s reconnected %d times: %v", r.name, len(r.reconnects), r.reconnects)
		}
	}
	sdk.check(t, final)
}

func minSeq(raws []*feedReader, sdk *sdkFeed) int64 {
	m := sdk.lastSeq()
	for _, r := range raws {
		m = min(m, r.lastSeq())
	}
	return m
}

// sdkFeed is a client.Feed reading one stream.
type sdkFeed struct {
	stream string
	feed   *client.Feed
	done   chan error

	mu   sync.Mutex
	base int64
	seqs []int64
	last int64
}

// startSDKFeed runs the Go SDK's Feed signed in with tokens and waits until
// it is connected.
func startSDKFeed(t testing.TB, ctx context.Context, base string, tokens api.Tokens, stream string) *sdkFeed {
	t.Helper()
	c := client.New(base, client.WithTokens(tokens))
	connected := make(chan struct{}, 1)
	s := &sdkFeed{stream: stream, done: make(chan error, 1), base: -1}
	s.feed = c.Feed(client.FeedOptions{OnState: func(st client.FeedState) {
		if st == client.FeedConnected {
			select {
			case connected <- struct{}{}:
			default:
			}
		}
	}})
	go func() { s.done <- s.feed.Run(ctx) }()
	go func() {
		for ev := range s.feed.Events() {
			if ev.Stream != stream || ev.Type != client.FeedTypeEvent {
				continue
			}
			s.mu.Lock()
			s.seqs = append(s.seqs, ev.Seq)
			s.last = ev.Seq
			s.mu.Unlock()
		}
	}()
	select {
	case <-connected:
	case err := <-s.done:
		t.Fatalf("SDK feed: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("SDK feed: not connected within 20 s")
	}
	pos, ok := s.feed.Positions()[stream]
	if !ok {
		t.Fatalf("SDK feed: no position for %s after the welcome: %v", stream, s.feed.Positions())
	}
	s.mu.Lock()
	s.base, s.last = pos, pos
	s.mu.Unlock()
	return s
}

func (s *sdkFeed) lastSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// check reports unless the SDK delivered base+1..head, each once, in order.
func (s *sdkFeed) check(t testing.TB, head int64) {
	t.Helper()
	if err := <-s.done; err != nil {
		t.Errorf("SDK feed: Run returned %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := s.base + 1
	for i, q := range s.seqs {
		if q != want {
			t.Errorf("SDK feed: event %d is %s#%d, want #%d (got %v)", i, s.stream, q, want, around(s.seqs, i))
			return
		}
		want++
	}
	if want-1 != head {
		t.Errorf("SDK feed: got %s up to #%d, want up to #%d", s.stream, want-1, head)
	}
}

// goRedisLog collects what go-redis logs (every failed dial, to standard
// error otherwise) for the whole package: go-redis keeps its logger in a
// global, so it is set once, before any drill that uses Redis makes a
// client, and drills running in parallel do not race on it.
var (
	goRedisLogOnce sync.Once
	goRedisLog     = &redisLogger{}
)

// goRedisLogger installs goRedisLog as go-redis's logger (once) and
// returns it.
func goRedisLogger() *redisLogger {
	goRedisLogOnce.Do(func() { redis.SetLogger(goRedisLog) })
	return goRedisLog
}

// redisLogger collects what go-redis logs.
type redisLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}

func (l *redisLogger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

func (l *redisLogger) first() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return ""
	}
	return l.lines[0]
}
