package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jarimu bench feed --procs 2 holds its clients in two worker processes of
// its own executable (this test binary, which runs main for them: see
// TestMain) against a real server, and reports as one process would; with
// either way the feed reads its clients (JARIMU_FEED_READERS).
func TestBenchFeedProcs(t *testing.T) {
	t.Setenv(runMainEnv, "1") // inherited by the workers
	for _, readers := range []string{"poll", "goroutine"} {
		t.Run(readers, func(t *testing.T) {
			dir := t.TempDir()
			in := serve(t, map[string]string{"JARIMU_DATA_DIR": dir, "JARIMU_FEED_READERS": readers})
			out := filepath.Join(t.TempDir(), "feed.json")
			pid := fmt.Sprint(os.Getpid()) // serve runs in this process: twice is a list
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"bench", "feed", "--server", in.URL, "--clients", "13", "--alerts", "2",
				"--procs", "2", "--ack", "--server-pid", pid + "," + pid, "--json", out}, envFunc(map[string]string{"JARIMU_DATA_DIR": dir}), nil, &stdout, &stderr)
			if err != nil {
				t.Fatalf("bench feed --procs 2: %v\n%s", err, stderr.String())
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Figures map[string]any
				Notes   []string
			}
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			f := r.Figures
			if f["procs"] != 2.0 || f["clients"] != 13.0 || f["failed_connections"] != 0.0 || f["deliveries"] != 26.0 || len(r.Notes) > 0 ||
				f["server_rss_kib_per_connection"] == nil || f["server_cpu_ms_per_1000_deliveries"] == nil ||
				f["load_generator_cpu_ms_per_1000_deliveries"] == nil || f["clients_ack_delay_ms"] != 150.0 {
				t.Fatalf("got %s, want 13 clients in 2 processes acking as the console does, every alert to each, the server's and the workers' figures", b)
			}
		})
	}
}

// The worker sub-command runs but is listed nowhere, and says it is
// internal when given arguments.
func TestBenchWorkerHidden(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"bench", "feed-worker"}, envFunc(nil), strings.NewReader("opt 0 4 0s\nconnect\n"), &out, &errOut); err != nil || out.String() != "connected 0 0\n" {
		t.Errorf("feed-worker with no clients: got %q, %v; want connected 0 0", out.String(), err)
	}
	if err := run(context.Background(), []string{"bench", "feed", "--ack", "--ack-delay", "-1s"}, envFunc(nil), nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--ack-delay") {
		t.Errorf("bench feed --ack-delay -1s: got %v, want an error naming --ack-delay", err)
	}
	if err := run(context.Background(), []string{"bench", "feed-worker", "x"}, envFunc(nil), nil, &out, &errOut); exitCode(err) != 2 || !strings.Contains(errOut.String(), "internal") {
		t.Errorf("feed-worker x: got %v, %q; want a usage error saying it is internal", err, errOut.String())
	}
	for _, args := range [][]string{{"help"}, {"bench", "--help"}} {
		var help bytes.Buffer
		run(context.Background(), args, envFunc(nil), nil, &help, &help)
		if strings.Contains(help.String(), "feed-worker") {
			t.Errorf("jarimu %s lists feed-worker:\n%s", strings.Join(args, " "), help.String())
		}
	}
}
