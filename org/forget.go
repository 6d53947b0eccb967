package org

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
)

// EndAll ends, inside tx, every pending or active membership of userID
// (their account is being erased), as leaving would, and every active claim
// they hold, on any organisation's tasks or the national pool: the orgs are
// locked first, in id order, as every membership change locks its org, then
// the claims end (reason account_erased), then the memberships become
// "left". The last coordinator of an org may go this way too: officers of
// its region act as its coordinators. It says how many memberships ended.
func (s *Service) EndAll(ctx context.Context, tx bun.Tx, userID string, now time.Time) (int, error) {
	var orgIDs []string
	err := tx.NewSelect().Model((*Membership)(nil)).Column("org_id").
		Where("user_id = ? AND status IN (?, ?)", userID, api.MembershipPending, api.MembershipActive).
		OrderExpr("org_id").Scan(ctx, &orgIDs)
	if err != nil {
		return 0, fmt.Errorf("memberships to end: %w", err)
	}
	for _, id := range orgIDs {
		if _, err := load(ctx, tx, s.db, id, true); err != nil {
			return 0, err
		}
	}
	if err := s.endClaims(ctx, tx, "", userID, api.ClaimEndErased, now); err != nil {
		return 0, err
	}
	if err := s.RevokeAll(ctx, tx, userID); err != nil {
		return 0, err
	}
	res, err := tx.NewUpdate().Model((*Membership)(nil)).
		Set("status = ?", api.MembershipLeft).Set("decided_by = ?", userID).Set("decided_at = ?", now).Set("updated_at = ?", now).
		Where("user_id = ? AND status IN (?, ?)", userID, api.MembershipPending, api.MembershipActive).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("end memberships: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
