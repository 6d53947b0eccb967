package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
)

// Forgotten is what ForgetReporter did.
type Forgotten struct {
	Deleted int // reports deleted with their evidence (never verified)
	Kept    int // verified reports kept for the record, de-identified
	// DeletedIDs and KeptIDs are the reports deleted and kept: the
	// erasure redacts what others hold of the deleted ones (feed events,
	// stored answers) and marks the kept ones' events.
	DeletedIDs, KeptIDs []string
	// Files are the evidence files of the deleted reports, queued in
	// evidence_deletions in the same transaction: after it commits,
	// DeleteFiles deletes those no report refers to any more; what fails
	// is tried again (SweepFiles). All are queued, not only those this
	// transaction saw unused: two deletions sharing a file, running
	// together, would each see the other's row and neither queue it.
	Files []string
	// Unused is how many of Files this transaction saw no report refer
	// to any more: the erasure's count of files deleted.
	Unused int
}

// ForgetReporter, inside tx, deletes the reports userID filed that were not
// verified (submitted, endorsed, rejected, duplicate), with their takedown
// steps and evidence rows; verified reports stay as Bawaslu's record, and
// show their reporter as an erased account once the account is erased.
func ForgetReporter(ctx context.Context, tx bun.Tx, userID string) (Forgotten, error) {
	var out Forgotten
	gone, err := lockIDs(ctx, tx, tx.NewSelect().Model((*Report)(nil)).Column("id").
		Where("reporter_id = ? AND status <> ?", userID, api.ReportVerified).OrderExpr("id"))
	if err != nil {
		return out, fmt.Errorf("list reports to delete: %w", err)
	}
	if len(gone) > 0 {
		out.DeletedIDs = gone
		ids := tx.NewSelect().Model((*Report)(nil)).Column("id").Where("id IN (?)", bun.In(gone))
		if err := deleteReports(ctx, tx, ids, &out); err != nil {
			return out, err
		}
	}
	// What is left was verified: kept.
	err = tx.NewSelect().Model((*Report)(nil)).Column("id").Where("reporter_id = ?", userID).Scan(ctx, &out.KeptIDs)
	if err != nil {
		return out, fmt.Errorf("list kept reports: %w", err)
	}
	out.Kept = len(out.KeptIDs)
	return out, nil
}

// lockIDs reads the ids q selects and, on PostgreSQL, locks their rows until
// tx ends (on SQLite the write transaction holds the database already): a
// report verified meanwhile (the workflow locks it the same way) is either
// verified before, and then not selected, or waits and finds it deleted.
// Without the lock, a report verified between the statements of a deletion
// could lose its evidence rows and stay, or be deleted verified.
func lockIDs(ctx context.Context, tx bun.Tx, q *bun.SelectQuery) ([]string, error) {
	if tx.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	var ids []string
	err := q.Scan(ctx, &ids)
	return ids, err
}

// erasedKeys are what the event of a report deleted with its reporter's
// account keeps of the report object: which report it was, where it
// belonged and how far it had come, nothing the reporter wrote or sent.
var erasedKeys = []string{"id", "reporter_id", "org_id", "region_code", "region_name", "status", "created_at", "updated_at"}

// RedactEvents rewrites, inside tx, the report.submitted events (on
// reviewers' streams, until they expire) of the reports userID filed,
// whose account is being erased: those of a report kept for the record
// (kept, from ForgetReporter) say reporter_erased as the report does;
// those of a deleted report keep only erasedKeys and say deleted. The
// reporter's own stream is forgotten whole by the erasure.
func RedactEvents(ctx context.Context, tx bun.Tx, userID string, kept []string) (int, error) {
	return event.Redact(ctx, tx, "report.submitted", "reporter_id", userID, func(data map[string]any) bool {
		id, _ := data["id"].(string)
		if slices.Contains(kept, id) {
			if data["reporter_erased"] == true {
				return false
			}
			data["reporter_erased"] = true
			return true
		}
		for k := range data {
			if !slices.Contains(erasedKeys, k) {
				delete(data, k)
			}
		}
		data["reporter_erased"], data["deleted"] = true, true
		return true
	})
}

// deleteReports deletes the reports ids selects, with their takedowns and
// evidence rows, queues their evidence files for deletion, and adds to out
// what it deleted and queued.
func deleteReports(ctx context.Context, tx bun.Tx, ids *bun.SelectQuery, out *Forgotten) error {
	var shas []string
	err := tx.NewSelect().Model((*evidenceRow)(nil)).Distinct().Column("sha256").Where("report_id IN (?)", ids).Scan(ctx, &shas)
	if err != nil {
		return fmt.Errorf("evidence of deleted reports: %w", err)
	}
	for _, table := range []any{(*evidenceRow)(nil), (*takedown)(nil)} {
		if _, err := tx.NewDelete().Model(table).Where("report_id IN (?)", ids).Exec(ctx); err != nil {
			return fmt.Errorf("delete report history: %w", err)
		}
	}
	res, err := tx.NewDelete().Model((*Report)(nil)).Where("id IN (?)", ids).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete reports: %w", err)
	}
	n, _ := res.RowsAffected()
	out.Deleted += int(n)
	out.Files = append(out.Files, shas...)
	for _, sha := range shas {
		used, err := inUse(ctx, tx, sha)
		if err != nil {
			return err
		}
		if !used {
			out.Unused++
		}
	}
	return queueFiles(ctx, tx, shas)
}

// DeleteUnverified deletes, in batches of one transaction each, the
// reports never verified (submitted, endorsed, rejected, duplicate) made
// before cutoff, with their takedown steps and evidence rows, then the
// evidence files left unused: the retention of unverified reports.
func (s *Service) DeleteUnverified(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		var out Forgotten
		err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			batch, err := lockIDs(ctx, tx, tx.NewSelect().Model((*Report)(nil)).Column("id").
				Where("status <> ? AND created_at < ?", api.ReportVerified, cutoff).OrderExpr("id").Limit(200))
			if err != nil || len(batch) == 0 {
				return err
			}
			q := tx.NewSelect().Model((*Report)(nil)).Column("id").Where("id IN (?)", bun.In(batch))
			return deleteReports(ctx, tx, q, &out)
		})
		if err != nil {
			return total, fmt.Errorf("retain reports: %w", err)
		}
		total += out.Deleted
		// A file that cannot be deleted now stays queued, and the
		// delete_evidence chore tries it again (and reports it): the
		// retention goes on.
		s.DeleteFiles(ctx, out.Files)
		if out.Deleted == 0 {
			return total, nil
		}
	}
}
