// Package chore runs Jarimu's periodic jobs (sweeping leases, purging what
// is past its retention, keeping the event log's partitions ahead) once per
// cluster, not once per instance: every instance offers to run each job,
// and the database lets one of them do it per period. A job that looks
// after an instance's own disk runs on every instance instead.
//
// Two guards, both in the database: a lease row per job (chore_runs: when
// the cluster last started it), claimed with one conditional upsert, so
// two instances never both start a job in one period; and, on PostgreSQL,
// an advisory lock held while the job runs (db.TryLock), so a run that
// outlasts its period is not joined by a second one.
package chore

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jarimu/jarimu/db"
)

// Job is one periodic chore.
type Job struct {
	// Name labels the job's metrics and log lines ("retain_events") and
	// names its lease and lock.
	Name string
	// Every is how often the cluster (or, for a Local job, each instance)
	// runs it.
	Every time.Duration
	// Local jobs run on every instance, without lease or lock: they look
	// after the instance's own disk.
	Local bool
	// Run does the work and says how many things it removed or changed.
	Run func(ctx context.Context) (int64, error)
}

// Stats count what this instance did with one job since it started.
type Stats struct {
	Runs     int64 // runs started here (the lease was won, or the job is local)
	Skipped  int64 // turns left to another instance (lease or lock held)
	Failures int64 // runs, or lease and lock checks, that failed
	Items    int64 // the sum of what the runs reported
}

// Runner offers its jobs to the cluster, each on its own schedule.
type Runner struct {
	db   *db.DB
	log  *slog.Logger
	jobs []Job
	// slots bounds the hourly-and-slower jobs offered at once on
	// PostgreSQL: each holds a pooled connection for its lock while it runs
	// and needs another for its work, and so do the Web Push senders (a
	// transaction each, four by default); when every connection is held by
	// one that waits for another, the instance stalls. A quarter of the
	// pool. Jobs more frequent than a minute (the claims sweep, every 5 s,
	// which frees lapsed slots within 30 s) never queue behind them, nor do
	// local jobs or any job on SQLite, which hold no connection for a lock.
	slots chan struct{}

	mu    sync.Mutex
	stats map[string]*Stats
}

// NewRunner makes a runner of jobs over d.
func NewRunner(d *db.DB, log *slog.Logger, jobs ...Job) *Runner {
	n := len(jobs)
	if pool := d.PoolSize(); pool > 0 {
		n = min(n, pool/4)
	}
	r := &Runner{db: d, log: log, jobs: jobs, stats: map[string]*Stats{}, slots: make(chan struct{}, max(n, 1))}
	for _, j := range jobs {
		r.stats[j.Name] = &Stats{}
	}
	return r
}

// Run offers every job at once and then once per period, until ctx ends.
// Each job has a goroutine of its own, so a long run of one (a first purge
// of a grown table) never delays the frequent ones (the 5-second claim
// sweep); the hourly ones take turns when the pool is small (slots).
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, j := range r.jobs {
		wg.Go(func() {
			t := time.NewTicker(j.Every)
			defer t.Stop()
			for {
				r.offer(ctx, j)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}

// RunNow offers the named jobs (every job when none is named) at once, one
// after the other, and returns when they are done or left to another
// instance. The lease still decides: a job the cluster ran within its
// period is skipped.
func (r *Runner) RunNow(ctx context.Context, names ...string) {
	for _, j := range r.jobs {
		if len(names) == 0 || slices.Contains(names, j.Name) {
			r.offer(ctx, j)
		}
	}
}

// Stats reads the counters of every job, by name.
func (r *Runner) Stats() map[string]Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Stats, len(r.stats))
	for name, s := range r.stats {
		out[name] = *s
	}
	return out
}

// offer runs j here if this instance gets the lock and the lease.
func (r *Runner) offer(ctx context.Context, j Job) {
	if ctx.Err() != nil {
		return
	}
	if !j.Local && j.Every >= time.Minute && r.db.Postgres() {
		select {
		case r.slots <- struct{}{}:
			defer func() { <-r.slots }()
		case <-ctx.Done():
			return
		}
	}
	if !j.Local {
		unlock, ok, err := r.db.TryLock(ctx, "chore:"+j.Name)
		if err != nil {
			r.failed(ctx, j, err)
			return
		}
		defer unlock()
		if ok {
			ok, err = r.claim(ctx, j)
			if err != nil {
				r.failed(ctx, j, err)
				return
			}
		}
		if !ok {
			r.count(j, func(s *Stats) { s.Skipped++ })
			return
		}
	}
	r.count(j, func(s *Stats) { s.Runs++ })
	n, err := j.Run(ctx)
	if err != nil {
		r.failed(ctx, j, err)
		return
	}
	r.count(j, func(s *Stats) { s.Items += n })
	if n > 0 {
		r.log.Info(j.Name, slog.Int64("count", n))
	}
}

// claim takes j's lease for this period: it succeeds when the cluster last
// started j at least nine tenths of a period ago (by the database's
// clock), so instances whose ticks drift a little do not skip a turn.
func (r *Runner) claim(ctx context.Context, j Job) (bool, error) {
	now, err := r.db.Now(ctx, r.db)
	if err != nil {
		return false, err
	}
	var name string
	err = r.db.NewRaw(`INSERT INTO chore_runs (name, ran_at) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET ran_at = excluded.ran_at WHERE chore_runs.ran_at <= ?
		RETURNING name`, j.Name, now, now.Add(-j.Every*9/10)).Scan(ctx, &name)
	switch {
	case db.IsNoRows(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("chore %s: lease: %w", j.Name, err)
	}
	return true, nil
}

func (r *Runner) failed(ctx context.Context, j Job, err error) {
	r.count(j, func(s *Stats) { s.Failures++ })
	if ctx.Err() == nil {
		r.log.Warn(j.Name, slog.String("error", err.Error()))
	}
}

func (r *Runner) count(j Job, fn func(*Stats)) {
	r.mu.Lock()
	fn(r.stats[j.Name])
	r.mu.Unlock()
}
