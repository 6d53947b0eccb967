package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
)

// The dialect helpers read the same on both databases: an advisory lock
// serialises read-then-write transactions on one key (a no-op on SQLite,
// whose write transactions are serial already), a row and the clock come
// in one statement, and a time column's UTC day is the same text.
func TestDialectHelpers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, "CREATE TABLE tally (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, at TIMESTAMPTZ NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2029, 2, 15, 2, 0, 0, 0, time.FixedZone("WITA", 8*3600)) // 18:00 UTC the day before
		if _, err := d.ExecContext(ctx, "INSERT INTO tally (id, n, at) VALUES (1, 0, ?)", at); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					if err := d.XactLock(ctx, tx, "tally"); err != nil {
						return err
					}
					var n int
					if err := tx.NewRaw("SELECT n FROM tally WHERE id = 1").Scan(ctx, &n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, "UPDATE tally SET n = ? WHERE id = 1", n+1)
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		var row struct {
			N   int       `bun:"n"`
			Now time.Time `bun:"db_now"`
			Day string    `bun:"day"`
		}
		before := time.Now().Add(-time.Second)
		q := d.WithNow(d.NewSelect().Table("tally").Column("n").ColumnExpr(d.DayUTC("at")+" AS day").Where("id = 1"), "db_now")
		if err := q.Scan(ctx, &row); err != nil {
			t.Fatal(err)
		}
		if row.N != 10 {
			t.Errorf("10 locked increments gave %d", row.N)
		}
		if row.Now.Before(before) || row.Now.After(time.Now().Add(time.Second)) {
			t.Errorf("the clock read with the row: %v, want about now", row.Now)
		}
		if row.Day != "2029-02-14" {
			t.Errorf("UTC day of %v: %q, want 2029-02-14", at, row.Day)
		}
	})
}
