package ratelimit

import (
	"context"
	"testing"
	"time"
)

func TestMemoryBurstRefillAndKeys(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	m := NewMemory(Rule{Burst: 3, Every: 10 * time.Second}, func() time.Time { return now })
	ctx := context.Background()
	for i := range 3 {
		if ok, _, _ := m.Allow(ctx, "a"); !ok {
			t.Fatalf("attempt %d refused, want allowed within the burst", i+1)
		}
	}
	ok, retry, _ := m.Allow(ctx, "a")
	if ok {
		t.Fatal("4th attempt allowed, want refused")
	}
	if retry <= 0 || retry > 10*time.Second {
		t.Fatalf("got retry after %v, want within (0, 10s]", retry)
	}
	if ok, _, _ := m.Allow(ctx, "b"); !ok {
		t.Fatal("another key refused, want its own bucket")
	}
	now = now.Add(10 * time.Second)
	if ok, _, _ := m.Allow(ctx, "a"); !ok {
		t.Fatal("refused after one refill period, want allowed")
	}
	if ok, _, _ := m.Allow(ctx, "a"); ok {
		t.Fatal("allowed twice after one refill period, want refused")
	}
}

func TestMemoryDropsIdleBuckets(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	m := NewMemory(Rule{Burst: 2, Every: time.Second}, func() time.Time { return now })
	for _, k := range []string{"a", "b", "c"} {
		m.Allow(context.Background(), k)
	}
	now = now.Add(time.Minute)
	m.Allow(context.Background(), "d")
	if got := len(m.buckets); got != 1 {
		t.Fatalf("got %d buckets after idling, want 1", got)
	}
}
