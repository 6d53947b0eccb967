package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/bench"
)

// workerEnv makes this test binary a bench worker process: "1" is
// bench.Work, "die" a worker that exits after its first line, "die-late"
// one that exits once it has connected its clients.
const workerEnv = "JARIMU_BENCH_TEST_WORKER"

// TestMain runs the tests or, re-executed by worker, a worker process.
func TestMain(m *testing.M) {
	switch os.Getenv(workerEnv) {
	case "1":
		if err := bench.Work(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "die-late":
		bench.Work(context.Background(), os.Stdin, exitAfterConnected{os.Stdout})
		os.Exit(0)
	case "die":
		bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Fprintln(os.Stderr, "dying on purpose")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// exitAfterConnected ends the process once it has written the reply to
// connect.
type exitAfterConnected struct{ w io.Writer }

func (e exitAfterConnected) Write(b []byte) (int, error) {
	n, err := e.w.Write(b)
	if bytes.Contains(b, []byte("connected ")) {
		os.Exit(3)
	}
	return n, err
}

// worker starts this test binary as a worker process of the given kind.
func worker(t *testing.T, kind string) func() *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return func() *exec.Cmd {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), workerEnv+"="+kind)
		return cmd
	}
}

// With the clients in two worker processes, every client gets (and acks,
// after the delay the parent gave) every alert, and the figures add up as
// in one process.
func TestFeedInWorkerProcesses(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		env := &bench.Env{URLs: []string{e.URL}, Minter: e.App.Auth.Tokens(), Seeder: e.App.Auth, Worker: worker(t, "1")}
		ctx := context.Background()
		r, err := bench.Feed(ctx, env, bench.FeedOptions{Clients: 31, Alerts: 3, Procs: 2, Ack: true, AckDelay: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if r.Figures["procs"] != 2 || r.Figures["clients"] != 31 || r.Figures["failed_connections"] != 0 ||
			r.Figures["deliveries"] != 93 || r.Stats["alert_to_each_client"].N != 93 || r.Stats["alert_to_last_client"].N != 3 || len(r.Notes) > 0 {
			t.Fatalf("feed, 2 procs: got %+v, notes %q; want 31 clients x 3 alerts delivered", r.Figures, r.Notes)
		}
		// The run ends when every alert is received; the acks follow after
		// their delay.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			e.App.Acks.Flush(ctx)
			if e.App.Acks.Stats().Counted >= 93 || time.Now().After(deadline) {
				break
			}
		}
		if st := e.App.Acks.Stats(); st.Counted != 93 {
			t.Fatalf("acks: got %+v, want 93 counted (the workers' clients ack)", st)
		}
		if r.Figures["clients_ack_delay_ms"] != int64(100) {
			t.Errorf("the ack delay reported: %v", r.Figures["clients_ack_delay_ms"])
		}
		r, err = bench.Feed(ctx, env, bench.FeedOptions{Clients: 20, Procs: 3, Rate: 10, Duration: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		published, _ := r.Figures["alerts_published"].(int)
		if published == 0 || r.Figures["deliveries"] != 20*published || r.Figures["deliveries_missing"] != 0 {
			t.Fatalf("feed --rate, 3 procs: got %+v, want every alert to 20 clients", r.Figures)
		}
		r, err = bench.Storm(ctx, env, bench.FeedOptions{Clients: 24, Alerts: 2, Procs: 2})
		if err != nil {
			t.Fatal(err)
		}
		if r.Figures["clients_missing_an_alert"] != 0 || r.Figures["failed_reconnects"] != 0 || r.Figures["procs"] != 2 {
			t.Fatalf("storm, 2 procs: got %+v, want every client to resume every missed alert", r.Figures)
		}
	})
}

// A worker process that dies, before connecting or while the run waits
// for an alert, fails the run with an error naming it; the run does not
// wait for it (the alert's wait is an hour).
func TestFeedWorkerDies(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		for _, kind := range []string{"die", "die-late"} {
			env := &bench.Env{URLs: []string{e.URL}, Minter: e.App.Auth.Tokens(), Seeder: e.App.Auth, Worker: worker(t, kind)}
			_, err := bench.Feed(context.Background(), env, bench.FeedOptions{Clients: 4, Alerts: 1, Procs: 2, Wait: time.Hour})
			if err == nil || !strings.Contains(err.Error(), "bench worker") {
				t.Fatalf("%s: got %v, want a worker's failure", kind, err)
			}
			t.Logf("%s: %v", kind, err)
		}
	})
}
