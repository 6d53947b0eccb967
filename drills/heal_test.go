package drills_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
)

// Redis dies under two instances with 1,000 feed connections each on one
// stream. Instance A writes a batch of events B never hears of, and B one
// that A never hears of; each instance finds its gap (B when its own event
// arrives ahead of the missing ones, A by its periodic check of the log)
// and reads it from the database once for all its connections: healing
// reads grow with streams, not connections. When Redis is back, every
// client has every event once, in order.
func TestRedisOutageHealsPerStream(t *testing.T) {
	t.Parallel()
	if !slices.Contains(dbtest.Backends(t), dbtest.Postgres) {
		t.Skip("needs JARIMU_TEST_DATABASE_URL (always set in CI): Redis serves scaled mode, which is on PostgreSQL")
	}
	perInstance := 1000
	if testing.Short() {
		perInstance = 200
	}
	rs := startRedis(t)
	dbo := dbtest.Options(t, dbtest.Postgres)
	o := app.Options{DatabaseURL: dbo.URL, MaxOpenConns: dbo.MaxOpenConns, Keys: apptest.NewKeys(t), VAPID: apptest.NewVAPID(t), RedisURL: rs.URL(),
		RedisPrefix: "drill:" + auth.NewID() + ":"}
	a, b := startApp(t, o), startApp(t, o)
	vol := a.User(t, "volunteer", "ramai", "3171")
	const stream = "region:3171"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var readers []*feedReader
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range 2 * perInstance {
		base := a.URL
		if i%2 == 1 {
			base = b.URL
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r := startFeed(t, ctx, fmt.Sprintf("feed%d", i), base, vol.Tokens.AccessToken, stream)
			mu.Lock()
			readers = append(readers, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	reads := func(d *drillApp) int64 { return d.App.Hub.Metrics().HealReads.Load() }
	beforeA, beforeB := reads(a), reads(b)

	rs.Kill()
	const missed = 20
	err := a.App.Events.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		for range missed {
			if _, err := event.Append(ctx, tx, stream, "drill.missed", struct{}{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.App.Events.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, err := event.Append(ctx, tx, stream, "drill.after_gap", struct{}{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	head := int64(missed + 1)
	caughtUp := func() bool {
		for _, r := range readers {
			if r.lastSeq() < head {
				return false
			}
		}
		return true
	}
	took, ok := waitFor(20*time.Second, caughtUp)
	rs.Start()
	if !ok {
		t.Fatalf("20 s into the outage, not every client has events 1..%d", head)
	}
	t.Logf("with Redis down, all %d clients had all %d events after %v", len(readers), head, took.Round(time.Millisecond))
	ra, rb := reads(a)-beforeA, reads(b)-beforeB
	t.Logf("healing reads of the log: instance A %d, instance B %d (for %d connections each)", ra, rb, perInstance)
	// One gap each; a periodic check may split B's into the batch and its
	// own event, so at most two reads per instance, never one per client.
	if ra > 2 || rb > 2 || ra+rb == 0 {
		t.Errorf("healing reads: A %d, B %d; want one or two per instance (per stream and gap), not per connection", ra, rb)
	}
	cancel()
	for _, r := range readers {
		<-r.ended
		r.check(t, head)
	}
}
