package stats

import (
	"context"
	"fmt"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/push"
)

// AlertCursor is a place in the alerts of a period, which are read in
// order of publication (then id): the alert a page ended with. The zero
// value is the start.
type AlertCursor struct {
	PublishedAt time.Time
	ID          string
}

// Alerts reads the reach of up to limit alerts published in the period in
// the officer's region (admins and national officers: all), oldest first,
// after the cursor: the volunteers meant, as the alert's own reach counts
// them, devices whose push service accepted its Web Push (pushed),
// volunteers whose feed client acknowledged it (delivered: the counted
// acknowledgements, or their summary once summed up; never more than
// meant, as in the reach) and devices that showed its push (displayed).
// Alerts are not an org's: coordinators are refused.
func (s *Service) Alerts(ctx context.Context, p auth.Principal, q Query, after AlertCursor, limit int) (api.AlertStats, error) {
	if !p.IsOfficer() && !p.IsAdmin() {
		return api.AlertStats{}, problem.Errorf(problem.Forbidden, "alert reach is for officers")
	}
	sc, err := s.scopeOf(ctx, p, Query{Period: q.Period})
	if err != nil {
		return api.AlertStats{}, err
	}
	var rows []struct {
		api.AlertStat
		RetractedAt *time.Time `bun:"retracted_at"`
	}
	pushed, displayed := push.ReachSQL("a.id")
	sel := s.db.NewSelect().TableExpr("alerts AS a").
		ColumnExpr("a.id AS alert_id, a.title, a.severity, a.region_code, a.published_at, a.retracted_at").
		ColumnExpr(auth.VolunteersSQL("a.region_code", "a.published_at")+" AS meant").
		ColumnExpr(pushed+" AS pushed").
		ColumnExpr("COALESCE((SELECT s.delivered FROM alert_reach AS s WHERE s.alert_id = a.id), "+
			"(SELECT sum(k.acks) FROM alert_ack_counts AS k WHERE k.alert_id = a.id), 0) AS delivered").
		ColumnExpr(displayed+" AS displayed").
		Where("a.published_at >= ? AND a.published_at < ?", sc.period.From, sc.period.End()).
		OrderExpr("a.published_at, a.id").Limit(int64(limit))
	if after.ID != "" {
		sel = sel.Where("(a.published_at > ? OR a.published_at = ? AND a.id > ?)", after.PublishedAt, after.PublishedAt, after.ID)
	}
	if sc.region != "" {
		sel = sel.Where("(a.region_code = ? OR a.region_code LIKE ?)", sc.region, sc.region+"%")
	}
	if err := sel.Scan(ctx, &rows); err != nil {
		return api.AlertStats{}, fmt.Errorf("alert reach: %w", err)
	}
	out := api.AlertStats{Scope: sc.api(), Items: make([]api.AlertStat, len(rows))}
	for i, row := range rows {
		row.AlertStat.Retracted = row.RetractedAt != nil
		row.AlertStat.PublishedAt = row.AlertStat.PublishedAt.UTC()
		// A volunteer whose devices acknowledged on two instances counts
		// on each; nobody counts past everyone meant.
		row.AlertStat.Delivered = min(row.AlertStat.Delivered, row.AlertStat.Meant)
		out.Items[i] = row.AlertStat
	}
	return out, nil
}
