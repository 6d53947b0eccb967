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

// begin starts an attempt at key that must be owned.
func begin(t *testing.T, s *idempotency.Store, key, hash string) *idempotency.Attempt {
	t.Helper()
	rec, a, err := s.Begin(context.Background(), "u1", key, hash)
	if err != nil || rec != nil || a == nil {
		t.Fatalf("%s: replay %+v, attempt %v, %v; want it owned", key, rec, a, err)
	}
	return a
}

// markApplied runs a transaction of a that appends an event and marks the
// attempt applied.
func markApplied(d *db.DB, a *idempotency.Attempt) error {
	hooked := event.WithBeforeCommit(context.Background(), func(ctx context.Context, tx bun.IDB) error {
		return idempotency.MarkApplied(ctx, tx, a)
	})
	return event.NewLog(d, nil).Tx(hooked, func(ctx context.Context, tx bun.Tx) error {
		_, err := event.Append(ctx, tx, "user:u1", "report.submitted", struct{}{})
		return err
	})
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
		if err := markApplied(d, begin(t, s, "k-applied", h)); err != nil {
			t.Fatal(err)
		}
		begin(t, s, "k-pending", h)
		age(t, d)
		_, a, err := s.Begin(ctx, "u1", "k-applied", h)
		if a != nil || !problem.Is(err, "idempotency-applied") {
			t.Fatalf("retry after a committed attempt: attempt %v, err %v; want idempotency-applied", a, err)
		}
		begin(t, s, "k-pending", h) // taken over
		// While the owner may still be answering, a retry waits, then 409.
		if _, a, err := s.Begin(ctx, "u1", "k-pending", h); a != nil || !problem.Is(err, "idempotency-in-progress") {
			t.Fatalf("concurrent retry: attempt %v, err %v; want idempotency-in-progress", a, err)
		}
	})
}

// A first attempt that was only slow, not dead, and was taken over by a
// retry no longer holds its key: its transaction fails at MarkApplied
// (idempotency-in-progress, nothing of it committed), and its Finish and
// Abandon leave the retry's attempt alone. The retry carries the request
// out once, and its answer is the one replayed.
func TestTakenOverAttemptDoesNotApply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := idempotency.NewStore(d)
		s.Wait = 100 * time.Millisecond
		h := idempotency.Hash("POST", "/v1/alerts", []byte(`{}`))
		for _, settle := range []string{"finish", "abandon"} {
			key := "k-slow-" + settle
			slow := begin(t, s, key, h)
			age(t, d)
			retry := begin(t, s, key, h)
			events := func() int {
				n, err := d.NewSelect().Table("events").Where("stream = 'user:u1'").Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return int(n)
			}
			before := events()
			if err := markApplied(d, slow); !problem.Is(err, "idempotency-in-progress") {
				t.Fatalf("%s: the slow attempt's commit: %v, want idempotency-in-progress", key, err)
			}
			if n := events(); n != before {
				t.Fatalf("%s: the slow attempt committed %d events", key, n-before)
			}
			var err error
			if settle == "finish" {
				err = s.Finish(ctx, slow, idempotency.Record{Status: 409, Body: []byte(`{"type":"idempotency-in-progress"}`)})
			} else {
				err = s.Abandon(ctx, slow)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := markApplied(d, retry); err != nil {
				t.Fatalf("%s: the retry's commit: %v", key, err)
			}
			if err := s.Finish(ctx, retry, idempotency.Record{Status: 201, Body: []byte(`{"id":"retry"}`)}); err != nil {
				t.Fatal(err)
			}
			if rec, a, err := s.Begin(ctx, "u1", key, h); err != nil || a != nil || rec == nil || rec.Status != 201 || string(rec.Body) != `{"id":"retry"}` {
				t.Fatalf("%s: a third try: %+v, attempt %v, %v; want the retry's answer", key, rec, a, err)
			}
			if n := events(); n != before+1 {
				t.Fatalf("%s: %d events committed, want the retry's one", key, n-before)
			}
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
		ok, refused, done := begin(t, s, "k-ok", h), begin(t, s, "k-refused", h), begin(t, s, "k-done", h)
		if err := s.Finish(ctx, done, idempotency.Record{Status: 201, Body: []byte(`{"code":"RAHASIA"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := idempotency.Withhold(ctx, d, "u1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, ok, idempotency.Record{Status: 201, Body: []byte(`{"code":"RAHASIA"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, refused, idempotency.Record{Status: 409, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"k-ok", "k-done"} {
			if rec, a, err := s.Begin(ctx, "u1", k, h); a != nil || rec != nil || !problem.Is(err, "idempotency-applied") {
				t.Errorf("retry of %s: %+v, attempt %v, %v; want idempotency-applied without the answer", k, rec, a, err)
			}
		}
		begin(t, s, "k-refused", h) // run again
		// An attempt abandoned before its commit and taken over afterwards
		// is not withheld.
		begin(t, s, "k-later", h)
		if err := idempotency.Withhold(ctx, d, "u1"); err != nil {
			t.Fatal(err)
		}
		age(t, d)
		later := begin(t, s, "k-later", h) // taken over
		if err := s.Finish(ctx, later, idempotency.Record{Status: 201, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if rec, _, err := s.Begin(ctx, "u1", "k-later", h); err != nil || rec == nil || rec.Status != 201 {
			t.Errorf("retry of the taken-over attempt: %+v, %v; want its answer replayed", rec, err)
		}
	})
}

// An attempt that got no answer (its client went away) is abandoned: one
// whose transaction never committed is run again by the next retry, one
// that committed stays applied and its retry is refused, never run twice.
// No answer without a status is stored.
func TestNoAnswerAbandoned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := idempotency.NewStore(d)
		s.Wait = 100 * time.Millisecond
		h := idempotency.Hash("POST", "/v1/reports", []byte(`{}`))
		rolledBack := begin(t, s, "k-gone", h)
		if err := s.Finish(ctx, rolledBack, idempotency.Record{}); err == nil {
			t.Fatal("an answer without a status was stored")
		}
		if err := s.Abandon(ctx, rolledBack); err != nil {
			t.Fatal(err)
		}
		begin(t, s, "k-gone", h) // run again at once

		committed := begin(t, s, "k-gone-applied", h)
		if err := markApplied(d, committed); err != nil {
			t.Fatal(err)
		}
		if err := s.Abandon(ctx, committed); err != nil {
			t.Fatal(err)
		}
		age(t, d)
		if _, a, err := s.Begin(ctx, "u1", "k-gone-applied", h); a != nil || !problem.Is(err, "idempotency-applied") {
			t.Fatalf("retry of a committed attempt without answer: attempt %v, err %v; want idempotency-applied", a, err)
		}
	})
}
