package task

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
)

func claimNotFound() error { return problem.Errorf(problem.NotFound, "no such claim") }

// loadClaim reads a claim and its task inside tx, the claim row locked on
// PostgreSQL.
func (s *Service) loadClaim(ctx context.Context, tx bun.Tx, id string) (*Claim, *Task, error) {
	c := new(Claim)
	q := s.db.ForUpdate(tx.NewSelect().Model(c).Where("c.id = ?", id))
	if err := q.Scan(ctx); err != nil {
		if db.IsNoRows(err) {
			return nil, nil, claimNotFound()
		}
		return nil, nil, fmt.Errorf("load claim: %w", err)
	}
	t, err := s.load(ctx, tx, c.TaskID, false)
	return c, t, err
}

// claimChange is one change of a claim by its holder or a manager.
type claimChange func(ctx context.Context, tx bun.Tx, c *Claim, t *Task, now time.Time) error

// change loads a claim, checks the caller may make the change (holders act
// on their own claims; managers may release), then the request's fields
// (check, when given), that the claim is still active and the expected
// version (when given), applies fn, saves and answers.
func (s *Service) change(ctx context.Context, p auth.Principal, id string, version *int, managerMay bool, check func() error, fn claimChange) (api.Claim, error) {
	var out api.Claim
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c, t, err := s.loadClaim(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.UserID != p.UserID {
			acc, err := s.accessOf(ctx, tx, p, t)
			if err != nil {
				return err
			}
			if !acc.manage {
				return claimNotFound()
			}
			if !managerMay {
				return problem.Errorf(problem.Forbidden, "only the claim's holder does this")
			}
		}
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkActive(c, version, now); err != nil {
			return err
		}
		if err := fn(ctx, tx, c, t, now); err != nil {
			return err
		}
		c.Version++
		if _, err := tx.NewUpdate().Model(c).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("save claim: %w", err)
		}
		out = c.apiAt(now)
		return nil
	})
	if err != nil {
		return api.Claim{}, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

// checkActive refuses changes to a claim that is no longer active (or whose
// lease has passed), or that is not the version the client saw.
func checkActive(c *Claim, version *int, now time.Time) error {
	switch {
	case c.Status == api.ClaimExpired || c.Status == api.ClaimActive && !now.Before(c.LeaseExpiresAt):
		return ClaimExpired.New("the lease of this claim has passed; claim the task again if a slot is free")
	case c.EndReason != nil:
		return ClaimNotActive.New("this claim was ended (%s): its holder no longer has access to the task", *c.EndReason)
	case c.Status != api.ClaimActive:
		return ClaimNotActive.New("this claim is %s", c.Status)
	case version != nil && *version != c.Version:
		return ClaimVersion.New("the claim changed (now version %d); reload it", c.Version)
	}
	return nil
}

// Extend renews the lease (the holder only, while still entitled to the
// task), from now by the task's lease.
func (s *Service) Extend(ctx context.Context, p auth.Principal, id string, version *int) (api.Claim, error) {
	return s.change(ctx, p, id, version, false, nil, func(ctx context.Context, tx bun.Tx, c *Claim, t *Task, now time.Time) error {
		if err := s.checkHolder(ctx, tx, c, t, now); err != nil {
			return err
		}
		c.LeaseExpiresAt = now.Add(time.Duration(t.LeaseMinutes) * time.Minute)
		c.Warned = false
		return nil
	})
}

// Release frees the slot (the holder, or a manager of the task; a manager's
// release tells the holder with claim.released).
func (s *Service) Release(ctx context.Context, p auth.Principal, id string, version *int) (api.Claim, error) {
	return s.change(ctx, p, id, version, true, nil, func(ctx context.Context, tx bun.Tx, c *Claim, t *Task, now time.Time) error {
		if err := end(ctx, tx, c, t, api.ClaimReleased, now); err != nil {
			return err
		}
		if c.UserID == p.UserID {
			return nil
		}
		_, err := event.Append(ctx, tx, org.UserStream(c.UserID), "claim.released",
			map[string]any{"claim_id": c.ID, "task_id": t.ID, "task_title": t.Title, "released_by": p.UserID})
		return err
	})
}

// Complete ends the claim with an outcome (the holder only, while still
// entitled to the task); the slot stays taken, as the work is done.
func (s *Service) Complete(ctx context.Context, p auth.Principal, id string, req api.CompleteRequest) (api.Claim, error) {
	check := func() error { return problem.Validate(&req) }
	return s.change(ctx, p, id, req.Version, false, check, func(ctx context.Context, tx bun.Tx, c *Claim, t *Task, now time.Time) error {
		if err := s.checkHolder(ctx, tx, c, t, now); err != nil {
			return err
		}
		c.Status, c.Outcome, c.Note, c.EndedAt = api.ClaimCompleted, &req.Outcome, req.Note, &now
		return nil
	})
}

// checkHolder refuses to extend or complete an org task's claim whose
// holder is no longer entitled to it: not an active member of the task's
// org, or the org not accredited now. The change that took the access away
// ended the claim in its own transaction, so this catches what that change
// could not: a lapse the janitor has not announced yet, or a claim taken
// while a suspension was committing. The claim row is locked (PostgreSQL),
// so a membership change waits for this transaction, and then ends the
// claim if it is still active.
func (s *Service) checkHolder(ctx context.Context, tx bun.Tx, c *Claim, t *Task, now time.Time) error {
	if t.OrgID == nil {
		return nil
	}
	o, _, active, err := s.orgs.MemberAndOrg(ctx, tx, *t.OrgID, c.UserID)
	if err != nil {
		return err
	}
	if !active {
		return MembershipEnded.New("you are no longer an active member of %s; this claim cannot be extended or completed", o.Name)
	}
	return org.CheckAccredited(o, now)
}

// end closes an active claim as released or expired: its slot is free again
// and viewers see the new count.
func end(ctx context.Context, tx bun.Tx, c *Claim, t *Task, status string, now time.Time) error {
	c.Status, c.EndedAt = status, &now
	return freeSlots(ctx, tx, t, 1, now)
}

// freeSlots gives n slots of t back and tells viewers the new count
// (task.updated, once however many).
func freeSlots(ctx context.Context, tx bun.Tx, t *Task, n int, now time.Time) error {
	// RETURNING: the event tells the count made, whatever t was read as.
	err := tx.NewUpdate().Model((*Task)(nil)).
		Set("slots_taken = CASE WHEN slots_taken > ? THEN slots_taken - ? ELSE 0 END", n, n).Set("updated_at = ?", now).
		Where("id = ? AND slots_taken > 0", t.ID).Returning("slots_taken").Scan(ctx, &t.SlotsTaken)
	if db.IsNoRows(err) {
		t.SlotsTaken, err = 0, nil
	}
	if err != nil {
		return fmt.Errorf("free slot: %w", err)
	}
	t.UpdatedAt = now
	return publish(ctx, tx, "task.updated", t)
}

// expire marks one claim expired if it is still active and overdue (the
// guard lets one of several sweepers win) and tells its holder.
func expire(ctx context.Context, tx bun.Tx, d *db.DB, id string, now time.Time) (bool, error) {
	res, err := tx.NewUpdate().Model((*Claim)(nil)).Set("status = 'expired'").Set("ended_at = ?", now).Set("version = version + 1").
		Where("id = ? AND status = 'active' AND lease_expires_at <= ?", id, now).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("expire claim: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	c := new(Claim)
	if err := tx.NewSelect().Model(c).Where("c.id = ?", id).Scan(ctx); err != nil {
		return false, fmt.Errorf("load claim: %w", err)
	}
	t, err := loadTask(ctx, tx, d, c.TaskID, true)
	if err != nil {
		return false, err
	}
	if err := end(ctx, tx, c, t, api.ClaimExpired, now); err != nil {
		return false, err
	}
	_, err = event.Append(ctx, tx, org.UserStream(c.UserID), "claim.expired",
		map[string]any{"claim_id": c.ID, "task_id": t.ID, "task_title": t.Title, "lease_expired_at": c.LeaseExpiresAt.UTC()})
	return true, err
}

// Sweep expires overdue claims and warns holders whose lease ends within
// WarnBefore (claim.expiring, once per lease). Every instance runs it every
// few seconds; guarded updates make each expiry and warning happen once.
func (s *Service) Sweep(ctx context.Context) (expired, warned int, err error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return 0, 0, err
	}
	var overdue []string
	err = s.db.NewSelect().Model((*Claim)(nil)).Column("id").
		Where("status = 'active' AND lease_expires_at <= ?", now).Limit(500).Scan(ctx, &overdue)
	if err != nil {
		return 0, 0, fmt.Errorf("sweep: %w", err)
	}
	for _, id := range overdue {
		err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			won, err := expire(ctx, tx, s.db, id, now)
			if won {
				expired++
			}
			return err
		})
		if err != nil {
			return expired, warned, err
		}
	}
	warned, err = s.warn(ctx, now)
	return expired, warned, err
}

