package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/jarimu/jarimu/api"
)

// The public transparency report: counts of takedowns and verified findings,
// and the verified findings Bawaslu publishes as fact checks. Counts and
// Bawaslu's own findings only: never a reporter, a note or an account.

// TakedownMonth is the takedown requests of one platform made in one month
// (UTC): how many, how they stand now, and the median days from the request
// to the content being taken down (nil when none was).
type TakedownMonth struct {
	Month      string   `json:"month"`
	Platform   string   `json:"platform"`
	Requested  int      `json:"requested"`
	TakenDown  int      `json:"taken_down"`
	Refused    int      `json:"refused"`
	Pending    int      `json:"pending"`
	MedianDays *float64 `json:"median_days_to_takedown"`
}

// takedownCase is one report's takedown: when it was requested, where it
// stands and when the content came down.
type takedownCase struct {
	platform  string
	requested time.Time
	status    string
	done      time.Time
}

// TakedownMonths counts takedown requests by the month they were made and
// the platform, oldest month first, platforms by name.
func (s *Service) TakedownMonths(ctx context.Context) ([]TakedownMonth, error) {
	var steps []struct {
		ReportID string    `bun:"report_id"`
		Platform string    `bun:"platform"`
		Status   string    `bun:"status"`
		At       time.Time `bun:"at"`
	}
	err := s.db.NewSelect().TableExpr("takedowns AS t").Join("JOIN reports AS r ON r.id = t.report_id").
		ColumnExpr("t.report_id, r.platform, t.status, t.at").OrderExpr("t.at ASC, t.id ASC").Scan(ctx, &steps)
	if err != nil {
		return nil, fmt.Errorf("takedown months: %w", err)
	}
	cases := map[string]*takedownCase{}
	for _, st := range steps {
		c := cases[st.ReportID]
		if c == nil {
			c = &takedownCase{platform: st.Platform}
			cases[st.ReportID] = c
		}
		c.status = st.Status
		switch st.Status {
		case api.TakedownRequested:
			c.requested = st.At.UTC()
		case api.TakedownDone:
			c.done = st.At.UTC()
		}
	}
	return takedownMonths(cases), nil
}

// takedownMonths groups the cases by month of request and platform.
func takedownMonths(cases map[string]*takedownCase) []TakedownMonth {
	type key struct{ month, platform string }
	groups := map[key]*TakedownMonth{}
	days := map[key][]float64{}
	for _, c := range cases {
		if c.requested.IsZero() {
			continue // a history without its request: nothing to count
		}
		k := key{c.requested.Format("2006-01"), c.platform}
		g := groups[k]
		if g == nil {
			g = &TakedownMonth{Month: k.month, Platform: k.platform}
			groups[k] = g
		}
		g.Requested++
		switch c.status {
		case api.TakedownDone:
			g.TakenDown++
			days[k] = append(days[k], c.done.Sub(c.requested).Hours()/24)
		case api.TakedownRefused:
			g.Refused++
		default:
			g.Pending++
		}
	}
	out := make([]TakedownMonth, 0, len(groups))
	for k, g := range groups {
		g.MedianDays = median(days[k])
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Month != out[j].Month {
			return out[i].Month < out[j].Month
		}
		return out[i].Platform < out[j].Platform
	})
	return out
}

// median is the median of xs rounded to a tenth (the mean of the middle
// two of an even count); nil for none.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	m = math.Round(m*10) / 10
	return &m
}

// VerifiedCount is how many findings Bawaslu verified in one category and
// province ("" for national findings).
type VerifiedCount struct {
	Category string `bun:"category"`
	Province string `bun:"province"`
	Verified int    `bun:"verified"`
}

// VerifiedCounts counts verified findings by category and province, in
// that order.
func (s *Service) VerifiedCounts(ctx context.Context) ([]VerifiedCount, error) {
	const province = "COALESCE(substr(r.region_code, 1, 2), '')"
	var out []VerifiedCount
	err := s.db.NewSelect().Model((*Report)(nil)).
		ColumnExpr("r.category AS category").ColumnExpr(province+" AS province").ColumnExpr("count(*) AS verified").
		Where("r.status = ?", api.ReportVerified).
		GroupExpr("r.category").GroupExpr(province).OrderExpr("category ASC, province ASC").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("verified counts: %w", err)
	}
	return out, nil
}

// Finding is a verified finding as Bawaslu publishes it: the content, never
// who reported it.
type Finding struct {
	ID         string
	Summary    string // the public summary its officer gave, else the reporter's summary
	URL        string // normalised: without tracking parameters
	Platform   string
	Category   string
	RegionCode string // "" national
	VerifiedAt time.Time
}

// Findings lists the verified findings of a category, oldest verification
// first.
func (s *Service) Findings(ctx context.Context, category string) ([]Finding, error) {
	var rows []Report
	err := s.db.NewSelect().Model(&rows).Column("id", "summary", "public_summary", "normalized_url", "platform", "category", "region_code", "verified_at", "updated_at").
		Where("r.status = ? AND r.category = ?", api.ReportVerified, category).OrderExpr("r.verified_at ASC, r.id ASC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("verified findings: %w", err)
	}
	out := make([]Finding, len(rows))
	for i, r := range rows {
		at := r.UpdatedAt
		if r.VerifiedAt != nil {
			at = *r.VerifiedAt
		}
		summary := r.Summary
		if r.PublicSummary != nil {
			summary = *r.PublicSummary
		}
		out[i] = Finding{ID: r.ID, Summary: summary, URL: r.NormalizedURL, Platform: r.Platform, Category: r.Category,
			RegionCode: r.Region(), VerifiedAt: at.UTC()}
	}
	return out, nil
}

// LastChange is when any report last changed (zero when there is none): the
// Last-Modified of the datasets made from reports.
func (s *Service) LastChange(ctx context.Context) (time.Time, error) {
	var row struct {
		At *time.Time `bun:"at"`
	}
	if err := s.db.NewSelect().Model((*Report)(nil)).ColumnExpr("max(r.updated_at) AS at").Scan(ctx, &row); err != nil {
		return time.Time{}, fmt.Errorf("reports last change: %w", err)
	}
	if row.At == nil {
		return time.Time{}, nil
	}
	return row.At.UTC(), nil
}
