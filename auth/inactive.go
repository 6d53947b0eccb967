package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jarimu/jarimu/api"
)

// InactiveSince reports whether u is a volunteer account, not erased, not
// used since cutoff: what Inactive lists, for one account read again.
func (u *User) InactiveSince(cutoff time.Time) bool {
	seen := u.CreatedAt
	if u.LastSeenAt != nil {
		seen = *u.LastSeenAt
	}
	return u.Role == api.RoleVolunteer && !u.Erased() && seen.Before(cutoff)
}

// Inactive lists up to limit volunteer accounts not erased and not used
// (signed in or refreshed; or made, for one never used) since cutoff: the
// inactive-account retention erases them. Staff accounts are never listed.
func (s *Service) Inactive(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	var ids []string
	err := s.db.NewSelect().Model((*User)(nil)).Column("id").
		Where("role = ? AND erased_at IS NULL", api.RoleVolunteer).
		Where("COALESCE(last_seen_at, created_at) < ?", cutoff).OrderExpr("id").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("inactive accounts: %w", err)
	}
	return ids, nil
}
