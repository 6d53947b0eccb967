package realtime_test

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// ---- a Redis Cluster on loopback --------------------------------------------

// redisCluster is a three-master Redis Cluster of child processes on free
// loopback ports, killed at cleanup.
type redisCluster struct {
	t     *testing.T
	ports []int
	dirs  []string

	mu    sync.Mutex
	procs []*exec.Cmd // nil while a node is down
}

// needRedisCluster skips the test when redis-server or redis-cli (Redis 7,
// for sharded pub/sub) is missing, unless CI=true: there they must be.
func needRedisCluster(t *testing.T) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s: the Redis Cluster tests must run in CI", msg)
		}
		t.Skipf("skipping the Redis Cluster tests: %s (they need redis-server and redis-cli of Redis 7 or later on PATH)", msg)
	}
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing("%s is not on PATH", bin)
		}
	}
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		missing("redis-server --version: %v", err)
	}
	m := regexp.MustCompile(`v=(\d+)\.`).FindSubmatch(out)
	if m == nil {
		missing("cannot read the version in %q", out)
	}
	if major, _ := strconv.Atoi(string(m[1])); major < 7 {
		missing("redis-server is %s, sharded pub/sub needs 7", bytes.TrimSpace(out))
	}
}

// freePorts finds n ports on 127.0.0.1 that are free along with their
// cluster bus ports (+10000).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			t.Fatal("no free loopback ports for the Redis Cluster")
		}
		p := 20000 + rand.IntN(20000)
		if slices.Contains(ports, p) || slices.Contains(ports, p+10000) || slices.Contains(ports, p-10000) {
			continue
		}
		l1, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		l1.Close()
		if err != nil {
			continue
		}
		l2.Close()
		ports = append(ports, p)
	}
	return ports
}

// startRedisCluster starts three nodes, joins them with redis-cli --cluster
// create and waits until every node says cluster_state:ok.
func startRedisCluster(t *testing.T) *redisCluster {
	t.Helper()
	needRedisCluster(t)
	c := &redisCluster{t: t, ports: freePorts(t, 3)}
	c.procs = make([]*exec.Cmd, len(c.ports))
	base := t.TempDir()
	t.Cleanup(func() {
		for i := range c.ports {
			c.kill(i)
		}
	})
	for i, p := range c.ports {
		c.dirs = append(c.dirs, filepath.Join(base, strconv.Itoa(p)))
		if err := os.Mkdir(c.dirs[i], 0o755); err != nil {
			t.Fatal(err)
		}
		c.start(i)
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	c.waitOK(20 * time.Second)
	return c
}

func (c *redisCluster) addrs() []string {
	var out []string
	for _, p := range c.ports {
		out = append(out, "127.0.0.1:"+strconv.Itoa(p))
	}
	return out
}

// url is a JARIMU_REDIS_URL naming every node.
func (c *redisCluster) url() string { return "redis://" + strings.Join(c.addrs(), ",") }

// node is a plain client of node i (CLUSTER and PUBSUB commands).
func (c *redisCluster) node(i int) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: c.addrs()[i], MaxRetries: -1, DialTimeout: time.Second})
	c.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// start runs node i (again: same port, dir and nodes-<port>.conf) and waits
