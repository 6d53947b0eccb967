package push

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// expandRound is how many devices one expansion step cuts into batches.
const expandRound = 5000

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
// instance is expanding), cuts the next expandRound of its devices, in
// subscription id order after its cursor, into batches, and moves the
// cursor; the job is expanded when a step finds fewer. made reports
// whether a job was found.
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
		var ids []string
		err := s.devices(tx, j).Column("s.id").Where("s.id > ?", j.NextSub).OrderExpr("s.id").Limit(expandRound).Scan(ctx, &ids)
		if err != nil {
			return fmt.Errorf("devices of job %s: %w", j.ID, err)
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		var bs []batch
		for start := 0; start < len(ids); start += s.cfg.BatchSize {
			part := ids[start:min(start+s.cfg.BatchSize, len(ids))]
			bs = append(bs, batch{ID: uuid.Must(uuid.NewV7()).String(), JobID: j.ID, FirstSub: part[0],
				LastSub: part[len(part)-1], Devices: len(part), NextAt: now})
		}
		if len(bs) > 0 {
			if _, err := tx.NewInsert().Model(&bs).Exec(ctx); err != nil {
				return fmt.Errorf("insert batches: %w", err)
			}
			j.NextSub = ids[len(ids)-1]
		}
		if len(ids) < expandRound {
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
// an account suspended in between gets nothing.
func (s *Service) devices(q bun.IDB, j *job) *bun.SelectQuery {
	sel := q.NewSelect().Model((*Subscription)(nil))
	if j.Wants != 0 {
		sel = sel.Where("s.events & ? <> 0", j.Wants)
	}
	var accounts *bun.SelectQuery
	switch {
	case j.UserID != nil:
		accounts = s.accounts(q, "", "", *j.UserID)
	case j.RegionCode != nil:
		accounts = s.accounts(q, "volunteer", *j.RegionCode, "")
	default:
		accounts = s.accounts(q, "volunteer", "", "")
	}
	return sel.Where("s.user_id IN (?)", accounts)
}
