package drills_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// ---- Redis Sentinel --------------------------------------------------------------

// sentinelMaster is the name the drill's sentinels monitor.
const sentinelMaster = "mymaster"

// sentinelSet is a Redis primary, its replica and three sentinels (quorum
// 2, a primary is down after 1 s) of the drill's own, on free loopback
// ports, killed at cleanup.
type sentinelSet struct {
	t         testing.TB
	bin, dir  string
	primary   int // ports
	replica   int
	sentinels []int
	log       *apptest.Logs

	mu    sync.Mutex
	procs map[int]*child // by port
}

// startSentinels starts the primary, the replica (--replicaof) and three
// sentinels (redis-server sentinel.conf --sentinel), and waits until the
// replica is in sync and every sentinel knows the replica and the two
// other sentinels: a failover can then happen.
func startSentinels(t testing.TB) *sentinelSet {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server")
	}
	s := &sentinelSet{t: t, bin: bin, dir: t.TempDir(), primary: freePort(t), replica: freePort(t),
		log: &apptest.Logs{}, procs: map[int]*child{}}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.procs {
			c.signal(syscall.SIGKILL, 10*time.Second)
		}
	})
	data := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"}
	s.run(s.primary, append([]string{"--port", strconv.Itoa(s.primary), "--dir", s.subdir("primary")}, data...)...)
	s.run(s.replica, append([]string{"--port", strconv.Itoa(s.replica), "--dir", s.subdir("replica"),
		"--replicaof", "127.0.0.1", strconv.Itoa(s.primary)}, data...)...)
	for i := range 3 {
		port := freePort(t)
		dir := s.subdir("sentinel" + strconv.Itoa(i))
		conf := filepath.Join(dir, "sentinel.conf")
		cfg := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %[3]s 1000\n"+
			"sentinel failover-timeout %[3]s 3000\n"+
			"sentinel parallel-syncs %[3]s 1\n", port, dir, sentinelMaster, s.primary)
		if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		s.run(port, conf, "--sentinel")
		s.sentinels = append(s.sentinels, port)
	}
	ctx := context.Background()
	s.await("the replica in sync", 20*time.Second, func() bool {
		info, err := s.node(s.replica).Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	for _, p := range s.sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr(p), MaxRetries: -1})
		s.await("sentinel "+strconv.Itoa(p)+" knowing the replica and two other sentinels", 30*time.Second, func() bool {
			m, err := sc.Master(ctx, sentinelMaster).Result()
			return err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2"
		})
		sc.Close()
	}
	return s
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// subdir makes a directory for one process.
func (s *sentinelSet) subdir(name string) string {
	d := filepath.Join(s.dir, name)
	if err := os.Mkdir(d, 0o755); err != nil {
		s.t.Fatal(err)
	}
	return d
}

// run starts redis-server with args, listening on port, and waits for its
// PONG.
func (s *sentinelSet) run(port int, args ...string) {
	s.t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	proc, err := startChild(cmd)
	if err != nil {
		s.t.Fatalf("start redis-server %v: %v", args, err)
	}
	s.mu.Lock()
	s.procs[port] = proc
	s.mu.Unlock()
	rdb := redis.NewClient(&redis.Options{Addr: addr(port), MaxRetries: -1})
	defer rdb.Close()
	s.await("redis-server "+strings.Join(args, " ")+" answering", 20*time.Second, func() bool {
		if ok, err := proc.exited(); ok {
			s.t.Fatalf("redis-server %v exited at start: %v\n%s", args, err, tail(s.log.String(), 3000))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rdb.Ping(ctx).Err() == nil
	})
}

// await polls cond until it holds, failing the test after timeout.
func (s *sentinelSet) await(what string, timeout time.Duration, cond func() bool) {
	s.t.Helper()
	if _, ok := waitFor(timeout, cond); !ok {
		s.t.Fatalf("no %s within %v\n%s", what, timeout, tail(s.log.String(), 3000))
	}
}

// node is a plain client of the Redis on port, closed at cleanup.
func (s *sentinelSet) node(port int) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr(port), MaxRetries: -1, DialTimeout: time.Second})
	s.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// URL is the JARIMU_REDIS_URL naming the three sentinels.
