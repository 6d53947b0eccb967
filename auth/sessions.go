package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/problem"
)

// Sessions lists the caller's live sessions (refresh token families with a
// token still unspent, unrevoked and unexpired), newest first, and the
// clients trusted to sign in (device tokens), most recently used first.
func (s *Service) Sessions(ctx context.Context, userID string) (api.Sessions, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return api.Sessions{}, err
	}
	var fams []struct {
		FamilyID  string    `bun:"family_id"`
		CreatedAt time.Time `bun:"created_at"`
		LastUsed  time.Time `bun:"last_used_at"`
		ExpiresAt time.Time `bun:"expires_at"`
	}
	err = s.db.NewSelect().Model((*refreshToken)(nil)).
		Column("family_id").ColumnExpr("min(created_at) AS created_at").ColumnExpr("max(created_at) AS last_used_at").
		ColumnExpr("max(expires_at) AS expires_at").
		Where("user_id = ? AND revoked_at IS NULL", userID).Group("family_id").
		Having("sum(CASE WHEN spent_at IS NULL AND expires_at > ? THEN 1 ELSE 0 END) > 0", now).
		OrderExpr("min(created_at) DESC").Scan(ctx, &fams)
	if err != nil {
		return api.Sessions{}, fmt.Errorf("sessions: %w", err)
	}
	out := api.Sessions{Sessions: make([]api.Session, len(fams)), Devices: []api.Device{}}
	for i, f := range fams {
		out.Sessions[i] = api.Session{ID: f.FamilyID, CreatedAt: f.CreatedAt.UTC(), LastUsedAt: f.LastUsed.UTC(), ExpiresAt: f.ExpiresAt.UTC()}
	}
	var devs []deviceToken
	err = s.db.NewSelect().Model(&devs).Where("user_id = ?", userID).OrderExpr("last_used_at DESC, id DESC").Scan(ctx)
	if err != nil {
		return api.Sessions{}, fmt.Errorf("devices: %w", err)
	}
	for _, d := range devs {
		out.Devices = append(out.Devices, api.Device{ID: d.ID, CreatedAt: d.CreatedAt.UTC(), LastUsedAt: d.LastUsedAt.UTC()})
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions (its refresh tokens stop
// working; its access token runs out within its lifetime). Another
// account's session, one ended already (revoked, or run out: no token
// unspent and unexpired at the database's time, as Sessions hides it), or
// none, is a 404.
func (s *Service) RevokeSession(ctx context.Context, userID, id string) error {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return err
	}
	live := s.db.NewSelect().Model((*refreshToken)(nil)).Column("family_id").
		Where("family_id = ? AND user_id = ? AND revoked_at IS NULL AND spent_at IS NULL AND expires_at > ?", id, userID, now)
	res, err := s.db.NewUpdate().Model((*refreshToken)(nil)).Set("revoked_at = ?", now).
		Where("family_id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).Where("family_id IN (?)", live).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.Errorf(problem.NotFound, "no such session")
	}
	return nil
}

// RevokeDevice forgets one client trusted to sign in to the caller's
// account: its next login is throttled as a stranger's. Another account's
// device, or none, is a 404.
func (s *Service) RevokeDevice(ctx context.Context, userID, id string) error {
	res, err := s.db.NewDelete().Model((*deviceToken)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke device: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.Errorf(problem.NotFound, "no such device")
	}
	return nil
}
