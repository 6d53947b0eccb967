package task

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/org"
)

// EndClaims is the org service's ClaimEnder over d. In the transaction of
// the change that took access away (a membership removed, left or
// rejected; the org suspended, revoked or lapsed) it ends the active claims
// on the org's tasks, of one holder or of all: each is released with its
// end_reason and its holder is told (claim.ended), except a claim whose
// lease had already passed, which expires as the sweeper would expire it.
// Each task that gets slots back announces its new count once
// (task.updated). orgID "" with a userID ends every active claim of the
// user, on any org's tasks or the national pool (their account is erased,
// suspended or deleted).
//
// It needs no Service: the org service is built before the task service,
// which depends on it.
func EndClaims(d *db.DB) org.ClaimEnder {
	return func(ctx context.Context, tx bun.Tx, orgID, userID, reason string, now time.Time) error {
		if userID != "" {
			// A claim of this user committing now is either seen below
			// or, once this commits, refused for the ended membership.
			if err := lockHolder(ctx, tx, d, userID); err != nil {
				return err
			}
		}
		claims, err := lostClaims(ctx, tx, d, orgID, userID)
		if err != nil || len(claims) == 0 {
			return err
		}
		tasks, err := lockTasks(ctx, tx, d, claims)
		if err != nil {
			return err
		}
		freed := map[string]int{}
		for i := range claims {
			c := &claims[i]
			if !now.Before(c.LeaseExpiresAt) {
				if _, err := expire(ctx, tx, d, c.ID, now); err != nil {
					return err
				}
				continue
			}
			if err := endLost(ctx, tx, c, tasks[c.TaskID], reason, now); err != nil {
				return err
			}
			freed[c.TaskID]++
		}
		for _, id := range slices.Sorted(maps.Keys(freed)) {
			if err := freeSlots(ctx, tx, tasks[id], freed[id], now); err != nil {
				return err
			}
		}
		return nil
	}
}

// lostClaims reads the active claims on orgID's tasks (of userID, unless
// ""; every task when orgID is ""), locked in id order on PostgreSQL: claims before tasks, the order of
// every path that ends claims (see expireOverdue).
func lostClaims(ctx context.Context, tx bun.Tx, d *db.DB, orgID, userID string) ([]Claim, error) {
	var claims []Claim
	q := tx.NewSelect().Model(&claims).Where("c.status = 'active'").OrderExpr("c.id")
	if orgID != "" {
		q = q.Where("c.task_id IN (SELECT id FROM tasks WHERE org_id = ?)", orgID)
	}
	if userID != "" {
		q = q.Where("c.user_id = ?", userID)
	}
	if err := d.ForUpdate(q).Scan(ctx); err != nil {
		return nil, fmt.Errorf("active claims of org: %w", err)
	}
	return claims, nil
}

// lockTasks reads the tasks of claims, locked in id order on PostgreSQL.
func lockTasks(ctx context.Context, tx bun.Tx, d *db.DB, claims []Claim) (map[string]*Task, error) {
	ids := make([]string, 0, len(claims))
	for _, c := range claims {
		ids = append(ids, c.TaskID)
	}
	slices.Sort(ids)
	var ts []Task
	q := d.ForUpdate(tx.NewSelect().Model(&ts).Where("t.id IN (?)", bun.In(slices.Compact(ids))).OrderExpr("t.id"))
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("tasks of claims: %w", err)
	}
	out := make(map[string]*Task, len(ts))
	for i := range ts {
		out[ts[i].ID] = &ts[i]
	}
	return out, nil
}

// endLost releases one locked active claim for reason and tells its holder
// (claim.ended); the caller frees the slot.
func endLost(ctx context.Context, tx bun.Tx, c *Claim, t *Task, reason string, now time.Time) error {
	c.Status, c.EndedAt, c.EndReason, c.Version = api.ClaimReleased, &now, &reason, c.Version+1
	_, err := tx.NewUpdate().Model(c).Column("status", "ended_at", "end_reason", "version").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("end claim: %w", err)
	}
	_, err = event.Append(ctx, tx, org.UserStream(c.UserID), "claim.ended",
		map[string]any{"claim_id": c.ID, "task_id": t.ID, "task_title": t.Title, "reason": reason})
	return err
}
