package db

import (
	"context"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
)

// lockClass is the first key of every lock TryLock takes ("ja" in ASCII,
// as in the migrations' lock): pg_locks shows them with classid 27233 and
// objsubid 2, the two-key form, so they never meet the migrations' one-key
// lock.
const lockClass = 0x6a61

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
	key := lockKey(name)
	conn, err := d.Conn(ctx)
	if err != nil {
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

// lockKey is name's 32-bit FNV-1a hash, the second key of its lock.
func lockKey(name string) int32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int32(h.Sum32())
}
