// Package ratelimit throttles actions per key (an account, a client IP) with
// token buckets. Memory keeps the buckets in this process (embedded mode);
// a shared implementation for scaled mode satisfies the same Limiter.
package ratelimit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter decides whether one more action under key may happen now.
type Limiter interface {
	// Allow takes one token for key. When it refuses, retryAfter says when
	// a token will be there.
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Rule is a bucket: Burst actions at once, refilled at one per Every.
type Rule struct {
	Burst int
	Every time.Duration
}

// Memory is an in-process Limiter built on golang.org/x/time/rate, one
// bucket per key; buckets idle long enough to be full again are dropped, so
// memory stays bounded by the keys active in that window.
type Memory struct {
	rule    Rule
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

var _ Limiter = (*Memory)(nil)

// NewMemory makes a limiter for rule; now nil means time.Now.
func NewMemory(rule Rule, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{rule: rule, now: now, buckets: map[string]*bucket{}}
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropIdle(now)
	b, ok := m.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(m.rule.Every), m.rule.Burst)}
		m.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, m.rule.Every, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, nil
}

// dropIdle forgets buckets that have refilled completely, at most once per
// refill period.
func (m *Memory) dropIdle(now time.Time) {
	full := m.rule.Every * time.Duration(m.rule.Burst)
	if now.Sub(m.sweep) < full {
		return
	}
	m.sweep = now
	for k, b := range m.buckets {
		if now.Sub(b.seen) > full {
			delete(m.buckets, k)
		}
	}
}

// ParseRule reads a rule written "BURST/PERIOD" (e.g. "120/1m": 120 at once,
// refilled evenly over a minute) or "0" (no limit, ok false).
func ParseRule(s string) (rule Rule, ok bool, err error) {
	if s == "0" || s == "off" {
		return Rule{}, false, nil
	}
	var burst int
	var period string
	if n, _ := fmt.Sscanf(strings.Replace(s, "/", " ", 1), "%d %s", &burst, &period); n != 2 || burst < 1 {
		return Rule{}, false, fmt.Errorf("%q is not BURST/PERIOD like 120/1m, or 0", s)
	}
	d, err := time.ParseDuration(period)
	if err != nil || d <= 0 {
		return Rule{}, false, fmt.Errorf("%q is not BURST/PERIOD like 120/1m, or 0", s)
	}
	return Rule{Burst: burst, Every: d / time.Duration(burst)}, true, nil
}
