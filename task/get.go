package task

import (
	"context"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
)

// GetClaim reads a claim for its holder or a manager of its task; anyone
// else gets a 404.
func (s *Service) GetClaim(ctx context.Context, p auth.Principal, id string) (api.Claim, error) {
	c, t, err := s.ClaimOf(ctx, s.db, id)
	if err != nil {
		return api.Claim{}, err
	}
	if c.UserID != p.UserID {
		acc, err := s.accessOf(ctx, s.db, p, t)
		if err != nil {
			return api.Claim{}, err
		}
		if !acc.manage {
			return api.Claim{}, claimNotFound()
		}
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return api.Claim{}, err
	}
	return c.apiAt(now), nil
}
