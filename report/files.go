package report

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/auth"
)

// An evidence file is kept once however many reports refer to it, and
// deleted once none does (an erasure, the retention, an upload whose
// report went away). Its deletion and a report coming to refer to it take
// turns on the file's lock (withFile): a deletion checks that no report
// refers to it and deletes it holding the lock alone; an upload stores it
// again if it is gone and writes the row that refers to it holding the
// lock shared (uploads of the same file run together).
//
// An upload in progress has its own row in evidence_uploads, from before
// its file is first stored until its row in evidence is written, or, when
// it fails, until the file is queued for deletion in its place: so neither
// a deletion of the same file (another report's, another upload's that
// failed) nor the delete_evidence chore, which may run at any time during
// the upload, leaves a file that nothing names. A row left by an upload
// that never ended (its instance died, the database went away) is queued
// by the chore once older than uploadHold, by the database's clock; an
// upload is stored and recorded within storeTimeout, far less.

// evidenceDeletion is a file that may be unused: of deleted reports, or
// uploaded and not yet referred to. It stays queued until it is deleted or
// found in use.
type evidenceDeletion struct {
	bun.BaseModel `bun:"table:evidence_deletions"`

	SHA256   string    `bun:"sha256,pk"`
	QueuedAt time.Time `bun:"queued_at"` // the instance's clock: for the order and the operator only
}

// storeTimeout bounds an upload from its evidence_uploads row to its end:
// storing the file and recording it. Past it the upload fails as
// unavailable. uploadHold is how long the delete_evidence chore leaves an
// upload's row alone: far longer, so that no upload still under way is
// taken for one that died.
const (
	storeTimeout = 5 * time.Minute
	uploadHold   = time.Hour
)

// evidenceUpload is an upload in progress (see above).
type evidenceUpload struct {
	bun.BaseModel `bun:"table:evidence_uploads"`

	ID        string    `bun:"id,pk"`
	SHA256    string    `bun:"sha256"`
	StartedAt time.Time `bun:"started_at"` // the database's clock
}

// beginUpload records an upload of the file sha before the file is stored.
func (s *Service) beginUpload(ctx context.Context, sha string) (*evidenceUpload, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return nil, err
	}
	up := &evidenceUpload{ID: auth.NewID(), SHA256: sha, StartedAt: now}
	if _, err := s.db.NewInsert().Model(up).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record upload: %w", err)
	}
	return up, nil
}

// endUpload removes, inside q, the row of an upload that has ended.
func endUpload(ctx context.Context, q bun.IDB, up *evidenceUpload) error {
	if _, err := q.NewDelete().Model(up).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("end upload: %w", err)
	}
	return nil
}

// abandonUpload ends a failed upload: its file is queued for deletion in
// the same transaction that removes its row.
func (s *Service) abandonUpload(ctx context.Context, up *evidenceUpload) error {
	return s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := endUpload(ctx, tx, up); err != nil {
			return err
		}
		return queueFiles(ctx, tx, []string{up.SHA256})
	})
}

// expireUploads queues the files of uploads older than uploadHold (which
// never ended: their instance died, or the database went away) for
// deletion, removing their rows in the same transaction, a batch at a time.
func (s *Service) expireUploads(ctx context.Context) error {
	return s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		var ups []evidenceUpload
		q := tx.NewSelect().Model(&ups).Where("started_at < ?", now.Add(-uploadHold)).OrderExpr("started_at").Limit(sweepBatch)
		if err := s.db.ForUpdate(q).Scan(ctx); err != nil {
			return fmt.Errorf("expired uploads: %w", err)
		}
		if len(ups) == 0 {
			return nil
		}
		ids := make([]string, len(ups))
		shas := make([]string, len(ups))
		for i, up := range ups {
			ids[i], shas[i] = up.ID, up.SHA256
		}
		slices.Sort(shas)
		if _, err := tx.NewDelete().Model((*evidenceUpload)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("expired uploads: %w", err)
		}
		return queueFiles(ctx, tx, slices.Compact(shas))
	})
}

// queueFiles queues the files shas for deletion, inside q.
func queueFiles(ctx context.Context, q bun.IDB, shas []string) error {
	if len(shas) == 0 {
		return nil
	}
	now := time.Now().UTC()
	rows := make([]evidenceDeletion, len(shas))
	for i, sha := range shas {
		rows[i] = evidenceDeletion{SHA256: sha, QueuedAt: now}
	}
	if _, err := q.NewInsert().Model(&rows).On("CONFLICT (sha256) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("queue evidence deletions: %w", err)
	}
	return nil
}

