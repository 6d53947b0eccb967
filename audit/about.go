package audit

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// About reads up to limit entries about userID, oldest first, after the
// entry id after ("" from the start): entries whose target is the account,
// one of its memberships ("<org>:<user>") or one of the reports it filed.
// A person's data export carries them.
func About(ctx context.Context, q bun.IDB, userID, after string, limit int) ([]Entry, error) {
	var es []Entry
	sel := q.NewSelect().Model(&es).WhereGroup(" AND ", func(w *bun.SelectQuery) *bun.SelectQuery {
		return w.Where("target_type = 'user' AND target_id = ?", userID).
			WhereOr("target_type = 'membership' AND target_id LIKE ?", "%:"+userID).
			WhereOr("target_type = 'report' AND target_id IN (SELECT id FROM reports WHERE reporter_id = ?)", userID)
	}).OrderExpr("id ASC").Limit(int64(limit))
	if after != "" {
		sel = sel.Where("id > ?", after)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, fmt.Errorf("audit about user: %w", err)
	}
	return es, nil
}
