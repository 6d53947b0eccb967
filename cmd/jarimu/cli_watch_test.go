package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
)

// watcher is `jarimu alerts watch` running in a goroutine.
type watcher struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	lines  chan string
	stderr *apptest.Logs
}

func (u *user) watch() *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	wa := &watcher{t: u.t, cancel: cancel, done: make(chan error, 1), lines: make(chan string, 100), stderr: &apptest.Logs{}}
	go func() {
		err := run(ctx, []string{"alerts", "watch"}, u.env(), nil, pw, wa.stderr)
		pw.Close()
		wa.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			wa.lines <- sc.Text()
		}
		close(wa.lines)
	}()
	u.t.Cleanup(wa.stop)
	return wa
}

func (wa *watcher) waitConnected() {
	wa.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(wa.stderr.String(), "connected to ") {
		if time.Now().After(deadline) {
			wa.t.Fatalf("alerts watch did not connect: %q", wa.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLine waits for a line of output holding every one of parts.
func (wa *watcher) waitLine(parts ...string) {
	wa.t.Helper()
	if !wa.lineWithin(10*time.Second, parts...) {
		wa.t.Fatalf("no line with %q within 10 s, or alerts watch ended; stderr: %q", parts, wa.stderr.String())
	}
}

// lineWithin waits up to d for a line of output holding every one of
// parts; false when none came (d passed, or the watch ended).
func (wa *watcher) lineWithin(d time.Duration, parts ...string) bool {
	timeout := time.After(d)
	for {
		select {
		case line, ok := <-wa.lines:
			if !ok {
				return false
			}
			if containsAll(line, parts) {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// stop cancels the watch (Ctrl-C) and checks that it ends cleanly.
func (wa *watcher) stop() {
	if wa.cancel == nil {
		return
	}
	wa.cancel()
	wa.cancel = nil
	select {
	case err := <-wa.done:
		if err != nil {
			wa.t.Errorf("alerts watch returned %v", err)
		}
	case <-time.After(10 * time.Second):
		wa.t.Error("alerts watch did not stop within 10 s of Ctrl-C")
	}
	for range wa.lines {
	}
}
