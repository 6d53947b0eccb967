package chore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/chore"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/migrations"
)

// More jobs than the pool has connections all run: on PostgreSQL each
// holds a connection for its lock and needs another for its work, which
// used to leave every job (and everything else on the instance) waiting
// for a connection when the jobs were as many as the connections.
func TestMoreJobsThanConnections(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			o := dbtest.Options(t, b)
			o.MaxOpenConns = 4
			d, err := db.Open(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			if _, err := migrations.Up(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			var ran atomic.Int32
			var jobs []chore.Job
			for i := range 9 {
				jobs = append(jobs, chore.Job{Name: fmt.Sprintf("job_%d", i), Every: time.Hour, Run: func(ctx context.Context) (int64, error) {
					_, err := d.Now(ctx, d)
					ran.Add(1)
					return 0, err
				}})
			}
			r := chore.NewRunner(d, slog.New(slog.NewTextHandler(io.Discard, nil)), jobs...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			done := make(chan struct{})
			go func() { r.Run(ctx); close(done) }()
			for ran.Load() < 9 && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			for name, st := range r.Stats() {
				if st.Failures > 0 {
					t.Errorf("%s: %+v", name, st)
				}
			}
			if n := ran.Load(); n < 9 {
				t.Fatalf("%d of 9 jobs ran", n)
			}
		})
	}
}
