package realtime_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// cutBroker is an in-process broker that can be cut, like a Redis outage:
// publishes while it is cut are lost (Redis pub/sub is at-most-once).
type cutBroker struct {
	*realtime.Memory
	cut atomic.Bool
}

func (b *cutBroker) Publish(ctx context.Context, evs []event.Event) {
	if !b.cut.Load() {
		b.Memory.Publish(ctx, evs)
	}
}

// A broker outage with 2,000 connections on one stream across two
// instances: instance B misses a batch of events written through A, and A
// misses the one written through B. B sees its gap when its own event
// arrives, A when its periodic check of the log finds the head moved; each
// reads its missing range once for all its connections (not once per
// connection; A twice when its check falls between the two writes). Every client of both instances ends with every event, in
// order, once.
func TestGapsHealPerStream(t *testing.T) {
	t.Parallel()
	perInstance := 1000
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			broker := &cutBroker{Memory: realtime.NewMemory()}
			a, bb := apptest.Two(t, b, func(o *app.Options) { o.RedisURL, o.Broker = "", broker })
			vol := a.User(t, "volunteer", "ramai", "3171")
			const stream = "region:3171"
			var clients []*client
			for _, e := range []*apptest.Env{a, bb} {
				for range perInstance {
					c, w := open(t, e.URL, vol.Tokens.AccessToken, nil)
					if seqOf(w, stream) != 0 {
						t.Fatalf("welcome: %s at %d, want 0", stream, seqOf(w, stream))
					}
					clients = append(clients, c)
				}
			}
			reads := func(e *apptest.Env) int64 { return e.App.Hub.Metrics().HealReads.Load() }
			beforeA, beforeB := reads(a), reads(bb)

			broker.cut.Store(true)
			const missed = 20
			err := a.App.Events.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
				for range missed {
					if _, err := event.Append(ctx, tx, stream, "test.missed", struct{}{}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			appendEvents(t, bb, stream, "test.after_gap", 1) // B's own: B sees the gap
			broker.cut.Store(false)

			var wg sync.WaitGroup
			errs := make(chan string, len(clients))
			for _, c := range clients {
				wg.Go(func() {
					for i := range int64(missed + 1) {
						f, err := c.read(20e9)
						if err != nil {
							errs <- fmt.Sprintf("after %d events: %v", i, err)
							return
						}
						if f.Type != "event" || f.Stream != stream || f.Seq != i+1 {
							errs <- f.String()
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			if n := len(errs); n > 0 {
				t.Fatalf("%d clients did not get events 1..%d of %s in order; the first got %s", n, missed+1, stream, <-errs)
			}
			if got := reads(bb) - beforeB; got != 1 {
				t.Errorf("instance B read the log %d times to heal, want once for its %d connections", got, perInstance)
			}
			// A's check every SyncInterval may land between the two writes
			// (A's batch, then B's event): it then reads once for each.
			if got := reads(a) - beforeA; got < 1 || got > 2 {
				t.Errorf("instance A read the log %d times to heal, want once per write it saw (at most 2) for its %d connections", got, perInstance)
			}
			for _, c := range clients[:10] {
				c.barrier()
			}
		})
	}
}

// When the hub missed a member's removal and events of the streams it
// ends (the broker dropped them; they come back by healing), the removal is
// healed first: no event of a lost stream reaches the connection, whatever
// order the streams are kept in.
func TestHealActsOnAccessFirst(t *testing.T) {
	env := startHub(t, realtime.Options{SyncInterval: 50 * time.Millisecond})
	streams := []string{"user:m"}
	for k := range 20 {
		streams = append(streams, fmt.Sprintf("org:%d", k))
	}
	env.mu.Lock()
	env.streamsOf["m"] = streams
	env.mu.Unlock()
	c, _ := open(t, env.url, "m", nil)
	// Never delivered live: the removal from every org, then an event of
	// each org committed after it.
	env.log.addEvent("user:m", api.EventMembershipDecided, map[string]any{"feed": api.FeedChange{Remove: streams[1:]}})
	for _, s := range streams[1:] {
		env.log.add(s, 1, 10)
	}
	c.events("user:m", 0, 1)
	time.Sleep(300 * time.Millisecond) // several syncs
	unsubscribed := 0
	for _, f := range c.untilPong() {
		switch {
		case f.Type == "unsubscribed":
			unsubscribed++
		case f.Type == "event":
			t.Errorf("got %v after the removal from its stream", f)
		}
	}
	if unsubscribed != 20 {
		t.Errorf("%d streams unsubscribed, want 20", unsubscribed)
	}
}
