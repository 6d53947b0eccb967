package push

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// stats are this instance's push counters.
type stats struct {
	queued, sent, gone, dropped atomic.Int64

	mu       sync.Mutex
	byStatus map[int]int64 // failed or retried answers by HTTP status (0: no answer)
}

func newStats() stats { return stats{byStatus: map[int]int64{}} }

func (s *stats) failed(status int) {
	s.mu.Lock()
	s.byStatus[status]++
	s.mu.Unlock()
}

// Stats are the counters of this instance since it started.
type Stats struct {
	Queued  int64 // jobs queued by this instance (one per event)
	Sent    int64 // pushes a push service accepted
	Gone    int64 // subscriptions deleted on 404/410
	Dropped int64 // pushes dropped because their TTL passed first
	// Failed counts the answers that were not acceptance, by HTTP status
	// ("0": no answer); 429 and 5xx are retried.
	Failed map[string]int64
}

// Stats reads the counters.
func (s *Service) Stats() Stats {
	out := Stats{Queued: s.stats.queued.Load(), Sent: s.stats.sent.Load(), Gone: s.stats.gone.Load(),
		Dropped: s.stats.dropped.Load(), Failed: map[string]int64{}}
	s.stats.mu.Lock()
	for code, n := range s.stats.byStatus {
		out.Failed[strconv.Itoa(code)] = n
	}
	s.stats.mu.Unlock()
	return out
}

// Backlog is what the outbox holds now, for every instance: devices in
// batches not yet finished, jobs not yet cut into batches, and the age of
// the oldest job with work left.
type Backlog struct {
	Devices int64
	Jobs    int64
	Oldest  time.Duration
}

// Backlog reads the outbox's backlog from the database.
func (s *Service) Backlog(ctx context.Context) (Backlog, error) {
	var out Backlog
	var oldest []time.Time
	// Jobs first: a job cut into batches between the two reads has its
	// batches counted by the second (the cut commits both at once).
	n, err := s.db.NewSelect().Model((*job)(nil)).Where("j.expanded_at IS NULL").Count(ctx)
	if err != nil {
		return out, err
	}
	out.Jobs = int64(n)
	err = s.db.NewSelect().Model((*batch)(nil)).ColumnExpr("COALESCE(SUM(b.devices), 0)").
		Where("b.done_at IS NULL").Scan(ctx, &out.Devices)
	if err != nil {
		return out, err
	}
	for _, q := range []*bun.SelectQuery{
		s.db.NewSelect().Model((*job)(nil)).Column("j.created_at").Where("j.expanded_at IS NULL"),
		s.db.NewSelect().Model((*job)(nil)).Column("j.created_at").
			Where("j.id IN (SELECT b.job_id FROM push_batches AS b WHERE b.done_at IS NULL)"),
	} {
		var t []time.Time
		if err := q.OrderExpr("j.created_at").Limit(1).Scan(ctx, &t); err != nil {
			return out, err
		}
		oldest = append(oldest, t...)
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return out, err
	}
	for _, t := range oldest {
		out.Oldest = max(out.Oldest, now.Sub(t))
	}
	return out, nil
}
