package auth

import (
	"context"
	"fmt"
	"time"
)

// purgeBatch is how many rows one DELETE of PurgeRefreshTokens removes, so
// a first purge of a long-grown table holds no lock for long.
const purgeBatch = 10000

// PurgeRefreshTokens deletes the refresh tokens that expired more than a
// day ago and returns how many went. An expired token is refused whatever
// else its row says, so nothing needs the row; the day keeps the recent
// ones for looking into a complaint. Spent and revoked tokens that have not
// expired stay: presenting a spent one is how a stolen token is caught.
func (s *Service) PurgeRefreshTokens(ctx context.Context) (int64, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return 0, err
	}
	before := now.Add(-24 * time.Hour)
	var total int64
	for {
		res, err := s.db.NewDelete().Model((*refreshToken)(nil)).
			Where("id IN (SELECT id FROM refresh_tokens WHERE expires_at < ? LIMIT ?)", before, purgeBatch).Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("purge refresh tokens: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}
