package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
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

// A stored key is 128 bits in hex; it depends on the key and on the
// deployment's secret, and never shows the key.
func TestKeyHash(t *testing.T) {
	a, b := []byte("secret of one deployment"), []byte("secret of another")
	key := "d1e2@198.51.100.7"
	h := KeyHash(a, key)
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("got %q, want 32 hex digits", h)
	}
	for name, other := range map[string]string{
		"another key":    KeyHash(a, "d1e2@198.51.100.8"),
		"another secret": KeyHash(b, key),
		"no secret":      KeyHash(nil, key),
	} {
		if other == h {
			t.Errorf("%s: same hash %s", name, h)
		}
	}
	if KeyHash(a, key) != h {
		t.Error("the same key and secret hash differently")
	}
	if sum := sha256.Sum256([]byte(key)); KeyHash(nil, key) != hex.EncodeToString(sum[:16]) {
		t.Errorf("without a secret: got %s, want the first 128 bits of SHA-256", KeyHash(nil, key))
	}
}
