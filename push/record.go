package push

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// recorder writes the outcomes of one batch's pushes as they come, in
// groups of at most flushSize, at least every flushEvery, each group in
// one statement outside the batch's locking transaction: an outcome is
// durable within flushEvery of its answer whatever becomes of the batch.
type recorder struct {
	s     *Service
	ctx   context.Context
	jobID string
	in    chan pending
	done  chan error
	once  sync.Once
	err   error
}

type pending struct {
	subID string
	o     outcome
}

func (s *Service) newRecorder(ctx context.Context, jobID string) *recorder {
	r := &recorder{s: s, ctx: context.WithoutCancel(ctx), jobID: jobID, in: make(chan pending, flushSize), done: make(chan error, 1)}
	go r.run()
	return r
}

// add queues one outcome.
func (r *recorder) add(subID string, o outcome) { r.in <- pending{subID, o} }

// close writes what is left and returns the first write error.
func (r *recorder) close() error {
	r.once.Do(func() {
		close(r.in)
		r.err = <-r.done
	})
	return r.err
}

func (r *recorder) run() {
	var buf []pending
	var firstErr error
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	flush := func() {
		if len(buf) == 0 {
			return
		}
		if err := r.s.writeOutcomes(r.ctx, r.jobID, buf); err != nil && firstErr == nil {
			firstErr = err
		}
		buf = buf[:0]
	}
	for {
		select {
		case p, ok := <-r.in:
			if !ok {
				flush()
				r.done <- firstErr
				return
			}
			buf = append(buf, p)
			if len(buf) >= flushSize {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// writeOutcomes upserts the outcome rows of one job's devices and deletes
// the subscriptions their push service called gone.
func (s *Service) writeOutcomes(ctx context.Context, jobID string, ps []pending) error {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return err
	}
	rows := make([]delivery, len(ps))
	var gone []string
	for i, p := range ps {
		rows[i] = delivery{JobID: jobID, SubscriptionID: p.subID, State: p.o.state, Status: p.o.status, Attempts: p.o.attempts, At: now}
		if p.o.state == stateRetry {
			next := p.o.next.UTC()
			rows[i].NextAt = &next
		}
		if p.o.state == stateGone {
			gone = append(gone, p.subID)
		}
	}
	_, err = s.db.NewInsert().Model(&rows).
		On("CONFLICT (job_id, subscription_id) DO UPDATE").
		Set("state = EXCLUDED.state, status = EXCLUDED.status, attempts = EXCLUDED.attempts, next_at = EXCLUDED.next_at, at = EXCLUDED.at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("record push outcomes: %w", err)
	}
	if len(gone) > 0 {
		if _, err := s.db.NewDelete().Model((*Subscription)(nil)).Where("id IN (?)", bun.In(gone)).Exec(ctx); err != nil {
			return fmt.Errorf("delete gone subscriptions: %w", err)
		}
		s.stats.gone.Add(int64(len(gone)))
	}
	return nil
}
