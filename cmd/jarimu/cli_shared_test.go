package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
)

// cliProcess is a jarimu command of u run as a process of its own: this
// test binary re-executed (see TestMain), with u's config dir.
type cliProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // of Wait, set before done is closed
	stdout *apptest.Logs
	stderr *apptest.Logs
}

func (u *user) startProcess(args ...string) *cliProcess {
	u.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		u.t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "JARIMU_") {
			env = append(env, kv)
		}
	}
	b, _ := json.Marshal(args)
	p := &cliProcess{t: u.t, cmd: exec.Command(exe), done: make(chan struct{}), stdout: &apptest.Logs{}, stderr: &apptest.Logs{}}
	p.cmd.Env = append(env, "JARIMU_CONFIG_DIR="+u.dir, runMainEnv+"=1", runArgsEnv+"="+string(b))
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	u.t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGCONT)
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			u.t.Errorf("jarimu %s reported a data race:\n%s", strings.Join(args, " "), p.stderr.String())
		}
	})
	return p
}

// pause stops the process (SIGSTOP) and waits until it has stopped (where
// /proc tells; elsewhere a moment).
func (p *cliProcess) pause() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGSTOP)
	stat := fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			return
		}
		// The state follows the command's name in parentheses.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && strings.HasPrefix(string(b[i:]), ") T") {
			return
		}
	}
	p.t.Fatal("the process did not stop within 5 s of SIGSTOP")
}

