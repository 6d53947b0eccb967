package report

import (
	"context"
	"fmt"
	"io"

	"github.com/jarimu/jarimu/api"
)

// Of reads up to limit of the reports userID filed, oldest first, after the
// report id after ("" from the start), each with its takedown history and
// evidence list: the person's own reports for their data export.
func (s *Service) Of(ctx context.Context, userID, after string, limit int) ([]Report, error) {
	var rs []Report
	q := s.db.NewSelect().Model(&rs).ColumnExpr("r.*").ColumnExpr(clusterSize).
		Where("r.reporter_id = ?", userID).OrderExpr("r.id ASC").Limit(int64(limit))
	if after != "" {
		q = q.Where("r.id > ?", after)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("reports of user: %w", err)
	}
	return rs, nil
}

// View is a report as its reporter reads it: with takedown history and
// evidence list.
func (s *Service) View(ctx context.Context, r *Report) (api.Report, error) {
	return s.view(ctx, s.db, r)
}

// OpenFile reads a stored evidence file whole (for a data export).
func (s *Service) OpenFile(ctx context.Context, sha string) (io.ReadCloser, error) {
	return s.files.Open(ctx, sha, 0, -1)
}
