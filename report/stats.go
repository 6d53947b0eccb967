package report

import (
	"context"
	"fmt"

	"github.com/jarimu/jarimu/region"
)

// Stat is one group of the open statistics: reports, verified reports and
// content taken down.
type Stat struct {
	Key       string `bun:"key" json:"key"`
	Name      string `bun:"-" json:"name,omitempty"` // the province's name, grouped by region
	Reports   int    `bun:"reports" json:"reports"`
	Verified  int    `bun:"verified" json:"verified"`
	TakenDown int    `bun:"taken_down" json:"taken_down"`
	Takedowns int    `bun:"takedowns" json:"takedown_requests"`
}

// Stats counts reports by category, province ("national" when none) or day
// (UTC). Counts only: no personal data.
func (s *Service) Stats(ctx context.Context, groupBy string) ([]Stat, error) {
	var key string
	switch groupBy {
	case "category":
		key = "r.category"
	case "region":
		key = "COALESCE(substr(r.region_code, 1, 2), 'national')"
	case "day":
		key = s.db.DayUTC("r.created_at")
	default:
		return nil, fmt.Errorf("stats: unknown grouping %q", groupBy)
	}
	var out []Stat
	err := s.db.NewSelect().Model((*Report)(nil)).
		ColumnExpr(key+" AS key").
		ColumnExpr("count(*) AS reports").
		ColumnExpr("sum(CASE WHEN r.status = 'verified' THEN 1 ELSE 0 END) AS verified").
		ColumnExpr("sum(CASE WHEN r.takedown_status = 'taken_down' THEN 1 ELSE 0 END) AS taken_down").
		ColumnExpr("sum(CASE WHEN r.takedown_status IS NOT NULL THEN 1 ELSE 0 END) AS takedowns").
		GroupExpr(key).OrderExpr("key ASC").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	if out == nil {
		out = []Stat{}
	}
	if groupBy == "region" {
		for i := range out {
			out[i].Name = region.Name(out[i].Key)
		}
	}
	return out, nil
}