func (p *cliProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitOutput waits for a line of standard output (or, err true, standard
// error) holding every one of parts.
func (p *cliProcess) waitOutput(stderr bool, parts ...string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := p.stdout.String()
		if stderr {
			out = p.stderr.String()
		}
		for line := range strings.Lines(out) {
			if containsAll(line, parts) {
				return
			}
		}
		if p.exited() || time.Now().After(deadline) {
			p.t.Fatalf("no line with %q (exited: %v, %v)\nstdout: %s\nstderr: %s", parts, p.exited(), p.err, p.stdout.String(), p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOpen waits until the process holds the file path open, as
// /proc/PID/fd tells, and fails the test if the process ends first.
func (p *cliProcess) waitOpen(path string) {
	p.t.Helper()
	want, err := os.Stat(path)
	if err != nil {
		p.t.Fatal(err)
	}
	fds := fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		entries, _ := os.ReadDir(fds)
		for _, e := range entries {
			if st, err := os.Stat(filepath.Join(fds, e.Name())); err == nil && os.SameFile(st, want) {
				return
			}
		}
		if exited := p.exited(); exited || time.Now().After(deadline) {
			if exited {
				err = p.err
			}
			p.t.Fatalf("the process did not open %s within 15 s (exited: %v, %v)\nstdout: %s\nstderr: %s",
				path, exited, err, p.stdout.String(), p.stderr.String())
		}
	}
}

// A jarimu process renews the session under the config dir's lock: while
// another process holds it, a command whose access token has expired waits
// for the lock (it is seen holding the lock file open) without renewing
// the session, which the other may be renewing, and renews it once the
// lock is free.
func TestCLIRefreshWaitsForTheLock(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no /proc/self/fd; CI runs this test on Linux")
		}
		t.Skip("needs /proc/PID/fd (Linux) to see a process wait for the lock")
	}
	w := newWorld(t)
	w.volunteer("ana@example.org")
	var refreshes atomic.Int32
	proxy := newProxy(t, w.url, func(rw http.ResponseWriter, r *http.Request, pass http.Handler) {
		if r.URL.Path == "/v1/auth/refresh" {
			refreshes.Add(1)
		}
		pass.ServeHTTP(rw, r)
	})
	ana := w.loginVia(proxy, "ana@example.org")
	cr := ana.credentials()
	cr.AccessExpiresAt = time.Now().Add(-time.Minute)
	if err := writeJSONFile(filepath.Join(ana.dir, credentialsFile), cr); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockDir(context.Background(), ana.dir)
	if err != nil {
		t.Fatal(err)
	}
	me := ana.startProcess("me")
	me.waitOpen(filepath.Join(ana.dir, lockFile))
	if n := refreshes.Load(); n != 0 {
		unlock()
		t.Fatalf("jarimu me renewed the session (%d refreshes) while another process held the lock", n)
	}
	unlock()
	select {
	case <-me.done:
	case <-time.After(15 * time.Second):
		t.Fatal("jarimu me did not end once the lock was free")
	}
	if me.err != nil || !strings.Contains(me.stdout.String(), "ana@example.org") {
		t.Fatalf("jarimu me: %v\n%s%s", me.err, me.stdout.String(), me.stderr.String())
	}
	if got := ana.credentials().Tokens.RefreshToken; got == cr.Tokens.RefreshToken || got == "" || refreshes.Load() != 1 {
		t.Errorf("after jarimu me: got refresh token %q after %d refreshes, want a new one saved after 1", got, refreshes.Load())
	}
}

// A command interrupted (Ctrl-C) while it renews the session keeps the
// session all the same: the server has spent the refresh token kept, and
// the command writes the one the server answered to credentials.json
// before it returns (and its process exits).
func TestCLIInterruptedRefreshKeepsTheSession(t *testing.T) {
	w := newWorld(t)
	w.volunteer("eka@example.org")
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	returned, checked := make(chan struct{}), make(chan struct{})
	proxy := newProxy(t, w.url, func(rw http.ResponseWriter, r *http.Request, pass http.Handler) {
		if r.URL.Path != "/v1/auth/refresh" {
			pass.ServeHTTP(rw, r)
			return
		}
		// The server renews the session, and the command is interrupted
		// before the answer reaches it. The answer comes once the test has
		// read the credentials after the command returned, or after a
		// second if the command waits for the answer, as it should.
		answer := httptest.NewRecorder()
		pass.ServeHTTP(answer, r)
		interrupt()
		select {
		case <-checked:
		case <-time.After(time.Second):
		}
		maps.Copy(rw.Header(), answer.Header())
		rw.WriteHeader(answer.Code)
		rw.Write(answer.Body.Bytes())
	})
	eka := w.loginVia(proxy, "eka@example.org")
	cr := eka.credentials()
	cr.AccessExpiresAt = time.Now().Add(-time.Minute) // the next command renews the session first
	if err := writeJSONFile(filepath.Join(eka.dir, credentialsFile), cr); err != nil {
		t.Fatal(err)
	}
	stderr := &apptest.Logs{}
	go func() {
		run(ctx, []string{"me"}, eka.env(), strings.NewReader(""), io.Discard, stderr)
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(time.Minute):
		t.Fatal("jarimu me did not end within a minute of Ctrl-C")
	}
	got := eka.credentials().Tokens.RefreshToken
	close(checked)
	if got == cr.Tokens.RefreshToken || got == "" {
		t.Fatalf("after jarimu me was interrupted mid-refresh: got refresh token %q, want the one the server answered saved\n%s", got, stderr.String())
	}
	if out, err := eka.run("me"); err != nil || !strings.Contains(out, "eka@example.org") {
		t.Errorf("jarimu me after the interrupted one: got %q, %v", out, err)
	}
}

// alerts watch writes where it stopped (feed.json) under the config dir's
// lock, as the session is written: not while another jarimu holds it.
func TestCLIWatchSavesUnderTheLock(t *testing.T) {
	w := newWorld(t)
	w.volunteer("fitri@example.org")
	officer := w.person("jkt@bawaslu.go.id")
	fitri := w.person("fitri@example.org")
	watch := fitri.watch()
	watch.waitConnected()
	unlock, err := lockDir(context.Background(), fitri.dir)
	if err != nil {
		t.Fatal(err)
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	send := func(title string) {
		t.Helper()
		officer.must("alert", "send", "--title", title, "--body", "Waspada.", "--severity", "info", "--region", "31")
	}
	send("Peringatan satu")
	watch.waitLine("alert.published", "Peringatan satu")
	// The watch saves where it stopped after it prints an alert, before it
	// takes the next: an alert printed next while the lock is held follows
	// a save made without the lock.
	send("Peringatan dua")
	if watch.lineWithin(time.Second, "Peringatan dua") {
		t.Fatal("alerts watch saved where it stopped while another jarimu held the lock")
	}
	if _, err := os.Stat(filepath.Join(fitri.dir, feedFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s while another jarimu held the lock: got %v, want none written", feedFile, err)
	}
	unlock()
	locked = false
	watch.waitLine("alert.published", "Peringatan dua")
	watch.stop()
	var fp feedPositions
	if ok, err := readJSONFile(filepath.Join(fitri.dir, feedFile), &fp); !ok || err != nil || fp.URL != w.url || len(fp.Positions) == 0 {
		t.Errorf("%s after the watch: got %+v (%v, %v), want positions at %s", feedFile, fp, ok, err, w.url)
	}
}

// A running alerts watch shares the session with the other commands of its
// config dir: it neither presents a refresh token another command spent
// while it was paused (past the server's grace, which would end the whole
// session), nor, after a new login, wipes that login when its own session
// is refused.
func TestCLIWatchSharesTheSession(t *testing.T) {
	w := newWorldWith(t, map[string]string{"JARIMU_ACCESS_TOKEN_TTL": "10s"})
	w.volunteer("ana@example.org")
	ana := w.person("ana@example.org")
	officer := w.person("jkt@bawaslu.go.id")
	watch := ana.startProcess("alerts", "watch")
	watch.waitOutput(true, "connected to ")

	// renewed waits until the credentials hold a refresh token other than
	// was, and checks that the session still works.
	renewed := func(step, was string) {
		t.Helper()
		deadline := time.Now().Add(25 * time.Second)
		for {
			got := ana.credentials().Tokens.RefreshToken
			if got == "" {
				t.Fatalf("%s: the credentials were cleared\nwatch: %s", step, watch.stderr.String())
			}
			if got != was {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the watch did not renew the session within 25 s\nwatch: %s", step, watch.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if watch.exited() {
			t.Fatalf("%s: the watch ended: %v\n%s", step, watch.err, watch.stderr.String())
		}
		title := "Peringatan " + strings.ReplaceAll(step, " ", "-")
		officer.must("alert", "send", "--title", title, "--body", "Waspada.", "--severity", "info", "--region", "31")
		watch.waitOutput(false, "alert.published", title)
		if out, err := ana.run("me"); err != nil || !strings.Contains(out, "ana@example.org") {
			t.Fatalf("%s: jarimu me: got %q, %v", step, out, err)
		}
	}

	// The watch is paused (a laptop asleep) while another command renews
	// the session, and wakes past the server's grace for spent tokens. (It
	// is paused while this test holds the lock, so that it does not sleep
	// holding it itself, mid-refresh.)
	unlock, err := lockDir(context.Background(), ana.dir)
	if err != nil {
		t.Fatal(err)
	}
	watch.pause()
	unlock()
	ana.must("me") // the 10 s access token is due: it spends the watch's refresh token
	spent := ana.credentials().Tokens.RefreshToken
	time.Sleep(11 * time.Second)
	watch.cmd.Process.Signal(syscall.SIGCONT)
	renewed("after a pause", spent)

	// A new login ends the session the watch holds.
	if out, err := ana.runIn(testPassword+"\n", "login", "--email", "ana@example.org"); err != nil || !strings.Contains(out, "logged in") {
		t.Fatalf("second login: got %q, %v", out, err)
	}
	renewed("after a new login", ana.credentials().Tokens.RefreshToken)
}
