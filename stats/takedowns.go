package stats

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
)

// Takedowns counts the takedowns requested in the period per platform, by
// where each stands now, and the median and 90th percentile (nearest rank)
// of the hours from request to takedown of those taken down. Platforms in
// order of name.
func (s *Service) Takedowns(ctx context.Context, p auth.Principal, q Query) (api.TakedownStats, error) {
	sc, err := s.scopeOf(ctx, p, q)
	if err != nil {
		return api.TakedownStats{}, err
	}
	// One row per request: a report's takedown is requested once, then
	// taken down or refused once (report.takedownSteps).
	var rows []struct {
		Platform    string     `bun:"platform"`
		Status      string     `bun:"status"`
		RequestedAt time.Time  `bun:"requested_at"`
		TakenDownAt *time.Time `bun:"taken_down_at"`
	}
	sel := s.db.NewSelect().TableExpr("takedowns AS t").Join("JOIN reports AS r ON r.id = t.report_id").
		ColumnExpr("r.platform AS platform, r.takedown_status AS status, t.at AS requested_at").
		ColumnExpr("(SELECT min(d.at) FROM takedowns AS d WHERE d.report_id = r.id AND d.status = ?) AS taken_down_at", api.TakedownDone).
		Where("t.status = ?", api.TakedownRequested).
		Where("t.at >= ? AND t.at < ?", sc.period.From, sc.period.End()).
		OrderExpr("r.platform ASC, t.at ASC")
	if err := sc.owners(sel, "r").Scan(ctx, &rows); err != nil {
		return api.TakedownStats{}, fmt.Errorf("takedowns per platform: %w", err)
	}
	out := api.TakedownStats{Scope: sc.api(), Items: []api.PlatformTakedown{}}
	var hours [][]float64 // per item: hours from request to takedown
	for i, row := range rows {
		if i == 0 || rows[i-1].Platform != row.Platform {
			out.Items = append(out.Items, api.PlatformTakedown{Platform: row.Platform})
			hours = append(hours, nil)
		}
		it := &out.Items[len(out.Items)-1]
		it.Requested++
		switch row.Status {
		case api.TakedownDone:
			it.TakenDown++
		case api.TakedownRefused:
			it.Refused++
		default:
			it.Pending++
		}
		if row.TakenDownAt != nil {
			hours[len(hours)-1] = append(hours[len(hours)-1], row.TakenDownAt.Sub(row.RequestedAt).Hours())
		}
	}
	for i, h := range hours {
		out.Items[i].MedianHours, out.Items[i].P90Hours = percentile(h, 50), percentile(h, 90)
	}
	return out, nil
}

// percentile is the nearest-rank pct-th percentile of xs, rounded to a
// tenth of an hour; nil for none.
func percentile(xs []float64, pct int) *float64 {
	if len(xs) == 0 {
		return nil
	}
	sorted := slices.Sorted(slices.Values(xs))
	rank := max((pct*len(sorted)+99)/100, 1)
	v := math.Round(sorted[rank-1]*10) / 10
	return &v
}
