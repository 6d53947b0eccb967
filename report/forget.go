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
		Where("reporter_id = ? AND status <> ?", userID, api.ReportVerified))
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
	if len(shas) > 0 {
		now := time.Now().UTC()
		rows := make([]evidenceDeletion, len(shas))
		for i, sha := range shas {
			rows[i] = evidenceDeletion{SHA256: sha, QueuedAt: now}
		}
		if _, err := tx.NewInsert().Model(&rows).On("CONFLICT (sha256) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("queue evidence deletions: %w", err)
		}
	}
	return nil
}

// evidenceDeletion is a file of deleted reports, until it is deleted or
// found in use.
type evidenceDeletion struct {
	bun.BaseModel `bun:"table:evidence_deletions"`

	SHA256   string    `bun:"sha256,pk"`
	QueuedAt time.Time `bun:"queued_at"` // the instance's clock: for the order and the operator only
}

// DeleteFiles deletes the queued evidence files that no report refers to
// (a report may still, or again), and takes each off the queue once deleted
// or in use: a file in use leaves the queue only while a report still
// refers to it, so that a deletion of that report committed meanwhile,
// whose queueing found this row there, is not lost with it. Each file is
// checked and deleted holding its lock (fileLock), which AddEvidence takes
// to store the file again before a report refers to it. It goes on past a
// failure and returns the first one; a failed file goes to the back of the
// queue for SweepFiles. It returns how many it deleted.
func (s *Service) DeleteFiles(ctx context.Context, shas []string) (int, error) {
	var first error
	deleted := 0
	for _, sha := range shas {
		err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := s.db.TxLock(ctx, tx, fileLock(sha)); err != nil {
				return err
			}
			used, err := inUse(ctx, tx, sha)
			switch {
			case err != nil:
				return err
			case used:
				_, err = tx.NewDelete().Model((*evidenceDeletion)(nil)).
					Where("sha256 = ? AND EXISTS (SELECT 1 FROM evidence WHERE sha256 = ?)", sha, sha).Exec(ctx)
				return err
			}
			if err := s.files.Delete(ctx, sha); err != nil {
				return err
			}
			deleted++
			_, err = tx.NewDelete().Model((*evidenceDeletion)(nil)).Where("sha256 = ?", sha).Exec(ctx)
			return err
		})
		if err != nil {
			if first == nil {
				first = fmt.Errorf("delete evidence file: %w", err)
			}
			// Behind the others: files that keep failing do not hold
			// up the rest of the queue.
			s.db.NewUpdate().Model((*evidenceDeletion)(nil)).Set("queued_at = ?", time.Now().UTC()).Where("sha256 = ?", sha).Exec(ctx)
		}
	}
	return deleted, first
}

// fileLock names the lock of the evidence file sha: its deletion and a
// report coming to refer to it again take turns.
func fileLock(sha string) string {
	return "evidence:" + sha
}

// inUse reports whether a report refers to the evidence file sha.
func inUse(ctx context.Context, q bun.IDB, sha string) (bool, error) {
	used, err := q.NewSelect().Model((*evidenceRow)(nil)).Where("sha256 = ?", sha).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("evidence in use: %w", err)
	}
	return used, nil
}

// sweepBatch is how many queued deletions one SweepFiles pass tries.
const sweepBatch = 500

// SweepFiles tries again the evidence files whose deletion failed, the
// longest waiting first (the delete_evidence chore): how many it deleted.
func (s *Service) SweepFiles(ctx context.Context) (int64, error) {
	var shas []string
	err := s.db.NewSelect().Model((*evidenceDeletion)(nil)).Column("sha256").
		OrderExpr("queued_at, sha256").Limit(sweepBatch).Scan(ctx, &shas)
	if err != nil {
		return 0, fmt.Errorf("queued evidence deletions: %w", err)
	}
	n, err := s.DeleteFiles(ctx, shas)
	return int64(n), err
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