func (s *Service) warn(ctx context.Context, now time.Time) (int, error) {
	var soon []Claim
	err := s.db.NewSelect().Model(&soon).
		Where("c.status = 'active' AND NOT c.warned AND c.lease_expires_at > ? AND c.lease_expires_at <= ?", now, now.Add(s.cfg.WarnBefore)).
		Limit(500).Scan(ctx)
	if err != nil {
		return 0, fmt.Errorf("sweep warnings: %w", err)
	}
	n := 0
	for _, c := range soon {
		err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			res, err := tx.NewUpdate().Model((*Claim)(nil)).Set("warned = TRUE").
				Where("id = ? AND status = 'active' AND NOT warned AND lease_expires_at = ?", c.ID, c.LeaseExpiresAt).Exec(ctx)
			if err != nil {
				return fmt.Errorf("warn: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil
			}
			n++
			_, err = event.Append(ctx, tx, org.UserStream(c.UserID), "claim.expiring",
				map[string]any{"claim_id": c.ID, "task_id": c.TaskID, "lease_expires_at": c.LeaseExpiresAt.UTC(),
					"seconds_left": int(c.LeaseExpiresAt.Sub(now).Seconds())})
			return err
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ClaimOf reads a claim and its task inside q, for reports filed under a
// claim: the caller checks who holds it and whether it is still usable.
func (s *Service) ClaimOf(ctx context.Context, q bun.IDB, id string) (*Claim, *Task, error) {
	c := new(Claim)
	if err := q.NewSelect().Model(c).Where("c.id = ?", id).Scan(ctx); err != nil {
		if db.IsNoRows(err) {
			return nil, nil, claimNotFound()
		}
		return nil, nil, fmt.Errorf("load claim: %w", err)
	}
	t, err := s.load(ctx, q, c.TaskID, false)
	return c, t, err
}
