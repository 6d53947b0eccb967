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
	c.loading = &flight[int]{done: make(chan struct{})} // a load in progress that this caller waits for
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a caller gone while waiting: %v, want context.Canceled", err)
	}
	c.loading = nil
	// The caller that loads may leave: the load goes on for the others.
	if v, _, err := c.get(ctx); err != nil || v != 4 {
		t.Fatalf("a load started by a caller already gone: %d, %v, want the next load (4)", v, err)
	}

	// Waiters take the result of the load they waited for, error or
	// panic included; the cache is usable after either.
	var calls atomic.Int32
	slow := make(chan struct{})
	p := newCachedLoad(time.Hour, func(context.Context) (int, time.Time, error) {
		if calls.Add(1) == 1 {
			<-slow
			panic("a bug in the loader")
		}
		return 7, time.Time{}, nil
	})
	panicked := make(chan any)
	go func() {
		defer func() { panicked <- recover() }()
		p.get(context.Background())
	}()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waited := make(chan error)
	waiting := &doneProbe{Context: context.Background(), asked: make(chan struct{})}
	go func() { _, _, err := p.get(waiting); waited <- err }()
	<-waiting.asked // the second caller waits for the first load
	close(slow)
	if r := <-panicked; r == nil {
		t.Fatal("the loader's panic was swallowed")
	}
	if err := <-waited; err == nil {
		t.Fatal("the caller waiting for a load that panicked got no error")
	}
	if v, _, err := p.get(context.Background()); err != nil || v != 7 || calls.Load() != 2 {
		t.Fatalf("after a panicked load: %d, %v after %d loads, want 7 from the second", v, err, calls.Load())
	}

	none := newCachedLoad(0, load)
	before := loads.Load()
	none.get(context.Background())
	none.get(context.Background())
	if n := loads.Load() - before; n != 2 {
		t.Fatalf("without a time to live: %d loads for 2 callers", n)
	}
}

// doneProbe is a context that tells when a caller first waits on it.
type doneProbe struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (p *doneProbe) Done() <-chan struct{} {
	p.once.Do(func() { close(p.asked) })
	return p.Context.Done()
}
