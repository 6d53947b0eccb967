package task

import (
	"context"
	"fmt"
	"time"
)

// DeleteEnded deletes the claims that ended (released, expired, completed)
// before cutoff, in batches, except those a report was filed under (the
// report keeps its claim): the retention of ended claims. Tasks keep their
// slot counts.
func (s *Service) DeleteEnded(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	for {
		batch := s.db.NewSelect().Model((*Claim)(nil)).Column("c.id").
			Where("c.status <> 'active' AND c.ended_at < ?", cutoff).
			Where("NOT EXISTS (SELECT 1 FROM reports r WHERE r.claim_id = c.id)").Limit(500)
		res, err := s.db.NewDelete().Model((*Claim)(nil)).Where("id IN (?)", batch).Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("retain claims: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n == 0 {
			return total, nil
		}
	}
}