func (s *sentinelSet) URL() string {
	var hosts []string
	for _, p := range s.sentinels {
		hosts = append(hosts, addr(p))
	}
	return "redis+sentinel://" + strings.Join(hosts, ",") + "/" + sentinelMaster
}

// masterPort is the primary's port as the first sentinel that answers
// reports it (0 if none does).
func (s *sentinelSet) masterPort() int {
	for _, p := range s.sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr(p), MaxRetries: -1, DialTimeout: time.Second})
		a, err := sc.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
		sc.Close()
		if err == nil && len(a) == 2 {
			port, _ := strconv.Atoi(a[1])
			return port
		}
	}
	return 0
}

// killPrimary ends the primary at once (SIGKILL).
func (s *sentinelSet) killPrimary() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[s.primary].signal(syscall.SIGKILL, 10*time.Second)
	delete(s.procs, s.primary)
}

// ---- the drill ---------------------------------------------------------------------

// Two instances on one database (PostgreSQL when JARIMU_TEST_DATABASE_URL
// is set, as in CI; else one SQLite file) reach Redis through three
// sentinels (JARIMU_REDIS_URL=redis+sentinel://...), with the production
// rate limits (kept in Redis). Volunteers of region 31 have feeds open on
// both. The primary is killed (SIGKILL) while an admin publishes national
// alerts through both instances, one every 200 ms: every publish answers
// 201 (the alerts are in the database; Redis is only the doorbell). The
// sentinels promote the replica, and publishing pauses. Then an event is
// committed on region:31 with no doorbell at all, before the brokers have
// subscribed again; the feeds' own periodic check is off (1 h) and nothing
// follows on that stream, so only the brokers' heal on subscribing again
// (through the failover client, to the new primary) can bring it. Every
// client catches up within 5 s of that; fresh alerts are then carried by
// the new primary, the rate limits run there, and every client has every
// event once, in order.
func TestRedisSentinelFailover(t *testing.T) {
	t.Parallel()
	backends := dbtest.Backends(t) // fails in CI without PostgreSQL
	backend := backends[len(backends)-1]
	redisLog := goRedisLogger()
	t0 := time.Now()
	ss := startSentinels(t)
	t.Logf("primary %d, replica %d, sentinels %v up in %v; instances on %s", ss.primary, ss.replica, ss.sentinels,
		time.Since(t0).Round(time.Millisecond), backend)
	dbo := dbtest.Options(t, backend)
	prefix := "drill:" + auth.NewID()[24:] + ":"
	o := app.Options{DatabaseURL: dbo.URL, DataDir: dbo.DataDir, MaxOpenConns: dbo.MaxOpenConns, Keys: apptest.NewKeys(t), VAPID: apptest.NewVAPID(t),
		RedisURL: ss.URL(), RedisPrefix: prefix, Limits: productionLimits(t), FeedSync: time.Hour}
	a, b := startApp(t, o), startApp(t, o)
	instances := []*drillApp{a, b}
	brokers := []*realtime.Redis{a.App.Broker.(*realtime.Redis), b.App.Broker.(*realtime.Redis)}
	ctx := context.Background()
	waitSubscribed(t, ss.node(ss.primary), prefix, brokers)
	hc := newHTTPClient(10 * time.Second)
	defer hc.CloseIdleConnections()

	const national, quiet = "region:national", "region:31"
	admin := a.User(t, "admin", "root", "")
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readers []*feedReader
	for i, e := range instances {
		for j, stream := range []string{national, national, quiet} {
			v := e.User(t, "volunteer", "relawan", "31")
			name := fmt.Sprintf("%c%d-%s", 'A'+i, j+1, stream)
			readers = append(readers, startFeed(t, fctx, name, e.URL, v.Tokens.AccessToken, stream))
		}
	}
	head := func(stream string) int64 {
		h, err := a.App.Events.Head(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	behind := func() []string {
		heads := map[string]int64{national: head(national), quiet: head(quiet)}
		var out []string
		for _, r := range readers {
			if r.lastSeq() < heads[r.stream] {
				out = append(out, fmt.Sprintf("%s at %d of %d", r.name, r.lastSeq(), heads[r.stream]))
			}
		}
		return out
	}
	caughtUp := func() bool { return len(behind()) == 0 }

	var (
		mu        sync.Mutex
		published int
		failed    []string
		retried   int
		took      []time.Duration
	)
	publish := func() {
		mu.Lock()
		n := published
		published++
		mu.Unlock()
		e := instances[n%2]
		body := map[string]any{"title": fmt.Sprintf("Hoaks pemindahan TPS #%d", n), "severity": "warning",
			"body": "Informasi bahwa TPS dipindah tidak benar. Periksa lokasi TPS di situs resmi KPU."}
		start := time.Now()
		ans := do(hc, "POST", e.URL+"/v1/alerts", body, bearer(admin.Tokens.AccessToken)...)
		for try := 0; ans.unavailable() && try < 10; try++ {
			mu.Lock()
			retried++
			mu.Unlock()
			time.Sleep(200 * time.Millisecond)
			ans = do(hc, "POST", e.URL+"/v1/alerts", body, bearer(admin.Tokens.AccessToken)...)
		}
		mu.Lock()
		defer mu.Unlock()
		took = append(took, time.Since(start))
		if ans.Err != nil || ans.Status != http.StatusCreated {
			failed = append(failed, fmt.Sprintf("alert %d through %s: %v", n, e.URL, ans))
		}
	}

	// 1. A healthy primary: alerts through both instances reach every client.
	for range 4 {
		publish()
	}
	if _, ok := waitFor(10*time.Second, caughtUp); !ok {
		t.Fatalf("before the failover, clients are behind: %v", behind())
	}
	subsBefore := []int64{brokers[0].Reconnects.Load(), brokers[1].Reconnects.Load()}
	resubscribed := func(i int) bool { return brokers[i].Reconnects.Load() > subsBefore[i] }
	resubAt := make([]time.Time, 2)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	var wg sync.WaitGroup
	wg.Go(func() {
		for !(resubscribed(0) && resubscribed(1)) && watchCtx.Err() == nil {
			for i := range resubAt {
				if resubAt[i].IsZero() && resubscribed(i) {
					resubAt[i] = time.Now()
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		for i := range resubAt {
			if resubAt[i].IsZero() && resubscribed(i) {
				resubAt[i] = time.Now()
			}
		}
	})

	// 2. The primary dies while alerts go on, until the sentinels name the
	// replica as the primary.
	stop := make(chan struct{})
	var pub sync.WaitGroup
	pub.Go(func() {
		for {
			publish()
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	time.Sleep(time.Second)
	ss.killPrimary()
	down := time.Now()
	_, switched := waitFor(20*time.Second, func() bool { return ss.masterPort() == ss.replica })
	switchedAfter := time.Since(down)
	close(stop)
	pub.Wait()
	if !switched {
		t.Fatalf("the sentinels did not promote the replica within 20 s of the kill\n%s", tail(ss.log.String(), 4000))
	}
	mu.Lock()
	during := published - 4
	mu.Unlock()
	t.Logf("primary killed; a sentinel named the replica %v later; %d alerts published meanwhile", switchedAfter.Round(time.Millisecond), during)

	// 3. An event without a doorbell, on a stream nothing else is written
	// to, committed before the brokers subscribe again.
	if err := event.NewLog(a.App.DB, nil).Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := event.Append(ctx, tx, quiet, "test.doorbell_lost", map[string]string{"why": "no publish"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	committed := time.Now()
	isolated := !resubscribed(0) && !resubscribed(1)
	if !isolated {
		// A broker subscribed again before the commit: its heal may have
		// read the log before it, and nothing else would bring the event.
		t.Logf("a broker subscribed again before the doorbell-less event was committed: its heal is not isolated here; healing by hand")
	}
	if _, ok := waitFor(15*time.Second, func() bool { return resubscribed(0) && resubscribed(1) }); !ok {
		t.Fatalf("the brokers did not subscribe again within 15 s of the switch: reconnects %d, %d (were %v)\n%s",
			brokers[0].Reconnects.Load(), brokers[1].Reconnects.Load(), subsBefore, tail(a.Logs.String(), 3000))
	}
	stopWatch()
	wg.Wait()
	if !isolated {
		a.App.Hub.Heal()
		b.App.Hub.Heal()
	}
	healed, ok := waitFor(5*time.Second, caughtUp)
	if !ok {
		t.Fatalf("5 s after both brokers subscribed again, with the periodic check off, clients are behind: %v", behind())
	}
	lost := brokers[0].Dropped.Load() + brokers[1].Dropped.Load()
	t.Logf("the brokers subscribed again %v and %v after the switch; every client had every event %v after the second (%d publishes to Redis were lost)",
		resubAt[0].Sub(down.Add(switchedAfter)).Round(time.Millisecond), resubAt[1].Sub(down.Add(switchedAfter)).Round(time.Millisecond),
		healed.Round(time.Millisecond), lost)
	for i, r := range readers {
		if r.stream != quiet {
			continue
		}
		r.mu.Lock()
		got := r.got[len(r.got)-1]
		r.mu.Unlock()
		inst := i / 3
		t.Logf("%s got the doorbell-less event %v after its commit, %v after instance %c subscribed again",
			r.name, got.Sub(committed).Round(time.Millisecond), got.Sub(resubAt[inst]).Round(time.Millisecond), 'A'+inst)
	}
	subs, err := ss.node(ss.replica).PubSubNumSub(ctx, prefix+"ev:0").Result()
	if err != nil || subs[prefix+"ev:0"] != 2 {
		t.Errorf("the new primary has %v subscribers on %sev:0 (%v), want both instances", subs, prefix, err)
	}

	// 4. Fresh alerts are carried by the new primary: each reaches every
	// client well within the 1 h check; the rate limits run there too.
	var delays []time.Duration
	for range 6 {
		sent := time.Now()
		publish()
		want := head(national)
		if _, ok := waitFor(3*time.Second, func() bool {
			return !slices.ContainsFunc(readers, func(r *feedReader) bool { return r.stream == national && r.lastSeq() < want })
		}); !ok {
			t.Errorf("alert #%d, published after the failover, did not reach every client within 3 s: %v", want, behind())
		}
		delays = append(delays, time.Since(sent))
	}
	t.Logf("fresh alerts reached every client in %v (publish included)", delays)
	stats, err := ss.node(ss.replica).Info(ctx, "commandstats").Result()
	if err != nil || !strings.Contains(stats, "cmdstat_evalsha:") && !strings.Contains(stats, "cmdstat_eval:") {
		t.Errorf("the new primary ran no rate-limit script after the failover (%v):\n%s", err, stats)
	}

	mu.Lock()
	if len(failed) > 0 {
		t.Errorf("%d of %d alert publishes failed, first:\n\t%s", len(failed), published, strings.Join(failed[:min(5, len(failed))], "\n\t"))
	}
	if retried > 0 {
		t.Logf("KNOWN: %d publishes answered 503 and were retried", retried)
	}
	t.Logf("%d alerts; publish p50 %v, slowest %v", published, percentile(took, 50).Round(time.Millisecond), slices.Max(took).Round(time.Millisecond))
	mu.Unlock()

	heads := map[string]int64{national: head(national), quiet: head(quiet)}
	cancel()
	for _, r := range readers {
		<-r.ended
		r.check(t, heads[r.stream])
		if len(r.reconnects) > 0 {
			t.Logf("feed %s reconnected %d times: %v", r.name, len(r.reconnects), r.reconnects)
		}
	}
	t.Logf("go-redis logged %d lines (drills running alongside included), such as %q", redisLog.count(), redisLog.first())
	t.Logf("total %v", time.Since(t0).Round(time.Millisecond))
}

// waitSubscribed waits until both brokers have subscribed to every shard
// channel on the primary.
func waitSubscribed(t *testing.T, primary *redis.Client, prefix string, brokers []*realtime.Redis) {
	t.Helper()
	_, ok := waitFor(10*time.Second, func() bool {
		for _, br := range brokers {
			if br.Reconnects.Load() == 0 {
				return false
			}
		}
		subs, err := primary.PubSubNumSub(context.Background(), prefix+"ev:0", prefix+"ev:63").Result()
		return err == nil && subs[prefix+"ev:0"] == int64(len(brokers)) && subs[prefix+"ev:63"] == int64(len(brokers))
	})
	if !ok {
		t.Fatal("the brokers did not subscribe through the sentinels within 10 s")
	}
}
