package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/jarimu/jarimu/api"
)

// Version identifies the current state of the alert dataset: how many
// alerts there are and how many are retracted, which every change (a
// publication, a retraction; alerts are never deleted or edited otherwise)
// raises, whatever order they commit in (the ETag); and when the last one
// changed by its own clock (Last-Modified: a change that commits after a
// later-stamped one leaves it as it was, so it cannot tell a copy current).
func (s *Service) Version(ctx context.Context) (count, retracted int, modified time.Time, err error) {
	var row struct {
		N         int        `bun:"n"`
		R         int        `bun:"r"`
		Published *time.Time `bun:"published"`
		Retracted *time.Time `bun:"retracted"`
	}
	err = s.db.NewSelect().Model((*Alert)(nil)).
		ColumnExpr("count(*) AS n, count(retracted_at) AS r, max(published_at) AS published, max(retracted_at) AS retracted").Scan(ctx, &row)
	if err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("alert dataset version: %w", err)
	}
	for _, t := range []*time.Time{row.Published, row.Retracted} {
		if t != nil && t.After(modified) {
			modified = *t
		}
	}
	return row.N, row.R, modified.UTC(), nil
}

// Export streams every alert, oldest first, to fn without holding the set in
// memory (open data: no issuer, no personal data).
func (s *Service) Export(ctx context.Context, fn func(api.Alert) error) error {
	rows, err := s.db.NewSelect().Model((*Alert)(nil)).OrderExpr("a.id ASC").Rows(ctx)
	if err != nil {
		return fmt.Errorf("export alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Alert
		if err := s.db.ScanRow(ctx, rows, &a); err != nil {
			return fmt.Errorf("export alerts: %w", err)
		}
		if err := fn(a.API()); err != nil {
			return err
		}
	}
	return rows.Err()
}
