package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/bench"
)

const benchUsage = `usage: jarimu bench feed|storm|latency|claims|mixed [flags]

Drives a running Jarimu (start it first, embedded or scaled) and prints a
table; --json FILE writes the same as JSON. It seeds its own accounts in the
server's database (so it takes the same database settings as serve) and
mints their access tokens from the same key file: ten thousand volunteers
cost one password hash. Seeded accounts have emails @seed.invalid.

  feed     open --clients feed connections, publish --alerts alerts one by one:
           time from commit to the last and to every client, connect rate,
           CPU per 1,000 deliveries of the load generator and (with
           --server-pid) of the servers, server memory per connection;
           with --rate N/s,
           publish N alerts a second for --duration instead: deliveries per
           second (overall, and sustained while publishing), latency and
           deliveries received per 5 s window, time from commit to every
           client and to each alert's last, publish latency, whether the
           server kept up, CPU per 1,000 deliveries as above, and on
           PostgreSQL database transactions per second. Clients whose
           connection ends by itself are reported as lost and not waited for
  storm    connect --clients, drop them all, publish --alerts, reconnect all
           at once with resume: hellos per second, time until all caught up
  latency  one client: time from the HTTP write to its receipt, --alerts times
  claims   --volunteers race for --tasks tasks of --slots slots each for
           --duration: requests/s, p50/p99, and a check that no task got more
           claims than slots
  mixed    an election-day mix for --duration: --clients phones on the feed,
           --volunteers racing for tasks, --reports findings per second, an
           alert every --alert-every; rates, latencies and alert fan-out

With --metrics URL (the server's /metrics, comma-separated for several) the
result also has each server's CPU use and resident memory. With
--server-pid PID (comma-separated for several local servers) feed reports
their memory per connection and CPU per 1,000 deliveries, summed.

With --procs N (feed, storm, mixed) the feed clients live in N worker
processes of this same program (jarimu bench feed-worker, which is internal)
rather than in this one: each process may hold only as many sockets as its
open-file limit, so more than ~20,000 clients need several.

Use a throwaway data dir or database: seeded accounts, orgs, tasks, reports
and alerts stay behind. Run the server with the rate limits off
(-rate-feed-ip 0 -rate-feed-user 0 -rate-user-writes 0 -rate-ip-writes 0):
from one machine every simulated phone has the same address.
`

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, benchUsage)
		return errors.New("bench: name a scenario")
	}
	scenario := args[0]
	fs := flag.NewFlagSet("bench "+scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	urls := fs.String("server", "http://127.0.0.1:8080", "server base URL(s), comma-separated: clients are spread over them")
	fs.Func("url", "deprecated: the old name of -server", func(v string) error {
		*urls = v
		fmt.Fprintln(stderr, "jarimu: warning: --url is deprecated for the server; use --server")
		return nil
	})
	clients := fs.Int("clients", 1000, "feed connections (feed, storm)")
	alerts := fs.Int("alerts", 20, "alerts to publish (feed, storm, latency)")
	regionCode := fs.String("region", "3171", "region of the seeded volunteers (alerts go to its province)")
	pids := fs.String("server-pid", "", "pid(s) of local serve processes, comma-separated, to report their memory and CPU (summed)")
	procs := fs.Int("procs", 1, "feed, storm, mixed: spread the feed clients over this many worker processes (each has its own open-file limit)")
	parallel := fs.Int("parallel", 200, "connections opened at once")
	volunteers := fs.Int("volunteers", 200, "racing volunteers (claims)")
	tasks := fs.Int("tasks", 20, "tasks raced for (claims)")
	slots := fs.Int("slots", 10, "slots per task (claims)")
	duration := fs.Duration("duration", 20*time.Second, "how long the claims race, the mix and the feed's rate mode run")
	ack := fs.Bool("ack", false, "feed clients ack every event they receive, as the web console does (feed, storm, mixed)")
	ackDelay := fs.Duration("ack-delay", 150*time.Millisecond, "with --ack: how long a client gathers its acks before it sends them, one per stream, as the console does (150ms there); 0 acks each event at once")
	rate := fs.String("rate", "", "feed: publish this many alerts per second (\"5/s\" or \"5\") for --duration")
	jsonOut := fs.String("json", "", "also write the result as JSON to this file")
	metricsURLs := fs.String("metrics", "", "servers' /metrics URL(s), comma-separated, to report their CPU and memory")
	reports := fs.Int("reports", 10, "reports per second (mixed)")
	alertEvery := fs.Duration("alert-every", 2*time.Second, "time between alerts (mixed)")
	cpuProfile := fs.String("cpu-profile", "", "write the load generator's own CPU profile to this file (go tool pprof)")
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	c, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if *ackDelay < 0 {
		return fmt.Errorf("bench: --ack-delay %v: want 0 or more", *ackDelay)
	}
	a, err := app.New(ctx, options(c, newLogger(c, io.Discard)))
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(stderr, "open-file limit %d\n", bench.RaiseFileLimit())
	serverPIDs, err := parsePIDs(*pids)
	if err != nil {
		return err
	}
	if *procs < 1 {
		return fmt.Errorf("bench: --procs %d: want 1 or more", *procs)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := &bench.Env{URLs: strings.Split(*urls, ","), Minter: a.Auth.Tokens(), Seeder: a.Auth, ServerPIDs: serverPIDs, Progress: stderr,
		Worker: func() *exec.Cmd { return exec.Command(exe, "bench", "feed-worker") }}
	perSecond, err := parseRate(*rate)
	if err != nil {
		return err
	}
	fo := bench.FeedOptions{Clients: *clients, Alerts: *alerts, Region: *regionCode, Parallel: *parallel,
		Ack: *ack, AckDelay: *ackDelay, Rate: perSecond, Duration: *duration, Procs: *procs}
	if a.DB.Postgres() {
		env.Transactions = func(ctx context.Context) (int64, error) {
			var n int64
			err := a.DB.NewRaw("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()").Scan(ctx, &n)
			return n, err
		}
	}
	co := bench.ClaimOptions{Volunteers: *volunteers, Tasks: *tasks, Slots: *slots, Duration: *duration}
	scenarios := map[string]func() (*bench.Result, error){
		"feed":    func() (*bench.Result, error) { return bench.Feed(ctx, env, fo) },
		"storm":   func() (*bench.Result, error) { return bench.Storm(ctx, env, fo) },
		"latency": func() (*bench.Result, error) { return bench.Latency(ctx, env, fo) },
		"claims":  func() (*bench.Result, error) { return bench.Claims(ctx, env, co) },
		"mixed": func() (*bench.Result, error) {
			return bench.Mixed(ctx, env, bench.MixedOptions{Feed: fo, Claims: co, Duration: *duration, Reports: *reports, AlertEvery: *alertEvery})
		},
	}
	play, ok := scenarios[scenario]
	if !ok {
		return fmt.Errorf("bench: unknown scenario %q (feed, storm, latency, claims, mixed)", scenario)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var r *bench.Result
	if *metricsURLs != "" {
		r, err = bench.WithServerMetrics(strings.Split(*metricsURLs, ","), play)
	} else {
		r, err = play()
	}
	if err != nil {
		return err
	}
	r.WriteTable(stdout)
	if *jsonOut != "" {
		return r.WriteJSON(*jsonOut)
	}
	return nil
}

// parsePIDs reads --server-pid: process ids, comma-separated; "" is none.
func parsePIDs(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var pids []int
	for _, f := range strings.Split(s, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("bench: --server-pid %q: want process ids, comma-separated", s)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// runBenchWorker is `jarimu bench feed-worker`, internal: the feed clients
// of a `bench feed --procs N` run, told by the parent over stdin.
func runBenchWorker(ctx context.Context, con console, args []string) error {
	if len(args) > 0 {
		fmt.Fprintln(con.stderr, "jarimu bench feed-worker is internal: bench feed --procs N starts it")
		return usageError{errors.New("bench feed-worker takes no arguments")}
	}
	bench.RaiseFileLimit()
	return bench.Work(ctx, con.stdin, con.stdout)
}

// parseRate reads --rate: "5/s" or "5" alerts per second; "" is none.
func parseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "/s"), 64)
	if err != nil || v <= 0 || v > 10000 {
		return 0, fmt.Errorf("bench: --rate %q: want alerts per second, e.g. 5/s (at most 10000)", s)
	}
	return v, nil
}
