package db_test

import (
	"context"
	"testing"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
)

// A lock is held by one holder at a time on PostgreSQL (another pool's
// try fails at once, another name is free) and free again after unlock;
// SQLite, one process, grants every try.
func TestTryLock(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			opts := dbtest.Options(t, b)
			open := func() *db.DB {
				d, err := db.Open(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				return d
			}
			one, two := open(), open() // two instances
			unlock, ok, err := one.TryLock(ctx, "chore:test")
			if err != nil || !ok {
				t.Fatalf("first try: %v, %v", ok, err)
			}
			_, ok, err = two.TryLock(ctx, "chore:test")
			if err != nil || ok != (b == dbtest.SQLite) {
				t.Fatalf("second try while held: got %v (%v), want %v", ok, err, b == dbtest.SQLite)
			}
			other, ok, err := two.TryLock(ctx, "chore:other")
			if err != nil || !ok {
				t.Fatalf("another name: %v, %v", ok, err)
			}
			other()
			unlock()
			again, ok, err := two.TryLock(ctx, "chore:test")
			if err != nil || !ok {
				t.Fatalf("after unlock: %v, %v", ok, err)
			}
			again()
		})
	}
}