// until it answers PING.
func (c *redisCluster) start(i int) {
	c.t.Helper()
	p := strconv.Itoa(c.ports[i])
	logf, err := os.OpenFile(filepath.Join(c.dirs[i], "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("redis-server", "--port", p, "--bind", "127.0.0.1", "--cluster-enabled", "yes",
		"--cluster-config-file", "nodes-"+p+".conf", "--cluster-node-timeout", "2000",
		"--appendonly", "no", "--save", "", "--dir", c.dirs[i], "--daemonize", "no")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start redis-server on %s: %v", p, err)
	}
	c.mu.Lock()
	c.procs[i] = cmd
	c.mu.Unlock()
	rdb := redis.NewClient(&redis.Options{Addr: c.addrs()[i], MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.dirs[i], "redis.log"))
			c.t.Fatalf("redis-server on %s does not answer:\n%s", p, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends node i's process at once (SIGKILL), if it runs.
func (c *redisCluster) kill(i int) {
	c.mu.Lock()
	cmd := c.procs[i]
	c.procs[i] = nil
	c.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// waitOK waits until every node says cluster_state:ok.
func (c *redisCluster) waitOK(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for i := range c.ports {
		rdb := redis.NewClient(&redis.Options{Addr: c.addrs()[i], MaxRetries: -1})
		for {
			info, _ := rdb.ClusterInfo(context.Background()).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				rdb.Close()
				c.t.Fatalf("node %s: no cluster_state:ok after %v:\n%s", c.addrs()[i], timeout, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		rdb.Close()
	}
}

// owners maps each of the given channels to the index of the node serving
// its slot.
func (c *redisCluster) owners(channels []string) map[string]int {
	c.t.Helper()
	ctx := context.Background()
	rdb := c.node(0)
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		c.t.Fatalf("CLUSTER SLOTS: %v", err)
	}
	out := map[string]int{}
	for _, ch := range channels {
		slot, err := rdb.ClusterKeySlot(ctx, ch).Result()
		if err != nil {
			c.t.Fatalf("CLUSTER KEYSLOT %s: %v", ch, err)
		}
		for _, s := range slots {
			if int64(s.Start) <= slot && slot <= int64(s.End) {
				out[ch] = slices.Index(c.addrs(), s.Nodes[0].Addr)
			}
		}
		if i, ok := out[ch]; !ok || i < 0 {
			c.t.Fatalf("no node of this cluster serves slot %d (%s): %v", slot, ch, slots)
		}
	}
	return out
}

// moveSlot gives an empty slot of node src to node dst, the way redis-cli
// --cluster reshard does.
func (c *redisCluster) moveSlot(slot int64, src, dst int) {
	c.t.Helper()
	ctx := context.Background()
	ids := make([]string, len(c.ports))
	for i := range c.ports {
		id, err := c.node(i).ClusterMyID(ctx).Result()
		if err != nil {
			c.t.Fatalf("CLUSTER MYID on node %d: %v", i, err)
		}
		ids[i] = id
	}
	steps := []struct {
		node int
		args []any
	}{
		{dst, []any{"cluster", "setslot", slot, "importing", ids[src]}},
		{src, []any{"cluster", "setslot", slot, "migrating", ids[dst]}},
		{dst, []any{"cluster", "setslot", slot, "node", ids[dst]}},
		{src, []any{"cluster", "setslot", slot, "node", ids[dst]}},
	}
	for i := range c.ports {
		if i != src && i != dst {
			steps = append(steps, struct {
				node int
				args []any
			}{i, []any{"cluster", "setslot", slot, "node", ids[dst]}})
		}
	}
	for _, s := range steps {
		if err := c.node(s.node).Do(ctx, s.args...).Err(); err != nil {
			c.t.Fatalf("node %d: %v: %v", s.node, s.args, err)
		}
	}
}

// ---- helpers ------------------------------------------------------------------

// shardChannel is the channel of a stream as docs/realtime.md has it:
// FNV-32a of the name modulo 64.
func shardChannel(prefix, stream string) string {
	h := fnv.New32a()
	h.Write([]byte(stream))
	return prefix + "ev:" + strconv.Itoa(int(h.Sum32()%realtime.RedisShards))
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockedBuffer collects log lines from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// clusterInstance is one instance of scaled mode: a hub served over HTTP,
// with its own cluster client and ClusterRedis broker.
type clusterInstance struct {
	hub    *realtime.Hub
	broker *realtime.ClusterRedis
	url    string
}

// startClusterInstance runs a hub over log with a ClusterRedis broker on the
// cluster at redisURL. The hub's timer never fires within the test, so
// whatever heals comes from the broker asking. Every user listens to streams.
func startClusterInstance(t *testing.T, redisURL, prefix string, log realtime.Log, streams []string, logs *lockedBuffer) *clusterInstance {
	t.Helper()
	rdb, err := realtime.NewRedisClient(redisURL)
	if err != nil {
		t.Fatalf("NewRedisClient(%s): %v", redisURL, err)
	}
	if _, ok := rdb.(*redis.ClusterClient); !ok {
		t.Fatalf("NewRedisClient(%s) is a %T, want a *redis.ClusterClient", redisURL, rdb)
	}
	t.Cleanup(func() { rdb.Close() })
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	broker, ok := realtime.NewRedisBroker(rdb, prefix, logger).(*realtime.ClusterRedis)
	if !ok {
		t.Fatalf("NewRedisBroker on a cluster client is not a *realtime.ClusterRedis")
	}
	hub := realtime.NewHub(realtime.Options{Log: log, SyncInterval: time.Hour, Logger: logger,
		Auth: func(_ context.Context, token string) (realtime.Identity, error) {
			return realtime.Identity{UserID: token, Role: "volunteer", Expires: time.Now().Add(time.Hour)}, nil
		},
		Streams: func(context.Context, realtime.Identity) ([]string, error) { return streams, nil },
	})
	hub.Run()
	srv := httptest.NewServer(hub)
	t.Cleanup(func() {
		hub.Close(2 * time.Second)
		srv.Close()
	})
	runBroker(t, broker, hub)
	return &clusterInstance{hub: hub, broker: broker, url: srv.URL}
}

// runBroker runs broker for sink until the test ends; it is stopped before
// the cleanups registered earlier (its client's Close) run.
func runBroker(t *testing.T, broker realtime.Broker, sink realtime.Sink) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); broker.Run(ctx, sink) }()
	t.Cleanup(func() { cancel(); <-done })
}

// reader reads a feed client's event frames in the background and checks
// that every stream's seqs come once each, in order.
type reader struct {
	c     *client
	mu    sync.Mutex
	last  map[string]int64
	err   error
	pongs chan struct{}
}

func startReader(c *client, deadline time.Time) *reader {
	r := &reader{c: c, last: map[string]int64{}, pongs: make(chan struct{}, 1)}
	go func() {
		for {
			f, err := c.read(time.Until(deadline))
			r.mu.Lock()
			switch {
			case err != nil:
				r.err = err
			case f.Type == "pong":
				r.pongs <- struct{}{}
			case f.Type != "event":
				r.err = fmt.Errorf("got %v, want events only", f)
			case f.Seq != r.last[f.Stream]+1:
				r.err = fmt.Errorf("got %v after %s#%d: want each seq once, in order", f, f.Stream, r.last[f.Stream])
			default:
				r.last[f.Stream] = f.Seq
			}
			stop := r.err != nil
			r.mu.Unlock()
			if stop {
				return
			}
		}
	}()
	return r
}

// barrier sends a ping and waits for its pong: whatever the server queued
// before has been read (and checked) by then.
func (r *reader) barrier(t *testing.T) {
	t.Helper()
	r.c.send(api.ClientFrame{Type: "ping"})
	select {
	case <-r.pongs:
	case <-time.After(5 * time.Second):
		t.Fatal("no pong within 5 s")
	}
	r.reached(t, nil)
}

// reached reports whether every stream got up to want[stream]; it fails
// the test when the reader stopped on an error.
func (r *reader) reached(t *testing.T, want map[string]int64) bool {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		t.Fatalf("feed client: %v (at %v, want %v)", r.err, r.last, want)
	}
	for s, n := range want {
		if r.last[s] < n {
			return false
		}
	}
	return true
}

// waitReached waits until every stream got up to want, at most timeout.
func (r *reader) waitReached(t *testing.T, want map[string]int64, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for !r.reached(t, want) {
		if time.Now().After(deadline) {
			r.mu.Lock()
			got := copyPositions(r.last)
			r.mu.Unlock()
			t.Fatalf("after %v the client is at %v, want %v", timeout, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func copyPositions(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ---- the tests ------------------------------------------------------------------

// Two instances on a three-node Redis Cluster, each with its own
// ClusterRedis: events committed through A reach a feed client of B once
// each and in order, on streams whose channels live on all three nodes;
// then one node is killed and restarted while 100 events are written, and
// the client still ends with every event once, in order. Both hubs' timers
// are off: what was lost is healed because the broker asked.
func TestClusterRedisTwoInstances(t *testing.T) {
	t0 := time.Now()
	rc := startRedisCluster(t)
	t.Logf("cluster of %v up in %v", rc.ports, time.Since(t0).Round(time.Millisecond))

	prefix := "test:cl" + strconv.Itoa(rand.IntN(1e6)) + ":"
	var channels []string
	for i := range realtime.RedisShards {
		channels = append(channels, prefix+"ev:"+strconv.Itoa(i))
	}
	owner := rc.owners(channels)
	perNode := make([]int, 3)
	for _, n := range owner {
		perNode[n]++
	}
	t.Logf("the 64 channels per node: %v", perNode)
	for n, k := range perNode {
		if k == 0 {
			t.Fatalf("no channel on node %d: the channels do not spread over the cluster", n)
		}
	}
	// Four streams per node.
	var streams []string
	nodeOf := map[string]int{}
	count := make([]int, 3)
	for i := 0; len(streams) < 12; i++ {
		s := fmt.Sprintf("org:cluster-%d", i)
		if n := owner[shardChannel(prefix, s)]; count[n] < 4 {
			count[n]++
			streams = append(streams, s)
			nodeOf[s] = n
		}
	}

	d := dbtest.Open(t, dbtest.SQLite)
	reads := event.NewLog(d, nil) // what the hubs read; writes go through logA
	ctx := context.Background()
	var logs lockedBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("broker and hub logs:\n%s", logs.String())
		}
	})
	a := startClusterInstance(t, rc.url(), prefix, reads, streams, &logs)
	b := startClusterInstance(t, rc.url(), prefix, reads, streams, &logs)
	logA := event.NewLog(d, realtime.Fanout{Hub: a.hub, Broker: a.broker})
	eventually(t, "both brokers subscribed to the 64 channels", 10*time.Second, func() bool {
		return a.broker.Reconnects.Load() >= realtime.RedisShards && b.broker.Reconnects.Load() >= realtime.RedisShards
	})
	// Each node has both instances subscribed to each of its channels.
	for n := range 3 {
		var mine []string
		for _, ch := range channels {
			if owner[ch] == n {
				mine = append(mine, ch)
			}
		}
		subs, err := rc.node(n).PubSubShardNumSub(ctx, mine...).Result()
		if err != nil {
			t.Fatalf("PUBSUB SHARDNUMSUB on node %d: %v", n, err)
		}
		for _, ch := range mine {
			if subs[ch] != 2 {
				t.Fatalf("node %d: %s has %d subscribers, want 2", n, ch, subs[ch])
			}
		}
	}
	time.Sleep(100 * time.Millisecond) // the heals asked by the first subscriptions are done

	c, w := open(t, b.url, "watcher", nil)
	for _, s := range streams {
		if seqOf(w, s) != 0 {
			t.Fatalf("welcome: %s at %d, want 0", s, seqOf(w, s))
		}
	}
	r := startReader(c, time.Now().Add(40*time.Second))
	want := map[string]int64{}
	write := func(s string, i int) {
		err := logA.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			_, err := event.Append(ctx, tx, s, "test.cluster", map[string]int{"i": i})
			return err
		})
		if err != nil {
			t.Errorf("append to %s: %v", s, err)
		}
	}

	// 1. A healthy cluster: events go through every node's channels, none
	// healed from the database.
	t1 := time.Now()
	for round := range 3 {
		for _, s := range streams {
			write(s, round)
			want[s]++
		}
	}
	took := r.waitReached(t, want, 10*time.Second)
	t.Logf("phase 1: 36 events on 12 streams over 3 nodes delivered through the cluster %v after the last write (%v in all)",
		took.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	if h := b.hub.Metrics().Healed.Load(); h != 0 {
		t.Fatalf("B healed %d events from the database with a healthy cluster, want all through Redis", h)
	}

	// 2. Node 1 is killed after the 20th of 100 events and restarted 2.5 s
	// later (past the node timeout: the other nodes mark it failed). The
	// 70th waits until every node says cluster_state:ok again: events are
	// written before, during and after the outage.
	const victim = 1
	t2 := time.Now()
	killAt := make(chan struct{})
	var restart struct {
		killed, started, ok time.Time
	}
	var rwg sync.WaitGroup
	rwg.Go(func() {
		<-killAt
		rc.kill(victim)
		restart.killed = time.Now()
		time.Sleep(2500 * time.Millisecond)
		rc.start(victim)
		restart.started = time.Now()
		rc.waitOK(20 * time.Second)
		restart.ok = time.Now()
	})
	for i := range 100 {
		switch i {
		case 20:
			close(killAt)
		case 70:
			rwg.Wait()
		}
		s := streams[i%len(streams)]
		write(s, i)
		want[s]++
		time.Sleep(40 * time.Millisecond)
	}
	lastWrite := time.Now()
	if t.Failed() {
		t.FailNow()
	}
	took = r.waitReached(t, want, 20*time.Second)
	t.Logf("phase 2: 100 events written in %v; node %d killed %v after the first, restarted %v later, cluster_state:ok on all nodes %v after its restart; the client had all events %v after the last write",
		lastWrite.Sub(t2).Round(time.Millisecond), victim, restart.killed.Sub(t2).Round(time.Millisecond),
		restart.started.Sub(restart.killed).Round(time.Millisecond), restart.ok.Sub(restart.started).Round(time.Millisecond),
		took.Round(time.Millisecond))
	t.Logf("broker A: reconnects %d, dropped %d, gap notices %d; broker B: reconnects %d, dropped %d, gap notices %d; hub B healed %d",
		a.broker.Reconnects.Load(), a.broker.Dropped.Load(), a.broker.GapNotices.Load(),
		b.broker.Reconnects.Load(), b.broker.Dropped.Load(), b.broker.GapNotices.Load(), b.hub.Metrics().Healed.Load())

	// Both instances subscribe again to the restarted node's channels.
	var victims []string
	for _, ch := range channels {
		if owner[ch] == victim {
			victims = append(victims, ch)
		}
	}
	node := rc.node(victim)
	eventually(t, "both instances subscribed again on the restarted node", 10*time.Second, func() bool {
		subs, err := node.PubSubShardNumSub(ctx, victims...).Result()
		if err != nil {
			return false
		}
		for _, ch := range victims {
			if subs[ch] != 2 {
				return false
			}
		}
		return true
	})

	// 3. After the restart, events flow on every node's channels again.
	for _, s := range streams {
		write(s, 1000)
		want[s]++
	}
	took = r.waitReached(t, want, 10*time.Second)
	t.Logf("phase 3: 12 more events delivered %v after the last write", took.Round(time.Millisecond))

	// 4. A slot moves to another node: its old owner ends the shard channel
	// subscriptions there (sunsubscribe), and both instances subscribe
	// again at the new owner.
	moved := streams[len(streams)-1]
	movedCh := shardChannel(prefix, moved)
	src := owner[movedCh]
	dst := (src + 1) % 3
	slot, err := rc.node(0).ClusterKeySlot(ctx, movedCh).Result()
	if err != nil {
		t.Fatal(err)
	}
	t4 := time.Now()
	rc.moveSlot(slot, src, dst)
	eventually(t, "both instances subscribed to "+movedCh+" at its new node", 10*time.Second, func() bool {
		subs, err := rc.node(dst).PubSubShardNumSub(ctx, movedCh).Result()
		return err == nil && subs[movedCh] == 2
	})
	resub := time.Since(t4)
	write(moved, 2000)
	want[moved]++
	took = r.waitReached(t, want, 10*time.Second)
	t.Logf("phase 4: slot %d (%s) moved from node %d to %d; both instances subscribed there %v later; an event on it delivered %v after its write",
		slot, movedCh, src, dst, resub.Round(time.Millisecond), took.Round(time.Millisecond))

	// 5. A publish lost while every subscription is healthy (a third
	// instance's queue is full): its gap notice makes B heal, and the client
	// gets the event although nothing carried it and B's timer is off.
	var captured []event.Event
	quiet := event.NewLog(d, publisherFunc(func(evs []event.Event) { captured = append(captured, evs...) }))
	crdb, err := realtime.NewRedisClient(rc.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { crdb.Close() })
	third := realtime.NewClusterRedis(crdb.(*redis.ClusterClient), prefix, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	// Fill the queue of streams[0]'s channel (Run is not started) with
	// events of a stream nobody serves, on the same channel.
	var filler string
	for i := 0; filler == ""; i++ {
		if s := fmt.Sprintf("filler-%d", i); shardChannel(prefix, s) == shardChannel(prefix, streams[0]) {
			filler = s
		}
	}
	for i := 0; third.Dropped.Load() == 0; i++ {
		if i > 100000 {
			t.Fatal("the publish queue never fills")
		}
		third.Publish(ctx, []event.Event{{Stream: filler, Seq: int64(i + 1), Name: "test.filler"}})
	}
	if err := quiet.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := event.Append(ctx, tx, streams[0], "test.cluster", map[string]int{"i": 3000})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	third.Publish(ctx, captured)
	want[streams[0]]++
	if n := third.Dropped.Load(); n != 2 {
		t.Fatalf("dropped %d, want the filler that found the queue full and the event", n)
	}
	healed := b.hub.Metrics().Healed.Load()
	runBroker(t, third, nopSink{})
	took = r.waitReached(t, want, 10*time.Second)
	// The client may have it before the notice went out (B heals on any
	// resubscription too, and phase 2 left some behind): wait for it.
	waitFor(t, "the gap notice", func() bool { return third.GapNotices.Load() > 0 })
	if b.hub.Metrics().Healed.Load() <= healed {
		t.Fatalf("gap notices %d, B healed %d more: want the event healed after a notice", third.GapNotices.Load(), b.hub.Metrics().Healed.Load()-healed)
	}
	t.Logf("phase 5: an event dropped at a full queue reached the client %v after the broker started (gap notice)", took.Round(time.Millisecond))

	r.barrier(t)
	r.mu.Lock()
	got := copyPositions(r.last)
	r.mu.Unlock()
	for _, s := range streams {
		if got[s] != want[s] {
			t.Errorf("%s (node %d): at %d, want %d", s, nodeOf[s], got[s], want[s])
		}
	}
	t.Logf("receive errors seen by the brokers: %v", errorKinds(logs.String()))
	t.Logf("total %v", time.Since(t0).Round(time.Millisecond))
}

type publisherFunc func([]event.Event)

func (f publisherFunc) Publish(_ context.Context, evs []event.Event) { f(evs) }

type nopSink struct{}

func (nopSink) Deliver([]event.Event) {}
func (nopSink) Heal()                 {}

// errorKinds tallies the brokers' logged receive and publish errors by kind.
func errorKinds(logs string) map[string]int {
	kinds := map[string]int{}
	for line := range strings.Lines(logs) {
		var what string
		switch {
		case strings.Contains(line, `msg="redis cluster receive"`):
			what = "receive"
		case strings.Contains(line, `msg="redis cluster publish"`):
			what = "publish"
		default:
			continue
		}
		kind := "other"
		for _, k := range []string{"CLUSTERDOWN", "MOVED", "sunsubscribe", "EOF", "connection refused", "connection reset", "i/o timeout", "context deadline exceeded"} {
			if strings.Contains(line, k) {
				kind = k
				break
			}
		}
		kinds[what+": "+kind]++
	}
	return kinds
}

// A JARIMU_REDIS_URL naming several nodes, or with cluster=true, makes the
// app use a ClusterClient and the ClusterRedis broker; one node, or
// sentinels, is still classic Redis. Nothing listens on the ports: clients
// connect lazily.
func TestClusterURLSelectsClusterBroker(t *testing.T) {
	var addrs []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, l.Addr().String())
		l.Close()
	}
	for _, tc := range []struct {
		url     string
		cluster bool
	}{
		{"redis://" + strings.Join(addrs, ","), true},
		{"redis://" + addrs[0] + "?cluster=true", true},
		{"redis://" + addrs[0], false},
		{"redis+sentinel://" + addrs[0] + "," + addrs[1] + "/mymaster", false}, // a failover client, classic pub/sub
	} {
		t.Run(tc.url, func(t *testing.T) {
			e := apptest.Start(t, dbtest.SQLite, func(o *app.Options) { o.RedisURL, o.RedisPrefix = tc.url, "test:" })
			switch rdb := e.App.Redis.(type) {
			case *redis.ClusterClient:
				if !tc.cluster {
					t.Fatalf("Redis is a cluster client, want a plain one")
				}
				if got := rdb.Options().Addrs; !slices.Equal(got, addrs) && !slices.Equal(got, addrs[:1]) {
					t.Errorf("cluster seeds %v, want %v", got, addrs)
				}
			case *redis.Client:
				if tc.cluster {
					t.Fatalf("Redis is a plain client, want a cluster client")
				}
			default:
				t.Fatalf("Redis is a %T", rdb)
			}
			_, isCluster := e.App.Broker.(*realtime.ClusterRedis)
			_, isRedis := e.App.Broker.(*realtime.Redis)
			if isCluster != tc.cluster || isRedis == tc.cluster {
				t.Fatalf("broker is a %T", e.App.Broker)
			}
		})
	}
}

// NewRedisClient reads the node list, credentials and options of a cluster
// URL, and refuses what a cluster cannot do, without echoing a password.
func TestClusterRedisURLs(t *testing.T) {
	for _, tc := range []struct {
		url      string
		addrs    []string // nil: a plain client
		user     string
		password string
		tls      bool
	}{
		{url: "redis://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002", addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"}},
		{url: "redis://10.0.0.1:7000?cluster=true", addrs: []string{"10.0.0.1:7000"}},
		{url: "redis://a:7000?cluster=1&addr=b:7001", addrs: []string{"a:7000", "b:7001"}},
		{url: "rediss://jarimu:s%40cret@a:7000, b/0?dial_timeout=3s", addrs: []string{"a:7000", "b:6379"}, user: "jarimu", password: "s@cret", tls: true},
		{url: "redis://[::1]:7000,[::1]:7001/", addrs: []string{"[::1]:7000", "[::1]:7001"}},
		{url: "redis://127.0.0.1:6379/2"},
		{url: "redis://:pw@127.0.0.1:6379?cluster=false", password: "pw"},
	} {
		rdb, err := realtime.NewRedisClient(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		switch c := rdb.(type) {
		case *redis.ClusterClient:
			o := c.Options()
			if tc.addrs == nil || !slices.Equal(o.Addrs, tc.addrs) || o.Username != tc.user || o.Password != tc.password || (o.TLSConfig != nil) != tc.tls {
				t.Errorf("%s: cluster of %v user %q password %q tls %v, want %v %q %q %v", tc.url, o.Addrs, o.Username, o.Password, o.TLSConfig != nil, tc.addrs, tc.user, tc.password, tc.tls)
			}
		case *redis.Client:
			if tc.addrs != nil || c.Options().Password != tc.password {
				t.Errorf("%s: a plain client (password %q), want a cluster of %v", tc.url, c.Options().Password, tc.addrs)
			}
		}
		rdb.Close()
	}
	for _, bad := range []string{
		"redis://a:7000,b:7001/3",
		"redis://a:7000,,b:7001",
		"redis://a:7000,b:7001?cluster=false",
		"redis://a:7000?cluster=maybe",
		"redis://u:secret@a:7000,b:7001?bogus=1",
		"redis://u:secret@a:x,b:7001",
		"127.0.0.1:7000,127.0.0.1:7001",
	} {
		rdb, err := realtime.NewRedisClient(bad)
		if err == nil {
			rdb.Close()
			t.Errorf("%s: no error", bad)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the password: %v", bad, err)
		}
	}
}
