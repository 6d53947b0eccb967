package idempotency_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/idempotency"
	"github.com/jarimu/jarimu/problem"
)

// age makes every stored attempt look started long ago (an instance died).
func age(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := d.NewRaw("UPDATE idempotency_keys SET created_at = ?", time.Now().Add(-5*time.Minute)).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// An attempt whose transaction committed but whose answer was never stored
// (the instance died in between) is never run again; one that died before
// committing is taken over by the next retry.
func TestCrashBetweenCommitAndAnswer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := idempotency.NewStore(d)
		s.Wait = 100 * time.Millisecond
		h := idempotency.Hash("POST", "/v1/reports", []byte(`{}`))
		if _, owned, err := s.Begin(ctx, "u1", "k-applied", h); err != nil || !owned {
			t.Fatalf("first attempt: owned %v, %v", owned, err)
		}
		log := event.NewLog(d, nil)
		hooked := event.WithBeforeCommit(ctx, func(ctx context.Context, tx bun.IDB) error {
			return idempotency.MarkApplied(ctx, tx, "u1", "k-applied")
		})
		if err := log.Tx(hooked, func(ctx context.Context, tx bun.Tx) error {
			_, err := event.Append(ctx, tx, "user:u1", "report.submitted", struct{}{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, owned, err := s.Begin(ctx, "u1", "k-pending", h); err != nil || !owned {
			t.Fatalf("second key: owned %v, %v", owned, err)
		}
		age(t, d)
		_, owned, err := s.Begin(ctx, "u1", "k-applied", h)
		if owned || !problem.Is(err, "idempotency-applied") {
			t.Fatalf("retry after a committed attempt: owned %v, err %v; want idempotency-applied", owned, err)
		}
		if _, owned, err := s.Begin(ctx, "u1", "k-pending", h); err != nil || !owned {
			t.Fatalf("retry after an uncommitted attempt: owned %v, err %v; want it taken over", owned, err)
		}
		// While the owner may still be answering, a retry waits, then 409.
		if _, owned, err := s.Begin(ctx, "u1", "k-pending", h); owned || !problem.Is(err, "idempotency-in-progress") {
			t.Fatalf("concurrent retry: owned %v, err %v; want idempotency-in-progress", owned, err)
		}
	})
}

// A request still running when its user's access shrinks (Withhold) has
// its answer withheld when it finishes, as one already stored is: a retry
// of a success gets idempotency-applied, a refusal is forgotten and runs
// again; an attempt taken over afterwards runs with the access of now.
func TestWithholdWhileRunning(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := idempotency.NewStore(d)
		s.Wait = 100 * time.Millisecond
		h := idempotency.Hash("POST", "/v1/orgs/o/invites", []byte(`{}`))
		for _, k := range []string{"k-ok", "k-refused", "k-done"} {
			if _, owned, err := s.Begin(ctx, "u1", k, h); err != nil || !owned {
				t.Fatalf("%s: owned %v, %v", k, owned, err)
			}
		}
		if err := s.Finish(ctx, "u1", "k-done", idempotency.Record{Status: 201, Body: []byte(`{"code":"RAHASIA"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := idempotency.Withhold(ctx, d, "u1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "u1", "k-ok", idempotency.Record{Status: 201, Body: []byte(`{"code":"RAHASIA"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "u1", "k-refused", idempotency.Record{Status: 409, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"k-ok", "k-done"} {
			if rec, owned, err := s.Begin(ctx, "u1", k, h); owned || rec != nil || !problem.Is(err, "idempotency-applied") {
				t.Errorf("retry of %s: %+v, owned %v, %v; want idempotency-applied without the answer", k, rec, owned, err)
			}
		}
		if _, owned, err := s.Begin(ctx, "u1", "k-refused", h); err != nil || !owned {
			t.Errorf("retry of the refusal: owned %v, %v; want it run again", owned, err)
		}
		// An attempt abandoned before its commit and taken over afterwards
		// is not withheld.
		if _, owned, err := s.Begin(ctx, "u1", "k-later", h); err != nil || !owned {
			t.Fatal(owned, err)
		}
		if err := idempotency.Withhold(ctx, d, "u1"); err != nil {
			t.Fatal(err)
		}
		age(t, d)
		if _, owned, err := s.Begin(ctx, "u1", "k-later", h); err != nil || !owned {
			t.Fatalf("take over: owned %v, %v", owned, err)
		}
		if err := s.Finish(ctx, "u1", "k-later", idempotency.Record{Status: 201, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if rec, _, err := s.Begin(ctx, "u1", "k-later", h); err != nil || rec == nil || rec.Status != 201 {
			t.Errorf("retry of the taken-over attempt: %+v, %v; want its answer replayed", rec, err)
		}
	})
}
