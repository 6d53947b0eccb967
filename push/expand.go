package push

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
)

// batch is a push_batches row: the devices of one job whose subscription
// ids lie in [FirstSub, LastSub], worked by one worker at a time.
type batch struct {
	bun.BaseModel `bun:"table:push_batches,alias:b"`

	ID       string     `bun:"id,pk"`
	JobID    string     `bun:"job_id"`
	FirstSub string     `bun:"first_sub"`
	LastSub  string     `bun:"last_sub"`
	Devices  int        `bun:"devices"`
	NextAt   time.Time  `bun:"next_at"`
	DoneAt   *time.Time `bun:"done_at"`
}

// expandLoop expands queued jobs into batches until ctx ends, waking the
// senders after each step that made batches.
func (s *Service) expandLoop(ctx context.Context, wake func()) {
	for {
		made, err := s.expand(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("push: expand jobs", "error", err.Error())
		}
		if made {
			wake()
			continue
		}
		if err != nil {
			if !sleep(ctx, time.Second, nil) {
				return
			}
			continue
		}
		if !sleep(ctx, s.cfg.Poll, s.bell) {
			return
		}
	}
}

// expand takes one job that is not fully expanded (skipping jobs another
// instance is expanding), cuts the next ExpandRound of its devices, in
// subscription id order after its cursor, into batches of BatchSize, and
// moves the cursor; the job is expanded when a step finds fewer. One
// INSERT ... SELECT numbers the devices and groups them, so a round costs
// one statement whatever its size. made reports whether a job was found.
func (s *Service) expand(ctx context.Context) (made bool, err error) {
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		j := new(job)
		q := tx.NewSelect().Model(j).Where("j.expanded_at IS NULL").OrderExpr("j.created_at, j.id").Limit(1)
		if s.db.Postgres() {
			q = q.For("UPDATE SKIP LOCKED")
		}
		if err := q.Scan(ctx); err != nil {
			if isNoRows(err) {
				return nil
			}
			return fmt.Errorf("next job: %w", err)
		}
		made = true
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		ids := s.devices(tx, j).ColumnExpr("s.id, (ROW_NUMBER() OVER (ORDER BY s.id) - 1) / ? AS grp", s.cfg.BatchSize).
			Where("s.id > ?", j.NextSub).OrderExpr("s.id").Limit(int64(s.cfg.ExpandRound))
		var cut []struct {
			LastSub string `bun:"last_sub"`
			Devices int    `bun:"devices"`
		}
		err = tx.NewRaw(`INSERT INTO push_batches (id, job_id, first_sub, last_sub, devices, next_at)
			SELECT ? || ':' || MAX(r.id), ?, MIN(r.id), MAX(r.id), COUNT(*), ? FROM (?) AS r GROUP BY r.grp
			RETURNING last_sub, devices`, j.ID, j.ID, now, ids).Scan(ctx, &cut)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("cut job %s into batches: %w", j.ID, err)
		}
		n := 0
		for _, c := range cut {
			n += c.Devices
			j.NextSub = max(j.NextSub, c.LastSub)
		}
		if n < s.cfg.ExpandRound {
			j.ExpandedAt = &now
		}
		_, err = tx.NewUpdate().Model(j).Column("next_sub", "expanded_at").WherePK().Exec(ctx)
		return err
	})
	return made, err
}

// devices selects the subscriptions a job goes to: the devices that want
// its kind (every device, for a test), of active accounts in its audience
// (the account of UserID; or the volunteers of its region and below).
// It runs both when a job is cut into batches and when a batch is sent, so
// an account suspended in between gets nothing, nor an assignee whose claim
// ended, nor anybody an alert retracted meanwhile.
func (s *Service) devices(q bun.IDB, j *job) *bun.SelectQuery {
	sel := q.NewSelect().Model((*Subscription)(nil))
	if j.Wants != 0 {
		sel = sel.Where("s.events & ? <> 0", j.Wants)
	}
	var accounts *bun.SelectQuery
	switch {
	case j.UserID != nil:
		accounts = s.accounts(q, "", "", *j.UserID)
		sel = sel.Where("s.user_id = ?", *j.UserID) // that account's devices by index, not all of them
	case j.RegionCode != nil:
		accounts = s.accounts(q, "volunteer", *j.RegionCode, "")
	default:
		accounts = s.accounts(q, "volunteer", "", "")
	}
	// Each device's account is looked up by its key as the devices are
	// read in id order (up to the round's limit). Asked as "user_id IN
	// (accounts)", SQLite read every account of the audience first, for
	// every round and every batch sent, however few devices there were:
	// with 10,000 volunteers and no device, 30 ms of CPU per alert.
	sel = sel.Where("EXISTS (SELECT 1 FROM (?) AS a WHERE a.id = s.user_id)", accounts)
	if j.Kind == KindAlert {
		// Only while the alert stands: its retraction's push has the same
		// topic and tag, so an alert pushed after it (a retry, a batch not
		// yet sent) would replace the retraction at the push service and
		// on the phone, and show the retracted alert as live.
		sel = sel.Where("NOT EXISTS (SELECT 1 FROM alerts AS al WHERE al.id = ? AND al.retracted_at IS NOT NULL)", j.RefID)
	}
	if j.Kind == KindAssignment {
		// Only while the claim stands: one ended meanwhile (released,
		// lapsed, or ended with the member's access to its org) is not
		// pushed, nor retried.
		sel = sel.Where("EXISTS (SELECT 1 FROM claims AS c WHERE c.id = ? AND c.user_id = s.user_id AND c.status = ?)", j.RefID, api.ClaimActive)
	}
	return sel
}
