package push

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Retention is how long the outbox keeps a job with its batches, one outcome
// row per device (push_deliveries) and the devices' acks: a national alert to
// 100,000 devices leaves 100,000 rows. An alert's counts are then summed up
// in push_reach, which its reach reads from then on.
const Retention = 30 * 24 * time.Hour

// purgeBatch is how many jobs one transaction of Purge removes (a national
// alert's job has an outcome row per device).
const purgeBatch = 5

// Purge removes the jobs queued more than Retention ago with everything
// they left (batches, outcomes, acks), a few jobs per transaction, first
// adding an alert job's counts to push_reach so that the alert's reach reads
// the same afterwards. It returns how many jobs went.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return 0, err
	}
	var removed int64
	for {
		var n int
		err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var jobs []job
			// Jobs with work still open (an instance down for a month) or
			// locked by a sender wait for a later turn: the purge never
			// waits on a sender, which may wait on it.
			q := tx.NewSelect().Model(&jobs).Column("j.id", "j.kind", "j.ref_id").
				Where("j.created_at < ?", now.Add(-Retention)).
				Where("NOT EXISTS (SELECT 1 FROM push_batches AS b WHERE b.job_id = j.id AND b.done_at IS NULL)").
				Order("j.id").Limit(purgeBatch)
			if s.db.Postgres() {
				q = q.For("UPDATE SKIP LOCKED")
			}
			if err := q.Scan(ctx); err != nil {
				return err
			}
			n = len(jobs)
			for _, j := range jobs {
				if j.Kind == KindAlert {
					if err := summarise(ctx, tx, j, now); err != nil {
						return err
					}
				}
				// Its batches, outcomes and acks go with it (ON DELETE
				// CASCADE; SQLite enforces foreign keys here too).
				if _, err := tx.NewDelete().Model((*job)(nil)).Where("j.id = ?", j.ID).Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("purge push jobs: %w", err)
		}
		removed += int64(n)
		if n < purgeBatch {
			return removed, nil
		}
	}
}

// summarise adds alert job j's counts to push_reach, inside tx.
func summarise(ctx context.Context, tx bun.Tx, j job, now time.Time) error {
	pushed, err := tx.NewSelect().Model((*delivery)(nil)).Where("d.job_id = ? AND d.state = ?", j.ID, stateSent).Count(ctx)
	if err != nil {
		return err
	}
	displayed, err := tx.NewSelect().Table("push_acks").Where("job_id = ?", j.ID).Count(ctx)
	if err != nil {
		return err
	}
	_, err = tx.NewRaw(`INSERT INTO push_reach (ref_id, kind, pushed, displayed, summarised_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (ref_id, kind) DO UPDATE SET pushed = push_reach.pushed + excluded.pushed,
			displayed = push_reach.displayed + excluded.displayed, summarised_at = excluded.summarised_at`,
		j.RefID, j.Kind, pushed, displayed, now).Exec(ctx)
	return err
}
