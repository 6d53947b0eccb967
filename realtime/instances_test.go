package realtime_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// twoInstances starts two apps on one database of backend b, with one
// signing key set and one broker: a shared in-process broker, or on
// PostgreSQL with JARIMU_TEST_REDIS_URL the same Redis under one prefix.
func twoInstances(t *testing.T, b dbtest.Backend) (*apptest.Env, *apptest.Env) {
	t.Helper()
	dbo := dbtest.Options(t, b)
	if dbo.DataDir == "" {
		dbo.DataDir = t.TempDir()
	}
	keys := apptest.NewKeys(t)
	mem := realtime.NewMemory()
	prefix := "test:" + auth.NewID() + ":"
	shared := func(o *app.Options) {
		o.DatabaseURL, o.DataDir, o.MaxOpenConns, o.Keys = dbo.URL, dbo.DataDir, dbo.MaxOpenConns, keys
		if o.RedisURL != "" {
			o.RedisPrefix = prefix
		} else {
			o.Broker = mem
		}
	}
	return apptest.Start(t, b, shared), apptest.Start(t, b, shared)
}

// An event committed through instance A reaches a client of instance B once,
// in order: 100 accreditation changes made over A's HTTP API, then 100
// events appended concurrently through A's event log.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			if b == dbtest.Postgres && os.Getenv("JARIMU_TEST_REDIS_URL") != "" {
				t.Log("instances share Redis")
			}
			a, bb := twoInstances(t, b)
			f := newOrg(t, a)
			c, w := open(t, bb.URL, f.coord.Tokens.AccessToken, nil)
			base := seqOf(w, f.stream())
			for i := range 100 {
				toggleAccreditation(t, a, f, i)
			}
			for _, ev := range c.events(f.stream(), base, 100) {
				if ev.Event != "org.accreditation_changed" {
					t.Fatalf("got %v, want org.accreditation_changed", ev)
				}
			}
			c.barrier()

			// Concurrent writers: publishes may leave A out of seq order.
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for range 4 {
				wg.Go(func() {
					for range 25 {
						errs <- a.App.Events.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
							_, err := event.Append(ctx, tx, f.stream(), "test.burst", struct{}{})
							return err
						})
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			c.events(f.stream(), base+100, 100)
			c.barrier()
		})
	}
}
