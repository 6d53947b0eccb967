package server

import (
	"context"
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
	mod     time.Time     // the dataset's last modification, as loaded
	built   time.Time     // when val was loaded; zero: never
	loading chan struct{} // closed when the load in progress ends
}

func newCachedLoad[T any](ttl time.Duration, load func(context.Context) (T, time.Time, error)) *cachedLoad[T] {
	return &cachedLoad[T]{ttl: ttl, load: load}
}

// get returns the dataset loaded less than ttl ago, or loads it: one
// caller loads while the others wait for its result (a failed load is
// tried again by the next caller). The value is shared: callers only read
// it.
func (c *cachedLoad[T]) get(ctx context.Context) (T, time.Time, error) {
	if c.ttl <= 0 {
		return c.load(ctx)
	}
	for {
		c.mu.Lock()
		if !c.built.IsZero() && time.Since(c.built) < c.ttl {
			v, mod := c.val, c.mod
			c.mu.Unlock()
			return v, mod, nil
		}
		if wait := c.loading; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				var zero T
				return zero, time.Time{}, ctx.Err()
			}
		}
		done := make(chan struct{})
		c.loading = done
		c.mu.Unlock()
		v, mod, err := c.load(ctx)
		c.mu.Lock()
		c.loading = nil
		if err == nil {
			c.val, c.mod, c.built = v, mod, time.Now()
		}
		c.mu.Unlock()
		close(done)
		return v, mod, err
	}
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
