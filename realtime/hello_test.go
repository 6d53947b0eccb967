package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/realtime"
)

// With Verify and Access, a hello checks its token with Verify alone (Auth,
// which reads the database, is left for token frames) and starts from one
// call of Access: the account, its streams and its own stream's head. An
// account that is not active is closed with 4401 before anything is sent;
// an Access that fails closes with 1013; own events after the grant's head
// are sent after the welcome, as changes the streams read may not include.
func TestHelloStartsFromOneGrant(t *testing.T) {
	t.Parallel()
	var env *hubEnv
	var calls atomic.Int32
	env = startHub(t, realtime.Options{
		Verify: func(_ context.Context, token string) (realtime.Identity, error) {
			if token == "bad" {
				return realtime.Identity{}, fmt.Errorf("%w: bad", realtime.ErrUnauthorized)
			}
			return realtime.Identity{UserID: token, Stream: "user:" + token, Expires: time.Now().Add(time.Hour)}, nil
		},
		Access: func(ctx context.Context, userID string) (realtime.Grant, error) {
			calls.Add(1)
			switch userID {
			case "down":
				return realtime.Grant{}, errors.New("failed to connect to the database")
			case "gone":
				return realtime.Grant{}, nil
			}
			own := "user:" + userID
			heads, _ := env.log.Heads(ctx, []string{own})
			// One own event is committed after this grant was read.
			return realtime.Grant{Active: true, Role: "volunteer", Streams: []string{own, "org:shared"}, Head: heads[own] - 1}, nil
		},
	})
	env.log.add("user:outage", 2, 10)
	env.log.add("org:shared", 3, 10)
	// env's Auth fails for "outage" as if the database were down: the
	// hello does not ask it.
	c, w := open(t, env.url, "outage", nil)
	if got := fmt.Sprint(w.Streams); got != "[{user:outage 1} {org:shared 3}]" {
		t.Fatalf("welcome streams: got %s, want user:outage at 1 (the grant's head), org:shared at 3", got)
	}
	c.events("user:outage", 1, 1)
	c.barrier()
	if n := calls.Load(); n != 1 {
		t.Fatalf("Access called %d times for one hello, want 1", n)
	}

	hello(t, env.url, "gone", nil).expectClose("hello of an account not active", 4401, 5*time.Second)
	hello(t, env.url, "bad", nil).expectClose("hello with a refused token", 4401, 5*time.Second)
	hello(t, env.url, "down", nil).expectClose("hello while the access cannot be read", 1013, 5*time.Second)
	if n := env.hub.Metrics().Unavailable.Load(); n != 1 {
		t.Fatalf("unavailable checks counted: %d, want 1", n)
	}
}

// A client that claims to be ahead on its own stream (past the log's head)
// still gets, and has acted on, the changes of access committed after its
// grant was read: a removal committed between the grant's read and the
// heads' read is not skipped with the reset, which goes to the grant's
// head, so that the client takes the removal that follows it.
func TestHelloAheadStillGetsLateChanges(t *testing.T) {
	t.Parallel()
	var env *hubEnv
	env = startHub(t, realtime.Options{
		Access: func(ctx context.Context, userID string) (realtime.Grant, error) {
			own := "user:" + userID
			heads, _ := env.log.Heads(ctx, []string{own})
			// The removal from org:shared commits after this grant was read.
			env.log.addEvent(own, api.EventMembershipDecided, map[string]any{"feed": api.FeedChange{Remove: []string{"org:shared"}}})
			return realtime.Grant{Active: true, Role: "volunteer", Streams: []string{own, "org:shared"}, Head: heads[own]}, nil
		},
	})
	env.log.add("user:ahead", 1, 10)
	env.log.add("org:shared", 3, 10)
	c, w := open(t, env.url, "ahead", map[string]int64{"user:ahead": 10})
	if seqOf(w, "org:shared") != 3 {
		t.Fatalf("welcome: %v, want org:shared granted at 3", w.Streams)
	}
	if got := describe(c.through("unsubscribed org:shared#0")); got != "[reset user:ahead#1 event user:ahead#2 membership.decided unsubscribed org:shared#0]" {
		t.Fatalf("after the welcome: %v, want a reset to the grant's head, the removal after it and org:shared unsubscribed", got)
	}
	env.publish("org:shared", 1, 10)
	c.barrier()
}

// A hello's read of the database ends when its connection closes (here the
// hub's Close, as an instance shutting down): net/http no longer ends an
// upgraded request's context, and the read went on for its whole timeout
// (15 s), holding Close as long.
func TestHelloReadEndsWithTheConnection(t *testing.T) {
	t.Parallel()
	reading := make(chan struct{})
	ended := make(chan error, 1)
	env := startHub(t, realtime.Options{
		Access: func(ctx context.Context, userID string) (realtime.Grant, error) {
			close(reading)
			<-ctx.Done()
			ended <- ctx.Err()
			return realtime.Grant{}, ctx.Err()
		},
	})
	c := hello(t, env.url, "u1", nil)
	<-reading
	closeEndsRead(t, env, "the hello's read", ended)
	if n := env.hub.Metrics().Unavailable.Load(); n != 0 {
		t.Errorf("%d reads counted unavailable: a read cut short by a close is no outage", n)
	}
	c.expectClose("hello during Close", 1001, 5*time.Second)
}
