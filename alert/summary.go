package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
)

// AckRetention is how long after an alert's publication its counted
// acknowledgements (alert_ack_counts, rows per flush and delay bucket) are
// kept: 30 days, long past the hours in which an alert matters. Then they
// are summed up in alert_reach, which the reach is read from from then on,
// and removed.
const AckRetention = 30 * 24 * time.Hour

// delivery is how many volunteers acknowledged an alert and the delay
// percentiles of their acknowledgements (alert_reach, or computed).
type delivery struct {
	bun.BaseModel `bun:"table:alert_reach"`

	AlertID      string    `bun:"alert_id,pk"`
	Delivered    int       `bun:"delivered"`
	P50Ms        *int64    `bun:"p50_ms"` // nil when nobody acknowledged it
	P90Ms        *int64    `bun:"p90_ms"`
	SummarisedAt time.Time `bun:"summarised_at"`
}

// delivery reads alert id's summary when it has one, else sums up its
// acknowledgements now.
func (s *Service) delivery(ctx context.Context, id string) (delivery, error) {
	var d delivery
	err := s.db.NewSelect().Model(&d).Where("alert_id = ?", id).Scan(ctx)
	switch {
	case err == nil:
		return d, nil
	case !db.IsNoRows(err):
		return d, err
	}
	return sumAcks(ctx, s.db, id)
}

// sumAcks sums up alert id's counted acknowledgements: how many and the
// nearest-rank p50 and p90 of their delays, each the bound of its bucket.
func sumAcks(ctx context.Context, q bun.IDB, id string) (delivery, error) {
	var buckets []struct {
		BucketMs int64 `bun:"bucket_ms"`
		Acks     int   `bun:"acks"`
	}
	err := q.NewSelect().Table("alert_ack_counts").ColumnExpr("bucket_ms, SUM(acks) AS acks").Where("alert_id = ?", id).
		Group("bucket_ms").Order("bucket_ms").Scan(ctx, &buckets)
	if err != nil {
		return delivery{}, err
	}
	d := delivery{AlertID: id}
	for _, b := range buckets {
		d.Delivered += b.Acks
	}
	if d.Delivered > 0 {
		rank := func(pct int) int64 { // nearest rank: the smallest with pct% at or below
			want, seen := max((pct*d.Delivered+99)/100, 1), 0
			for _, b := range buckets {
				if seen += b.Acks; seen >= want {
					return b.BucketMs
				}
			}
			return buckets[len(buckets)-1].BucketMs
		}
		p50, p90 := rank(50), rank(90)
		d.P50Ms, d.P90Ms = &p50, &p90
	}
	return d, nil
}

// SummariseAcks sums up the acknowledgements of every alert published more
// than AckRetention ago that still has alert_ack_counts rows into
// alert_reach, and removes those rows; it returns how many went. An alert is summed up
// once: acknowledgements that arrive after its summary (a phone back after
// a month away) are removed uncounted, so its reach never changes again.
func (s *Service) SummariseAcks(ctx context.Context) (int64, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return 0, err
	}
	var ids []string
	err = s.db.NewSelect().Model((*Alert)(nil)).Column("a.id").
		Where("a.published_at < ?", now.Add(-AckRetention)).
		Where("EXISTS (SELECT 1 FROM alert_ack_counts k WHERE k.alert_id = a.id)").
		Order("a.id").Scan(ctx, &ids)
	if err != nil {
		return 0, fmt.Errorf("summarise acks: %w", err)
	}
	var removed int64
	for _, id := range ids {
		err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			d, err := sumAcks(ctx, tx, id)
			if err != nil {
				return err
			}
			d.SummarisedAt = now
			if _, err := tx.NewInsert().Model(&d).On("CONFLICT (alert_id) DO NOTHING").Exec(ctx); err != nil {
				return err
			}
			res, err := tx.NewDelete().Model((*ackCount)(nil)).Where("alert_id = ?", id).Exec(ctx)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			removed += n
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("summarise acks of %s: %w", id, err)
		}
	}
	return removed, nil
}
