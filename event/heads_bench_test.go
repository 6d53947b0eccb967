package event_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
)

// BenchmarkHeadsSince measures the read of a reconnecting phone's streams
// that the hello's own statement did not hold: the heads of six streams and
// the history of four, each ten events behind (100 streams of 30 events),
// from parallel callers as in a reconnect storm.
func BenchmarkHeadsSince(b *testing.B) {
	for _, backend := range dbtest.Backends(b) {
		b.Run(string(backend), func(b *testing.B) {
			d := dbtest.Open(b, backend)
			log := event.NewLog(d, nil)
			ctx := context.Background()
			const streams, per = 100, 30
			err := log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				for s := range streams {
					for range per {
						if _, err := event.Append(ctx, tx, fmt.Sprint("org:b", s), "bench.x", map[string]int{"s": s}); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				n := 0
				for pb.Next() {
					n++
					names := make([]string, 6)
					from := map[string]int64{}
					for i := range names {
						names[i] = fmt.Sprint("org:b", (n*7+i*31)%streams)
						if i < 4 {
							from[names[i]] = per - 10
						}
					}
					heads, since, err := log.HeadsSince(ctx, names, from, 100)
					if err != nil || len(heads) != 6 || len(since) != 4 || len(since[names[0]]) != 11 {
						b.Errorf("heads %d, histories %d (%d events), %v", len(heads), len(since), len(since[names[0]]), err)
						return
					}
				}
			})
		})
	}
}
