package org

import (
	"context"
	"fmt"
	"time"

	"github.com/jarimu/jarimu/api"
)

// Version identifies the registry's state (for ETag and Last-Modified).
func (s *Service) Version(ctx context.Context) (count int, modified time.Time, err error) {
	var row struct {
		N       int        `bun:"n"`
		Updated *time.Time `bun:"updated"`
	}
	err = s.db.NewSelect().Model((*Org)(nil)).ColumnExpr("count(*) AS n, max(updated_at) AS updated").Scan(ctx, &row)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("registry version: %w", err)
	}
	if row.Updated != nil {
		modified = row.Updated.UTC()
	}
	return row.N, modified, nil
}

// Export streams the public registry, oldest first.
func (s *Service) Export(ctx context.Context, fn func(api.Org) error) error {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return err
	}
	rows, err := s.db.NewSelect().Model((*Org)(nil)).ColumnExpr("o.*").ColumnExpr(memberCount).OrderExpr("o.id ASC").Rows(ctx)
	if err != nil {
		return fmt.Errorf("export registry: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o Org
		if err := s.db.ScanRow(ctx, rows, &o); err != nil {
			return fmt.Errorf("export registry: %w", err)
		}
		if err := fn(o.API(now)); err != nil {
			return err
		}
	}
	return rows.Err()
}
