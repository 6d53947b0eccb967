package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jarimu/jarimu/chore"
)

// evidenceTempAge is how old a file in the evidence store's tmp/ must be
// before it counts as an upload left behind.
const evidenceTempAge = time.Hour

// chores lists the background jobs, in the order they are offered. Each
// runs once per cluster and period (package chore), except the evidence
// tmp/ purge, which looks after this instance's own disk.
func (a *App) chores() *chore.Runner {
	jobs := []chore.Job{
		{Name: "sweep_claims", Every: 5 * time.Second, Run: func(ctx context.Context) (int64, error) {
			// Expires overdue claims and warns holders, so a lapsed lease
			// frees its slot well within 30 s.
			e, w, err := a.Tasks.Sweep(ctx)
			return int64(e + w), err
		}},
		{Name: "announce_lapses", Every: time.Minute, Run: func(ctx context.Context) (int64, error) {
			n, err := a.Orgs.AnnounceLapses(ctx)
			return int64(n), err
		}},
		{Name: "retain_events", Every: time.Hour, Run: a.retainEvents},
		{Name: "purge_idempotency", Every: time.Hour, Run: func(ctx context.Context) (int64, error) { return a.Idem.Purge(ctx) }},
		{Name: "purge_refresh_tokens", Every: time.Hour, Run: a.Auth.PurgeRefreshTokens},
		{Name: "summarise_acks", Every: time.Hour, Run: a.Alerts.SummariseAcks},
		{Name: "purge_push", Every: time.Hour, Run: a.Push.Purge},
		{Name: "retention", Every: time.Hour, Run: func(ctx context.Context) (int64, error) {
			// Personal data past JARIMU_RETENTION_* after the election
			// date (nothing while no date is set).
			st, err := a.Privacy.Retain(ctx)
			return int64(st.Reports) + st.Claims + int64(st.Accounts), err
		}},
		{Name: "delete_evidence", Every: 10 * time.Minute, Run: a.Reports.SweepFiles},
		{Name: "purge_evidence_tmp", Every: time.Hour, Local: true, Run: func(context.Context) (int64, error) {
			return a.temp.PurgeTemp(evidenceTempAge)
		}},
	}
	return chore.NewRunner(a.DB, a.Log, jobs...)
}

// retainEvents keeps the event log's month partitions ahead (PostgreSQL),
// then removes the events past the retention (alerts and accreditation
// changes are kept). One job, not two: the purge must see the partitions
// the upkeep just made for rows that had none.
func (a *App) retainEvents(ctx context.Context) (int64, error) {
	now, err := a.DB.Now(ctx, a.DB)
	if err != nil {
		return 0, err
	}
	made, err := a.Events.Partition(ctx, now)
	if len(made) > 0 {
		a.Log.Info("event partitions made", slog.Any("partitions", made))
	}
	if err != nil {
		return int64(len(made)), err
	}
	p, err := a.Events.Purge(ctx, now.Add(-a.retention))
	if len(p.Partitions) > 0 {
		a.Log.Info("event partitions dropped", slog.Any("partitions", p.Partitions))
	}
	return int64(len(made)) + p.Rows + int64(len(p.Partitions)), err
}

// registerChoreMetrics exposes what this instance's chores did.
func (a *App) registerChoreMetrics() {
	read := func(field func(chore.Stats) int64) func() map[string]float64 {
		return func() map[string]float64 {
			out := map[string]float64{}
			for name, s := range a.Chores.Stats() {
				out[name] = float64(field(s))
			}
			return out
		}
	}
	a.Metrics.Counters("jarimu_chore_runs_total", "Background chore runs started by this instance (each cluster-wide chore runs on one instance per period).", "chore",
		read(func(s chore.Stats) int64 { return s.Runs }))
	a.Metrics.Counters("jarimu_chore_skipped_total", "Turns of a background chore this instance left to another (it ran there within its period, or is still running).", "chore",
		read(func(s chore.Stats) int64 { return s.Skipped }))
	a.Metrics.Counters("jarimu_chore_failures_total", "Background chore runs (or their lease and lock checks) that failed on this instance; each is logged as a warning.", "chore",
		read(func(s chore.Stats) int64 { return s.Failures }))
	a.Metrics.Counters("jarimu_chore_items_total", "Things the background chores of this instance removed or changed: rows, partitions (counted as one each), files, claims.", "chore",
		read(func(s chore.Stats) int64 { return s.Items }))
}
