package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/bench"
)

const benchUsage = `usage: jarimu bench feed|storm|latency|claims [flags]

Drives a running Jarimu (start it first, embedded or scaled) and prints a
table; --json FILE writes the same as JSON. It seeds its own accounts in the
server's database (so it takes the same database settings as serve) and
mints their access tokens from the same key file: ten thousand volunteers
cost one password hash. Seeded accounts have emails @seed.invalid.

  feed     open --clients feed connections, publish --alerts alerts one by one:
           time from commit to the last and to every client, connect rate,
           server memory per connection (with --server-pid)
  storm    connect --clients, drop them all, publish --alerts, reconnect all
           at once with resume: hellos per second, time until all caught up
  latency  one client: time from the HTTP write to its receipt, --alerts times
  claims   --volunteers race for --tasks tasks of --slots slots each for
           --duration: requests/s, p50/p99, and a check that no task got more
           claims than slots
`

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, benchUsage)
		return errors.New("bench: name a scenario")
	}
	scenario := args[0]
	fs := flag.NewFlagSet("bench "+scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	urls := fs.String("url", "http://127.0.0.1:8080", "server base URL(s), comma-separated: clients are spread over them")
	clients := fs.Int("clients", 1000, "feed connections (feed, storm)")
	alerts := fs.Int("alerts", 20, "alerts to publish (feed, storm, latency)")
	regionCode := fs.String("region", "3171", "region of the seeded volunteers (alerts go to its province)")
	pid := fs.Int("server-pid", 0, "pid of a local serve process, to report its memory")
	parallel := fs.Int("parallel", 200, "connections opened at once")
	volunteers := fs.Int("volunteers", 200, "racing volunteers (claims)")
	tasks := fs.Int("tasks", 20, "tasks raced for (claims)")
	slots := fs.Int("slots", 10, "slots per task (claims)")
	duration := fs.Duration("duration", 20*time.Second, "how long the claims race runs")
	jsonOut := fs.String("json", "", "also write the result as JSON to this file")
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	c, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, options(c, newLogger(c, io.Discard)))
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(stderr, "open-file limit %d\n", bench.RaiseFileLimit())
	env := &bench.Env{URLs: strings.Split(*urls, ","), Minter: a.Auth.Tokens(), Seeder: a.Auth, ServerPID: *pid, Progress: stderr}
	fo := bench.FeedOptions{Clients: *clients, Alerts: *alerts, Region: *regionCode, Parallel: *parallel}
	var r *bench.Result
	switch scenario {
	case "feed":
		r, err = bench.Feed(ctx, env, fo)
	case "storm":
		r, err = bench.Storm(ctx, env, fo)
	case "latency":
		r, err = bench.Latency(ctx, env, fo)
	case "claims":
		r, err = bench.Claims(ctx, env, bench.ClaimOptions{Volunteers: *volunteers, Tasks: *tasks, Slots: *slots, Duration: *duration, Setup: a})
	default:
		return fmt.Errorf("bench: unknown scenario %q (feed, storm, latency, claims)", scenario)
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
