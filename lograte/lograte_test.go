package lograte

import (
	"sync"
	"testing"
	"time"
)

func TestOneLinePerInterval(t *testing.T) {
	l := &Limiter{Every: time.Minute}
	t0 := time.Unix(1_800_000_000, 0)
	if ok, n := l.allowAt(t0); !ok || n != 0 {
		t.Fatalf("first line: got %v %d, want true 0", ok, n)
	}
	for i := range 5 {
		if ok, _ := l.allowAt(t0.Add(time.Duration(i) * time.Second)); ok {
			t.Fatalf("line %d within the minute: let through, want held back", i+2)
		}
	}
	if ok, n := l.allowAt(t0.Add(time.Minute)); !ok || n != 5 {
		t.Fatalf("a minute later: got %v %d, want true with 5 held back", ok, n)
	}
	if ok, _ := l.allowAt(t0.Add(time.Minute + time.Second)); ok {
		t.Fatal("right after the second line: let through, want held back")
	}
}

func TestZeroEveryLetsAllThrough(t *testing.T) {
	var l Limiter
	now := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if ok, n := l.allowAt(now.Add(time.Duration(i))); !ok || n != 0 {
			t.Fatalf("line %d: got %v %d, want true 0", i+1, ok, n)
		}
	}
}

// Of many goroutines warning at once, exactly one logs; the others are counted.
func TestConcurrentCallersLogOnce(t *testing.T) {
	l := &Limiter{Every: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	logged := 0
	for range 50 {
		wg.Go(func() {
			if ok, _ := l.Allow(); ok {
				mu.Lock()
				logged++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if logged != 1 || l.skipped.Load() != 49 {
		t.Fatalf("got %d lines and %d held back, want 1 and 49", logged, l.skipped.Load())
	}
}
