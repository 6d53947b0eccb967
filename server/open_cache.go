package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jarimu/jarimu/report"
)

// The transparency datasets (takedowns, verified findings, alerts issued,
// ClaimReview) are aggregates over whole tables, read by anyone, often all
// at once on election day: each instance keeps what it built for
// Deps.OpenCache and builds it again at most once meanwhile, however many
// ask. The answers' ETags are hashes of the bytes, so a copy stays
// current for clients until the rows change and the cache expires.

// cachedLoad is one dataset's loader and what it last loaded.
type cachedLoad[T any] struct {
	ttl  time.Duration // 0: load for every caller
	load func(context.Context) (T, time.Time, error)

	mu      sync.Mutex
	val     T
	mod     time.Time  // the dataset's last modification, as loaded
	built   time.Time  // when val was loaded; zero: never
	loading *flight[T] // the load in progress
}

// flight is one load and, once done is closed, its result.
type flight[T any] struct {
	done chan struct{}
	val  T
	mod  time.Time
	err  error
}

// loadTimeout bounds a load, which runs apart from the request that
// started it: the others waiting for it must not fail because that client
// left.
const loadTimeout = 30 * time.Second

func newCachedLoad[T any](ttl time.Duration, load func(context.Context) (T, time.Time, error)) *cachedLoad[T] {
	return &cachedLoad[T]{ttl: ttl, load: load}
}

// get returns the dataset loaded less than ttl ago, or loads it: one
// caller loads while the others wait for that load and take its result,
// error included (the next caller after a failed load loads again). The
// value is shared: callers only read it.
func (c *cachedLoad[T]) get(ctx context.Context) (T, time.Time, error) {
	if c.ttl <= 0 {
		return c.load(ctx)
	}
	c.mu.Lock()
	if !c.built.IsZero() && time.Since(c.built) < c.ttl {
		v, mod := c.val, c.mod
		c.mu.Unlock()
		return v, mod, nil
	}
	if f := c.loading; f != nil {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.val, f.mod, f.err
		case <-ctx.Done():
			var zero T
			return zero, time.Time{}, ctx.Err()
		}
	}
	f := &flight[T]{done: make(chan struct{}), err: errors.New("building the dataset failed")}
	c.loading = f
	c.mu.Unlock()
	defer func() { // also when load panics: the waiters get the error above
		c.mu.Lock()
		c.loading = nil
		if f.err == nil {
			c.val, c.mod, c.built = f.val, f.mod, time.Now()
		}
		c.mu.Unlock()
		close(f.done)
	}()
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
	defer cancel()
	f.val, f.mod, f.err = c.load(lctx)
	return f.val, f.mod, f.err
}

// openCaches are the cached transparency datasets of one server.
type openCaches struct {
	takedowns *cachedLoad[[]openTakedown]
	verified  *cachedLoad[[]openVerified]
	issued    *cachedLoad[[]openIssued]
	findings  *cachedLoad[[]report.Finding]
}

func (s *Server) initOpenCaches(ttl time.Duration) {
	s.openCaches = openCaches{
		takedowns: newCachedLoad(ttl, s.loadTakedowns),
		verified:  newCachedLoad(ttl, s.loadVerified),
		issued:    newCachedLoad(ttl, s.loadAlertsIssued),
		findings:  newCachedLoad(ttl, s.loadFindings),
	}
}

func (s *Server) openTakedowns(ctx context.Context) ([]openTakedown, time.Time, error) {
	return s.takedowns.get(ctx)
}

func (s *Server) openVerified(ctx context.Context) ([]openVerified, time.Time, error) {
	return s.verified.get(ctx)
}

func (s *Server) openAlertsIssued(ctx context.Context) ([]openIssued, time.Time, error) {
	return s.issued.get(ctx)
}

// loadFindings reads the verified findings ClaimReview publishes, and when
// the reports last changed.
func (s *Server) loadFindings(ctx context.Context) ([]report.Finding, time.Time, error) {
	found, err := s.reports.Findings(ctx, claimCategory)
	if err != nil {
		return nil, time.Time{}, err
	}
	modified, err := s.reports.LastChange(ctx)
	return found, modified, err
}
