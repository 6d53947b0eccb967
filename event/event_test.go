package event_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
)

type recorder struct {
	mu     sync.Mutex
	events []event.Event
}

func (r *recorder) Publish(_ context.Context, evs []event.Event) {
	r.mu.Lock()
	r.events = append(r.events, evs...)
	r.mu.Unlock()
}

// 100 concurrent appends to one stream get seqs 1..100 exactly.
func TestConcurrentAppendsHaveNoGaps(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		rec := &recorder{}
		log := event.NewLog(d, rec)
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for i := range 100 {
			wg.Go(func() {
				errs <- log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					_, err := event.Append(ctx, tx, "org:hot", "test.happened", map[string]int{"i": i})
					return err
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		evs, err := log.After(ctx, "org:hot", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 100 {
			t.Fatalf("got %d events, want 100", len(evs))
		}
		for i, ev := range evs {
			if ev.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d, want %d", i, ev.Seq, i+1)
			}
		}
		if len(rec.events) != 100 {
			t.Fatalf("published %d events, want 100", len(rec.events))
		}
		if head, _ := log.Head(ctx, "org:hot"); head != 100 {
			t.Fatalf("got head %d, want 100", head)
		}
	})
}

// A rolled-back transaction leaves no event, no gap, and publishes nothing.
func TestRollbackLeavesNoEventAndNoGap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		rec := &recorder{}
		log := event.NewLog(d, rec)
		ctx := context.Background()
		appendOne := func(fail bool) error {
			return log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				if _, err := event.Append(ctx, tx, "user:u1", "x.y", struct{}{}); err != nil {
					return err
				}
				if fail {
					return errors.New("boom")
				}
				return nil
			})
		}
		if err := appendOne(false); err != nil {
			t.Fatal(err)
		}
		if err := appendOne(true); err == nil {
			t.Fatal("want the failing transaction's error")
		}
		if err := appendOne(false); err != nil {
			t.Fatal(err)
		}
		evs, _ := log.After(ctx, "user:u1", 0, 10)
		if len(evs) != 2 || evs[0].Seq != 1 || evs[1].Seq != 2 {
			t.Fatalf("got %+v, want seqs 1 and 2", evs)
		}
		if len(rec.events) != 2 {
			t.Fatalf("published %d, want 2 (none from the rolled-back transaction)", len(rec.events))
		}
		// Streams are independent.
		heads, err := log.Heads(ctx, []string{"user:u1", "user:nobody"})
		if err != nil || heads["user:u1"] != 2 || heads["user:nobody"] != 0 {
			t.Fatalf("got heads %v %v", heads, err)
		}
	})
}

// HeadsSince reads heads and several streams' history in one statement:
// per stream, from the given seq on (included), in order, at most limit;
// streams without such events are absent.
func TestHeadsSinceReadsStreamsTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := event.NewLog(d, nil)
		ctx := context.Background()
		written := map[string]event.Event{}
		for i := range 12 {
			for _, s := range []string{"org:a", "org:b", "user:c"} {
				if s == "user:c" && i >= 2 {
					continue
				}
				ev, err := event.Append(ctx, d, s, "test.e", map[string]int{"i": i})
				if err != nil {
					t.Fatal(err)
				}
				written[fmt.Sprint(s, ev.Seq)] = ev
			}
		}
		heads, got, err := log.HeadsSince(ctx, []string{"org:a", "user:c", "org:none"}, map[string]int64{"org:a": 3, "org:b": 11, "user:c": 5, "org:none": 1}, 5)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{"org:a": 12, "user:c": 2, "org:none": 0}; !maps.Equal(heads, want) {
			t.Fatalf("heads %v, want %v", heads, want)
		}
		seqs := func(s string) (out []int64) {
			for _, ev := range got[s] {
				w := written[fmt.Sprint(s, ev.Seq)]
				if ev.Stream != s || ev.Name != "test.e" || ev.ID != w.ID || string(ev.Data) != string(w.Data) ||
					ev.At.Sub(w.At).Abs() > time.Millisecond {
					t.Fatalf("%s: read %+v, written %+v", s, ev, w)
				}
				out = append(out, ev.Seq)
			}
			return out
		}
		if a, b := seqs("org:a"), seqs("org:b"); !slices.Equal(a, []int64{3, 4, 5, 6, 7}) || !slices.Equal(b, []int64{11, 12}) {
			t.Fatalf("org:a %v, org:b %v: want 3..7 and 11..12", a, b)
		}
		if _, ok := got["user:c"]; ok || len(got) != 2 {
			t.Fatalf("got streams %v, want org:a and org:b only", got)
		}
		if h, none, err := log.HeadsSince(ctx, []string{"org:b"}, nil, 5); err != nil || len(none) != 0 || h["org:b"] != 12 {
			t.Fatalf("heads only: got %v %v, %v", h, none, err)
		}
		if h, none, err := log.HeadsSince(ctx, nil, nil, 5); err != nil || len(none) != 0 || len(h) != 0 {
			t.Fatalf("nothing asked: got %v %v, %v", h, none, err)
		}
	})
}

// BenchmarkAppend measures event appends (one transaction each) to one hot
// stream and spread over many streams.
func BenchmarkAppend(b *testing.B) {
	for _, backend := range dbtest.Backends(b) {
		for _, spread := range []int{1, 1000} {
			name := string(backend) + "/hot"
			if spread > 1 {
				name = string(backend) + "/many"
			}
			b.Run(name, func(b *testing.B) {
				d := dbtest.Open(b, backend)
				log := event.NewLog(d, nil)
				ctx := context.Background()
				var n int64
				var mu sync.Mutex
				b.SetParallelism(4)
				b.ReportAllocs()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						mu.Lock()
						n++
						stream := "org:" + string(rune('a'+n%int64(spread)%26)) + string(rune('a'+n%int64(spread)/26%26)) + string(rune('a'+n%int64(spread)/676))
						mu.Unlock()
						err := log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
							_, err := event.Append(ctx, tx, stream, "bench.x", map[string]int64{"n": n})
							return err
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
			})
		}
	}
}

// OnCommit runs after the commit of a Log.Tx, never after a rollback,
// and at once outside one.
func TestOnCommit(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			d := dbtest.Open(t, b)
			l := event.NewLog(d, nil)
			var ran []string
			err := l.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
				event.OnCommit(ctx, func() { ran = append(ran, "committed") })
				if len(ran) != 0 {
					t.Fatal("ran before the commit")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			l.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
				event.OnCommit(ctx, func() { ran = append(ran, "rolled back") })
				return errors.New("no")
			})
			event.OnCommit(context.Background(), func() { ran = append(ran, "outside") })
			if fmt.Sprint(ran) != "[committed outside]" {
				t.Fatalf("got %v, want [committed outside]", ran)
			}
		})
	}
}