// withFile runs store and then, in a transaction, rows, holding the lock
// of the evidence file sha, shared or alone. On PostgreSQL it is a
// transaction advisory lock taken first in the transaction, and store runs
// in it too (q is the transaction). On SQLite, where one process serves
// the database, it is a lock of this process, and store runs before the
// transaction (q is the database): the store's I/O (a bucket's requests)
// holds no write lock that every other writer would wait for.
func (s *Service) withFile(ctx context.Context, sha string, shared bool, store func(ctx context.Context, q bun.IDB) error, rows func(ctx context.Context, tx bun.Tx) error) error {
	if !s.db.Postgres() {
		defer s.fileLocks.lock(sha, shared)()
		if err := ctx.Err(); err != nil { // it may have ended while waiting
			return err
		}
		if err := store(ctx, s.db); err != nil {
			return err
		}
		return s.db.Tx(ctx, rows)
	}
	return s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.db.TxLock(ctx, tx, "evidence:"+sha, shared); err != nil {
			return err
		}
		if err := store(ctx, tx); err != nil {
			return err
		}
		return rows(ctx, tx)
	})
}

// fileLocks are this process's locks of evidence files, by sha, held
// while anyone uses them.
type fileLocks struct {
	mu sync.Mutex
	m  map[string]*fileLock
}

type fileLock struct {
	sync.RWMutex
	users int
}

// lock takes the lock of sha, shared or alone, and returns its unlock.
func (l *fileLocks) lock(sha string, shared bool) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*fileLock{}
	}
	f := l.m[sha]
	if f == nil {
		f = &fileLock{}
		l.m[sha] = f
	}
	f.users++
	l.mu.Unlock()
	if shared {
		f.RLock()
	} else {
		f.Lock()
	}
	return func() {
		if shared {
			f.RUnlock()
		} else {
			f.Unlock()
		}
		l.mu.Lock()
		if f.users--; f.users == 0 {
			delete(l.m, sha)
		}
		l.mu.Unlock()
	}
}

// DeleteFiles deletes the queued evidence files that no report refers to
// (a report may still, or again), and takes each off the queue once deleted
// or in use: a file in use leaves the queue only while a report still
// refers to it, so that a deletion of that report committed meanwhile,
// whose queueing found this row there, is not lost with it. Each file is
// checked and deleted holding its lock alone (withFile). It goes on past a
// failure and returns the first one; a failed file goes to the back of the
// queue for SweepFiles. It returns how many it deleted.
func (s *Service) DeleteFiles(ctx context.Context, shas []string) (int, error) {
	var first error
	deleted := 0
	for _, sha := range shas {
		var used, gone bool
		err := s.withFile(ctx, sha, false, func(ctx context.Context, q bun.IDB) error {
			var err error
			if used, err = inUse(ctx, q, sha); err != nil || used {
				return err
			}
			if err := s.files.Delete(ctx, sha); err != nil {
				return err
			}
			gone = true
			return nil
		}, func(ctx context.Context, tx bun.Tx) error {
			q := tx.NewDelete().Model((*evidenceDeletion)(nil)).Where("sha256 = ?", sha)
			if used {
				q = q.Where("EXISTS (SELECT 1 FROM evidence WHERE sha256 = ?)", sha)
			}
			_, err := q.Exec(ctx)
			return err
		})
		if gone {
			deleted++
		}
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

// SweepFiles works through the queued evidence files, the longest waiting
// first (the delete_evidence chore): those whose deletion failed, and
// those of uploads that failed, or never ended (an instance that died, the
// database gone away) and were queued once past uploadHold. It returns how
// many it deleted.
func (s *Service) SweepFiles(ctx context.Context) (int64, error) {
	if err := s.expireUploads(ctx); err != nil {
		return 0, err
	}
	var shas []string
	err := s.db.NewSelect().Model((*evidenceDeletion)(nil)).Column("sha256").
		OrderExpr("queued_at, sha256").Limit(sweepBatch).Scan(ctx, &shas)
	if err != nil {
		return 0, fmt.Errorf("queued evidence deletions: %w", err)
	}
	n, err := s.DeleteFiles(ctx, shas)
	return int64(n), err
}
