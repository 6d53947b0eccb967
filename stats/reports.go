package stats

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/region"
)

// National is the province key of reports filed without a region.
const National = "national"

// Findings counts the reports filed in the period per UTC day and
// category, days in order.
func (s *Service) Findings(ctx context.Context, p auth.Principal, q Query) (api.FindingsStats, error) {
	sc, err := s.scopeOf(ctx, p, q)
	if err != nil {
		return api.FindingsStats{}, err
	}
	day := s.db.DayUTC("r.created_at")
	out := api.FindingsStats{Scope: sc.api(), Items: []api.FindingDay{}}
	err = sc.reports(s.db.NewSelect().TableExpr("reports AS r")).
		ColumnExpr(day+" AS day").ColumnExpr("r.category AS category").ColumnExpr("count(*) AS reports").
		GroupExpr(day+", r.category").OrderExpr("day ASC, category ASC").Scan(ctx, &out.Items)
	if err != nil {
		return api.FindingsStats{}, fmt.Errorf("findings per day: %w", err)
	}
	return out, nil
}

// Funnel counts the reports filed in the period by where each stands now.
func (s *Service) Funnel(ctx context.Context, p auth.Principal, q Query) (api.FunnelStats, error) {
	sc, err := s.scopeOf(ctx, p, q)
	if err != nil {
		return api.FunnelStats{}, err
	}
	var row struct {
		Filed, Submitted, Endorsed, Verified, Rejected, Duplicate int
	}
	sel := s.db.NewSelect().TableExpr("reports AS r").ColumnExpr("count(*) AS filed")
	for _, st := range []string{api.ReportSubmitted, api.ReportEndorsed, api.ReportVerified, api.ReportRejected, api.ReportDuplicate} {
		sel = sel.ColumnExpr("COALESCE(sum(CASE WHEN r.status = ? THEN 1 ELSE 0 END), 0) AS ?", st, bun.Ident(st))
	}
	if err := sc.reports(sel).Scan(ctx, &row); err != nil {
		return api.FunnelStats{}, fmt.Errorf("funnel: %w", err)
	}
	return api.FunnelStats{Scope: sc.api(), Filed: row.Filed, Submitted: row.Submitted, Endorsed: row.Endorsed,
		Verified: row.Verified, Rejected: row.Rejected, Duplicate: row.Duplicate}, nil
}

// Provinces counts the reports filed in the period, and those verified,
// per province ("national" for those without a region), most first.
func (s *Service) Provinces(ctx context.Context, p auth.Principal, q Query) (api.ProvinceStats, error) {
	sc, err := s.scopeOf(ctx, p, q)
	if err != nil {
		return api.ProvinceStats{}, err
	}
	key := "COALESCE(substr(r.region_code, 1, 2), '" + National + "')"
	out := api.ProvinceStats{Scope: sc.api(), Items: []api.ProvinceStat{}}
	err = sc.reports(s.db.NewSelect().TableExpr("reports AS r")).
		ColumnExpr(key+" AS province_code").ColumnExpr("count(*) AS reports").
		ColumnExpr("COALESCE(sum(CASE WHEN r.status = ? THEN 1 ELSE 0 END), 0) AS verified", api.ReportVerified).
		GroupExpr(key).OrderExpr("reports DESC, province_code ASC").Scan(ctx, &out.Items)
	if err != nil {
		return api.ProvinceStats{}, fmt.Errorf("findings per province: %w", err)
	}
	for i, it := range out.Items {
		if name, ok := region.ProvinceName(it.ProvinceCode); ok {
			out.Items[i].ProvinceName = name
		}
	}
	return out, nil
}
