package realtime_test

import (
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/realtime"
)

// Closing the app closes every feed connection with 1001 (going away), so
// clients resume on another instance.
func TestShutdownClosesWith1001(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Parallel()
		a := e.User(t, "volunteer", "a", "3171")
		b := e.User(t, "officer", "b", "31")
		ca, _ := open(t, e.URL, a.Tokens.AccessToken, nil)
		cb, _ := open(t, e.URL, b.Tokens.AccessToken, nil)
		done := make(chan struct{})
		go func() { e.App.Close(); close(done) }()
		ca.expectClose("a", api.CloseGoingAway, 5*time.Second)
		cb.expectClose("b", api.CloseGoingAway, 5*time.Second)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("app Close did not return")
		}
	})
}

// Hub.Close also ends connections still waiting for their hello, within its
// timeout: 1001, not a 4408 when HelloTimeout runs out later.
func TestHubCloseEndsConnectionsBeforeHello(t *testing.T) {
	t.Parallel()
	env := startHub(t, realtime.Options{HelloTimeout: 3 * time.Second})
	talking, _ := open(t, env.url, "u1", nil)
	silent := connect(t, env.url, nil, nil)
	// Both are open, one of them still waiting for its hello.
	waitFor(t, "both connections", func() bool { return env.hub.Connections() == 2 })
	start := time.Now()
	done := make(chan struct{})
	go func() {
		env.once.Do(func() { env.hub.Close(500 * time.Millisecond); env.srv.Close() })
		close(done)
	}()
	talking.expectClose("after hello", api.CloseGoingAway, 5*time.Second)
	silent.expectClose("before hello", api.CloseGoingAway, 5*time.Second)
	<-done
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Close(500ms) took %v", d)
	}
}
