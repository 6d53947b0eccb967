package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
)

// Environment of a test binary re-executed as `jarimu` (see TestMain).
const (
	runMainEnv = "JARIMU_TEST_RUN_MAIN" // "1": run main instead of the tests
	runArgsEnv = "JARIMU_TEST_ARGS"     // JSON array: the command line after the program name
)

// TestMain runs the tests or, when the binary was started by startProcess,
// is the jarimu program itself: the scaled-mode tests run real `jarimu
// serve` processes this way, with no separate build.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		// A process the program started of its own executable (bench
		// feed --procs starts its workers so) has its command line; the
		// tests' processes have theirs in runArgsEnv.
		if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-test.") {
			var args []string
			if err := json.Unmarshal([]byte(os.Getenv(runArgsEnv)), &args); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", runArgsEnv, err)
				os.Exit(2)
			}
			os.Args = append([]string{os.Args[0]}, args...)
		}
		go exitWithParent()
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// exitWithParent ends a re-executed process when the test binary that
// started it is gone (killed, or timed out before its cleanup ran), so that
// no server outlives its test.
func exitWithParent() {
	parent := os.Getppid()
	for range time.Tick(200 * time.Millisecond) {
		if os.Getppid() != parent {
			fmt.Fprintln(os.Stderr, "jarimu (test process): the test binary is gone; exiting")
			os.Exit(3)
		}
	}
}

// process is a `jarimu` process: this test binary re-executed (see
// TestMain).
type process struct {
	args   []string
	env    []string
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	err    error         // of Wait, set before done is closed
	stdout *apptest.Logs
	stderr *apptest.Logs // this and every earlier run's, for the race check
	runs   int
	URL    string // of `serve`, from its "listening on" line
}

// freeAddr is a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServe starts `jarimu serve -addr addr` as a process with env (added
// to this process's environment, less its JARIMU_ settings) and waits for
// it to listen. Cleanup stops it (SIGTERM) and fails the test if it
// reported a data race.
func startServe(t *testing.T, env map[string]string, addr string) *process {
	t.Helper()
	var base []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "JARIMU_") && !strings.HasPrefix(k, "JARIMU_TEST_") || k == runMainEnv || k == runArgsEnv {
			continue
		}
		base = append(base, kv)
	}
	for k, v := range env {
		base = append(base, k+"="+v)
	}
	p := &process{args: []string{"serve", "-addr", addr}, env: base, stderr: &apptest.Logs{}}
	p.start(t)
	t.Cleanup(func() {
		if err := p.stop(20 * time.Second); err != nil {
			t.Errorf("jarimu serve %s: %v\n%s", addr, err, tail(p.stderr.String(), 4000))
		}
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("jarimu serve %s reported a data race:\n%s", addr, tail(p.stderr.String(), 20000))
		}
	})
	return p
}

// start runs the process (again) and waits up to 60 s for its listening
// line.
func (p *process) start(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args, _ := json.Marshal(p.args)
	p.cmd = exec.Command(exe)
	p.cmd.Env = append(append([]string{}, p.env...), runMainEnv+"=1", runArgsEnv+"="+string(args))
	p.stdout = &apptest.Logs{}
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	p.runs++
	fmt.Fprintf(p.stderr, "--- run %d ---\n", p.runs)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start jarimu %v: %v", p.args, err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		p.err = cmd.Wait()
		close(done)
	}(p.cmd, p.done)
	deadline := time.After(60 * time.Second)
	for {
		for _, line := range strings.Split(p.stdout.String(), "\n") {
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				p.URL = strings.TrimSpace(u)
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("jarimu %v exited before listening: %v\n%s", p.args, p.err, tail(p.stderr.String(), 4000))
		case <-deadline:
			p.kill()
			t.Fatalf("jarimu %v did not listen within 60 s\n%s", p.args, tail(p.stderr.String(), 4000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill ends the process at once (SIGKILL: no drain, no goodbye to the feed
// connections, as when a machine dies) and waits for it.
func (p *process) kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// stop asks the process to shut down (SIGTERM) and waits for it; after
// timeout it is killed. The error is its exit status (nil: it drained and
// exited 0).
func (p *process) stop(timeout time.Duration) error {
	if p.cmd == nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		p.cmd = nil
		return p.err
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("did not stop within %s after SIGTERM; killed", timeout)
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
