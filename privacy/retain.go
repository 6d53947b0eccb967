package privacy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
)

// Retention is how long things are kept after an election (the
// JARIMU_RETENTION_* settings). Each period counts from ElectionDate, the
// voting day; with no ElectionDate nothing is deleted by age. A zero period
// keeps those things.
type Retention struct {
	ElectionDate time.Time
	// Reports: unverified and rejected reports (never verified), with
	// their evidence files, made before ElectionDate+Reports are deleted
	// once that time has passed.
	Reports time.Duration
	// Claims: claims that ended before ElectionDate+Claims are deleted
	// once it has passed (except claims a report was filed under).
	Claims time.Duration
	// Accounts: volunteer accounts not used since ElectionDate are erased
	// once ElectionDate+Accounts has passed. Staff accounts are not.
	Accounts time.Duration
}

// Enabled says whether the retention deletes anything.
func (r Retention) Enabled() bool {
	return !r.ElectionDate.IsZero() && (r.Reports > 0 || r.Claims > 0 || r.Accounts > 0)
}

// RetainStats are what one run of Retain did.
type RetainStats struct {
	Reports  int
	Claims   int64
	Accounts int
}

// Retain applies the retention settings once, at the database time: the
// chore runs it hourly, on one instance of the cluster at a time.
func (s *Service) Retain(ctx context.Context) (RetainStats, error) {
	var st RetainStats
	if !s.ret.Enabled() {
		return st, nil
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return st, err
	}
	if d := s.ret.ElectionDate.Add(s.ret.Reports); s.ret.Reports > 0 && !now.Before(d) {
		if st.Reports, err = s.reports.DeleteUnverified(ctx, d); err != nil {
			return st, err
		}
	}
	if d := s.ret.ElectionDate.Add(s.ret.Claims); s.ret.Claims > 0 && !now.Before(d) {
		if st.Claims, err = s.tasks.DeleteEnded(ctx, d); err != nil {
			return st, err
		}
	}
	if d := s.ret.ElectionDate.Add(s.ret.Accounts); s.ret.Accounts > 0 && !now.Before(d) {
		if st.Accounts, err = s.eraseInactive(ctx, s.ret.ElectionDate); err != nil {
			return st, err
		}
	}
	return st, nil
}

// eraseInactive erases the volunteer accounts unused since cutoff.
func (s *Service) eraseInactive(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	for {
		ids, err := s.auth.Inactive(ctx, cutoff, 100)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		kept := 0
		for _, id := range ids {
			erased, err := s.EraseInactive(ctx, id, cutoff)
			if err != nil {
				return n, fmt.Errorf("erase inactive account: %w", err)
			}
			if erased {
				n++
			} else {
				kept++
			}
		}
		if kept == len(ids) {
			return n, nil // each listed one was used since: nothing more is due now
		}
	}
}

// EraseInactive erases the volunteer account userID if, read under the
// erasure's lock, it is still unused since cutoff (signed in or refreshed;
// or made, for one never used): one listed as inactive that signed in just
// after is kept (false). A sign-in locks the account first too, so the two
// run one after the other.
func (s *Service) EraseInactive(ctx context.Context, userID string, cutoff time.Time) (bool, error) {
	_, err := s.erase(ctx, audit.System, userID, "retention", "inactive since the election", func(u *auth.User) bool {
		return u.InactiveSince(cutoff)
	})
	if errors.Is(err, errKept) {
		return false, nil
	}
	return err == nil, err
}

// RunRetention applies the retention hourly until ctx ends, on one instance
// of the cluster at a time (db.TryLock; an instance that finds the lock
// taken leaves the turn to its holder).
func (s *Service) RunRetention(ctx context.Context, every time.Duration) {
	if !s.ret.Enabled() {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.retainOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) retainOnce(ctx context.Context) {
	unlock, ok, err := s.db.TryLock(ctx, "chore:retention")
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("retention", slog.String("error", err.Error()))
		}
		return
	}
	defer unlock()
	st, err := s.Retain(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("retention", slog.String("error", err.Error()))
	}
	if st.Reports+st.Accounts > 0 || st.Claims > 0 {
		s.log.Info("retention", slog.Int("reports_deleted", st.Reports), slog.Int64("claims_deleted", st.Claims), slog.Int("accounts_erased", st.Accounts))
	}
}
