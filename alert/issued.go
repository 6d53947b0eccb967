package alert

import (
	"context"
	"fmt"
)

// Issued is how many alerts of one severity were published in one month
// (UTC), and how many of those were later retracted.
type Issued struct {
	Month     string `bun:"month" json:"month"`
	Severity  string `bun:"severity" json:"severity"`
	Issued    int    `bun:"issued" json:"issued"`
	Retracted int    `bun:"retracted" json:"retracted"`
}

// IssuedByMonth counts alerts by month of publication and severity, oldest
// month first (counts only: no issuer).
func (s *Service) IssuedByMonth(ctx context.Context) ([]Issued, error) {
	month := "substr(" + s.db.DayUTC("a.published_at") + ", 1, 7)"
	out := []Issued{}
	err := s.db.NewSelect().Model((*Alert)(nil)).
		ColumnExpr(month+" AS month").ColumnExpr("a.severity AS severity").ColumnExpr("count(*) AS issued").
		ColumnExpr("sum(CASE WHEN a.retracted_at IS NOT NULL THEN 1 ELSE 0 END) AS retracted").
		GroupExpr(month).GroupExpr("a.severity").OrderExpr("month ASC, severity ASC").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("alerts issued: %w", err)
	}
	return out, nil
}
