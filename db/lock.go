package db

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/uptrace/bun"
)

// lockClass is the first key of every lock TryLock takes ("ja" in ASCII,
// as in the migrations' lock): pg_locks shows them with classid 27233 and
// objsubid 2, the two-key form, so they never meet the migrations' one-key
// lock.
const lockClass = 0x6a61

// txLockClass is the first key of the locks TxLock takes ("jb"): apart
// from TryLock's, so that a transaction's lock whose name hashes like a
// chore's never waits for that chore.
const txLockClass = 0x6a62

// TryLock takes the cluster-wide lock called name if nobody holds it, and
// says whether it did; it never waits. On PostgreSQL it is a session
// advisory lock held on a connection of its own, so it lasts until unlock
// is called or the connection dies (an instance that crashes frees it).
// SQLite serves one process, which needs no lock: ok is always true there.
// unlock is never nil and is safe to call once.
func (d *DB) TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error) {
	if !d.postgres {
		return func() {}, true, nil
	}
	conn, err := d.Conn(ctx)
	if err != nil {
		return func() {}, false, fmt.Errorf("lock %s: %w", name, err)
	}
	// The key names the schema too: installations (or tests) sharing one
	// database in schemas of their own must not hold each other's locks.
	var key int32
	if err := conn.QueryRowContext(ctx, "SELECT hashtext(current_schema() || ':' || ?)", name).Scan(&key); err != nil {
		conn.Close()
		return func() {}, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?, ?)", lockClass, key).Scan(&ok); err != nil || !ok {
		conn.Close()
		if err != nil {
			return func() {}, false, fmt.Errorf("lock %s: %w", name, err)
		}
		return func() {}, false, nil
	}
	return func() {
		var freed bool
		err := conn.QueryRowContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?, ?)", lockClass, key).Scan(&freed)
		if err != nil || !freed {
			// The lock may still be held: drop the connection rather than
			// return it to the pool, which frees the lock with it.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, true, nil
}

// TxLock takes, inside tx, the cluster-wide lock called name, waiting for
// it; tx's end frees it. Shared, it is held together with other shared
// holders and excludes only an exclusive one. On PostgreSQL it is a
// transaction advisory lock keyed like TryLock's (in a class of its own);
// SQLite's write transactions are serial already, so there it does
// nothing.
func (d *DB) TxLock(ctx context.Context, tx bun.Tx, name string, shared bool) error {
	if !d.postgres {
		return nil
	}
	fn := "pg_advisory_xact_lock"
	if shared {
		fn = "pg_advisory_xact_lock_shared"
	}
	_, err := tx.ExecContext(ctx, "SELECT "+fn+"(?, hashtext(current_schema() || ':' || ?))", txLockClass, name)
	if err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}
