package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Callers within the time to live share one load; concurrent callers of a
// stale dataset wait for one load; a failed load is tried again by the next
// caller; without a time to live every caller loads.
func TestCachedLoad(t *testing.T) {
	var loads atomic.Int32
	gate := make(chan struct{})
	fail := atomic.Bool{}
	load := func(ctx context.Context) (int, time.Time, error) {
		n := loads.Add(1)
		<-gate
		if fail.Load() {
			return 0, time.Time{}, errors.New("database down")
		}
		return int(n), time.Unix(int64(n), 0), nil
	}
	c := newCachedLoad(time.Hour, load)
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, err := c.get(context.Background())
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them all ask
	close(gate)
	wg.Wait()
	for i, v := range got {
		if v != 1 {
			t.Fatalf("caller %d got %d, want 1 (the one load)", i, v)
		}
	}
	if v, mod, _ := c.get(context.Background()); v != 1 || !mod.Equal(time.Unix(1, 0)) || loads.Load() != 1 {
		t.Fatalf("within the time to live: %d (modified %v) after %d loads, want 1 after 1", v, mod, loads.Load())
	}

	c.built = time.Now().Add(-2 * time.Hour) // stale
	fail.Store(true)
	if _, _, err := c.get(context.Background()); err == nil {
		t.Fatal("a failed load answered no error")
	}
	fail.Store(false)
	if v, _, err := c.get(context.Background()); err != nil || v != 3 {
		t.Fatalf("after a failed load: %d, %v, want the next load (3)", v, err)
	}

	c.built = time.Now().Add(-2 * time.Hour)
	c.loading = make(chan struct{}) // a load in progress that this caller waits for
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a caller gone while waiting: %v, want context.Canceled", err)
	}

	none := newCachedLoad(0, load)
	before := loads.Load()
	none.get(context.Background())
	none.get(context.Background())
	if n := loads.Load() - before; n != 2 {
		t.Fatalf("without a time to live: %d loads for 2 callers", n)
	}
}
