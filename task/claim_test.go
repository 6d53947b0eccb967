package task_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/problem"
)

// waitForLock returns once some transaction waits for transaction xid (for
// a row it locked); it fails the test if done reports first.
func waitForLock(t *testing.T, e *apptest.Env, xid string, done chan error) {
	t.Helper()
	for i := 0; ; i++ {
		var n int
		if err := e.App.DB.NewRaw("SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND transactionid::text = ? AND NOT granted", xid).
			Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("the claim ended without waiting for the other transaction's row: %v", err)
		default:
		}
		if i == 500 {
			t.Fatal("the claim never waited for the other transaction's row")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A claim that expires a task's overdue claims must not deadlock with an
// expiry running beside it (the sweeper of this or another instance, which
// locks a claim, then its task). The sweeper lists overdue claims in no set
// order, so it may reach them in another order than the claim does: here it
// holds the claim the claim transaction will come to last, then asks for the
// task, as task.expire does.
func TestClaimExpiryBesideSweeperNoDeadlock(t *testing.T) {
	if !slices.Contains(dbtest.Backends(t), dbtest.Postgres) {
		t.Skip("PostgreSQL only: SQLite runs one write transaction at a time")
	}
	ctx := context.Background()
	e := apptest.Start(t, dbtest.Postgres)
	officer := apptest.Principal(e.User(t, "officer", "pusat", ""))
	slots := 2
	tk, err := e.App.Tasks.Create(ctx, officer, api.CreateTaskRequest{Title: "Pantau TPS 017", Kind: api.KindTPS, Slots: &slots})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"satu", "dua"} {
		if _, err := e.App.Tasks.Claim(ctx, apptest.Principal(e.User(t, "volunteer", name, "")), tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-time.Minute).UTC()
	if _, err := e.App.DB.NewRaw("UPDATE claims SET lease_expires_at = ? WHERE task_id = ?", past, tk.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// The order in which the claim will meet the overdue claims.
	var order []string
	if err := e.App.DB.NewRaw("SELECT id FROM claims WHERE task_id = ? AND status = 'active' AND lease_expires_at <= ?", tk.ID, time.Now().UTC()).
		Scan(ctx, &order); err != nil || len(order) != 2 {
		t.Fatalf("overdue claims: %v %v", order, err)
	}

	// The "sweeper" expires the last of them first.
	sweeper, err := e.App.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sweeper.Rollback()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := sweeper.NewRaw("UPDATE claims SET status = 'expired', ended_at = ?, version = version + 1 WHERE id = ? AND status = 'active' AND lease_expires_at <= ?",
		now, order[1], now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var xid string
	if err := sweeper.NewRaw("SELECT (txid_current() % 4294967296)::text").Scan(ctx, &xid); err != nil {
		t.Fatal(err)
	}

	claimant := apptest.Principal(e.User(t, "volunteer", "tiga", ""))
	done := make(chan error, 1)
	go func() {
		_, err := e.App.Tasks.Claim(ctx, claimant, tk.ID)
		done <- err
	}()
	waitForLock(t, e, xid, done)
	// The sweeper goes on to the task, as task.expire does.
	_, lockErr := sweeper.NewRaw("SELECT id FROM tasks WHERE id = ? FOR UPDATE", tk.ID).Exec(ctx)
	if lockErr == nil {
		_, lockErr = sweeper.NewRaw("UPDATE tasks SET slots_taken = slots_taken - 1 WHERE id = ?", tk.ID).Exec(ctx)
	}
	if lockErr == nil {
		lockErr = sweeper.Commit()
	} else {
		sweeper.Rollback()
	}
	claimErr := <-done
	var pg *pgconn.PgError
	for who, err := range map[string]error{"sweeper": lockErr, "claim": claimErr} {
		switch {
		case errors.As(err, &pg) && pg.Code == "40P01":
			t.Errorf("%s: deadlock between claim-time expiry and the sweeper: %v", who, err)
		case err != nil:
			t.Errorf("%s: %v", who, err)
		}
	}

	var counter, rows int
	if err := e.App.DB.NewRaw("SELECT slots_taken FROM tasks WHERE id = ?", tk.ID).Scan(ctx, &counter); err != nil {
		t.Fatal(err)
	}
	if err := e.App.DB.NewRaw("SELECT count(*) FROM claims WHERE task_id = ? AND status IN ('active', 'completed')", tk.ID).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if claimErr == nil && (counter != 1 || rows != 1) {
		t.Errorf("after the claim: counter %d over %d active or completed rows, want 1 and 1", counter, rows)
	}
}

// A claim that meets a task being closed under it is refused as
// task-closed, not task-full: the slots were free.
func TestClaimRacingCloseSaysClosed(t *testing.T) {
	if !slices.Contains(dbtest.Backends(t), dbtest.Postgres) {
		t.Skip("PostgreSQL only: on SQLite the claim waits for the close before it reads the task")
	}
	ctx := context.Background()
	e := apptest.Start(t, dbtest.Postgres)
	officer := apptest.Principal(e.User(t, "officer", "pusat", ""))
	slots := 5
	tk, err := e.App.Tasks.Create(ctx, officer, api.CreateTaskRequest{Title: "Pantau TPS 018", Kind: api.KindTPS, Slots: &slots})
	if err != nil {
		t.Fatal(err)
	}
	// A close in progress: the task row is locked and changed, not yet
	// committed, so the claim still reads the task open.
	closer, err := e.App.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Rollback()
	if _, err := closer.NewRaw("UPDATE tasks SET status = 'closed' WHERE id = ?", tk.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var xid string
	if err := closer.NewRaw("SELECT (txid_current() % 4294967296)::text").Scan(ctx, &xid); err != nil {
		t.Fatal(err)
	}
	v := apptest.Principal(e.User(t, "volunteer", "empat", ""))
	done := make(chan error, 1)
	go func() {
		_, err := e.App.Tasks.Claim(ctx, v, tk.ID)
		done <- err
	}()
	waitForLock(t, e, xid, done)
	if err := closer.Commit(); err != nil {
		t.Fatal(err)
	}
	err = <-done
	var p *problem.Error
	if !errors.As(err, &p) || p.Type != "task-closed" {
		t.Errorf("claim on a task closed under it: got %v, want task-closed", err)
	}
}
