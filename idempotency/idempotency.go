// Package idempotency stores the first answer to a POST sent with an
// Idempotency-Key, so that a retry (same user, key and body, within the
// retention window, 24 hours by default) gets that answer again and changes
// nothing. Volunteers on flaky mobile networks retry; a retried report, claim
// or alert must never be duplicated. The database row is the lock, so this
// holds across instances and for retries that arrive at the same moment.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
)

// MaxKeyLength is the longest key accepted, in bytes.
const MaxKeyLength = 128

// Record is a stored answer.
type Record struct {
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

type row struct {
	bun.BaseModel `bun:"table:idempotency_keys"`

	UserID      string    `bun:"user_id,pk"`
	Key         string    `bun:"key,pk"`
	RequestHash string    `bun:"request_hash"`
	State       string    `bun:"state"`
	Status      int       `bun:"status"`
	ContentType string    `bun:"content_type"`
	Location    string    `bun:"location"`
	Body        []byte    `bun:"body"`
	CreatedAt   time.Time `bun:"created_at"`
}

// Store keeps answers in the idempotency_keys table.
type Store struct {
	db *db.DB
	// Retention is how long an answer is replayed (24 h).
	Retention time.Duration
	// Abandoned is how long a request may stay unfinished before a retry
	// takes it over (its instance presumably died): 1 minute.
	Abandoned time.Duration
	// Wait is how long a retry waits for a concurrent first attempt to
	// finish before it answers 409 with Retry-After: 15 s.
	Wait time.Duration
	// Poll is the pause between looks while waiting: 20 ms.
	Poll time.Duration
}

// NewStore makes a store with the default windows.
func NewStore(d *db.DB) *Store {
	return &Store{db: d, Retention: 24 * time.Hour, Abandoned: time.Minute, Wait: 15 * time.Second, Poll: 20 * time.Millisecond}
}

// Hash fingerprints a request: method, path and body.
func Hash(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// CheckKey validates a client's key: 1 to MaxKeyLength printable ASCII bytes.
func CheckKey(key string) error {
	if len(key) == 0 || len(key) > MaxKeyLength {
		return BadKey.New("Idempotency-Key must be 1 to %d characters", MaxKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return BadKey.New("Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return nil
}

// Attempt is a caller's hold on (user, key): the attempt Begin gave it,
// known by when it started. A retry takes over an attempt still unfinished
// after Abandoned (its instance presumably died) by starting it again; the
// first attempt, if it was only slow, then no longer holds the key:
// MarkApplied fails its transaction, and its Finish and Abandon change
// nothing, so the request is carried out once.
type Attempt struct {
	userID, key string
	started     time.Time
}

// Begin claims (userID, key) for a first attempt, or finds the stored answer.
// When err is nil exactly one of these holds: replay is the answer to send
// again, or attempt is not nil and the caller runs the request, marks it
// applied in its transaction (MarkApplied), then calls Finish or Abandon. A
// retry that finds the first attempt still running waits for it.
func (s *Store) Begin(ctx context.Context, userID, key, hash string) (replay *Record, attempt *Attempt, err error) {
	deadline := time.Now().Add(s.Wait)
	for {
		replay, attempt, err = s.try(ctx, userID, key, hash)
		if err != nil || replay != nil || attempt != nil {
			return replay, attempt, err
		}
		if time.Now().After(deadline) {
			p := InProgress.New("a request with this Idempotency-Key is still being processed")
			p.RetryAfter = time.Second
			return nil, nil, p
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(s.Poll):
		}
	}
}

// try makes one attempt: insert the key, or read what holds it.
func (s *Store) try(ctx context.Context, userID, key, hash string) (*Record, *Attempt, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return nil, nil, err
	}
	res, err := s.db.NewInsert().Model(&row{UserID: userID, Key: key, RequestHash: hash, State: "pending", CreatedAt: now}).
		On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("idempotency: insert: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil, &Attempt{userID, key, now}, nil
	}
	var r row
	err = s.db.NewSelect().Model(&r).Where("user_id = ? AND key = ?", userID, key).Scan(ctx)
	if db.IsNoRows(err) {
		return nil, nil, nil // deleted meanwhile: try again
	}
	if err != nil {
		return nil, nil, fmt.Errorf("idempotency: read: %w", err)
	}
	switch {
	case r.CreatedAt.Before(now.Add(-s.Retention)):
		return nil, nil, s.expire(ctx, r)
	case r.RequestHash != hash:
		return nil, nil, KeyReused.New("this Idempotency-Key was used with a different request")
	case r.State == "done" && r.Status < 100:
		// No answer was written (its client went away); stored so
		// before answers without one were forgotten: run again.
		return nil, nil, s.expire(ctx, r)
	case r.State == "done":
		return &Record{Status: r.Status, ContentType: r.ContentType, Location: r.Location, Body: r.Body}, nil, nil
	case r.State == "applied" && r.Status != 0:
		return nil, nil, Applied.New(
			"the first request with this Idempotency-Key was carried out, but your access has changed since and its answer is not given again; reload the resource instead of retrying")
	case r.State == "applied" && r.CreatedAt.Before(now.Add(-s.Abandoned)):
		return nil, nil, Applied.New(
			"the first request with this Idempotency-Key was carried out but its answer was lost; reload the resource instead of retrying")
	case r.State == "pending" && r.CreatedAt.Before(now.Add(-s.Abandoned)):
		if s.takeOver(ctx, r, now) {
			return nil, &Attempt{userID, key, now}, nil
		}
	}
	return nil, nil, nil
}

// Withhold takes, inside q, the bodies of userID's stored answers away,
// when their access shrinks (an active membership ends, a coordinator
// becomes a member, an admin narrows the account's role or a staff
// region, or it is no longer active): a retry would replay what the old
// grant let them read. Each success stays "applied" with its status (an
// applied row has none otherwise), so its retry is not carried out again
// and is refused (idempotency-applied); a refusal is forgotten, and its
// retry runs again (it changed nothing).
func Withhold(ctx context.Context, q bun.IDB, userID string) error {
	// A refusal changed nothing: forgotten, its retry runs again.
	_, err := withholdDone(ctx, q, "user_id = ?", userID)
	if err == nil {
		// Requests still running (or whose answer is not stored yet) are
		// marked, so that Finish withholds their answer too.
		_, err = q.NewUpdate().Model((*row)(nil)).Set("status = ?", withheld).
			Where("user_id = ? AND state IN ('pending', 'applied') AND status = 0", userID).Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("idempotency: withhold answers: %w", err)
	}
	return nil
}

// MarkApplied records, inside the transaction tx that carries out the
// request, that its effect is committed: if the instance dies before the
// answer is stored, a retry is refused (idempotency-applied) instead of
// running the request a second time. An attempt a retry took over (it ran
// longer than Abandoned) fails its transaction (idempotency-in-progress):
// the retry carries the request out instead. The row stays locked until tx
// ends, so a retry cannot take over an attempt whose transaction marked it.
func MarkApplied(ctx context.Context, tx bun.IDB, a *Attempt) error {
	res, err := tx.NewUpdate().Model((*row)(nil)).Set("state = 'applied'").
		Where("user_id = ? AND key = ? AND created_at = ? AND state IN ('pending', 'applied')", a.userID, a.key, a.started).Exec(ctx)
	if err != nil {
		return fmt.Errorf("idempotency: mark applied: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		p := InProgress.New("this request ran so long that a retry with the same Idempotency-Key took it over; that retry carries it out")
		p.RetryAfter = time.Second
		return p
	}
	return nil
}

func (s *Store) expire(ctx context.Context, r row) error {
	_, err := s.db.NewDelete().Model((*row)(nil)).
		Where("user_id = ? AND key = ? AND created_at = ?", r.UserID, r.Key, r.CreatedAt).Exec(ctx)
	if err != nil {
		return fmt.Errorf("idempotency: expire: %w", err)
	}
	return nil
}

// takeOver restarts an attempt abandoned before its transaction committed
// (still pending, not applied); only one retry wins.
func (s *Store) takeOver(ctx context.Context, r row, now time.Time) bool {
	// A new attempt runs with the access of now: not withheld.
	res, err := s.db.NewUpdate().Model((*row)(nil)).Set("created_at = ?", now).Set("status = 0").
		Where("user_id = ? AND key = ? AND state = 'pending' AND created_at = ?", r.UserID, r.Key, r.CreatedAt).Exec(ctx)
	if err != nil {
		return false
	}
	n, _ := res.RowsAffected()
	return n == 1
}

// withheld marks, in the status of an attempt not finished, that its
// user's access shrank meanwhile (Withhold): its answer is not stored.
const withheld = -1

// Finish stores the answer of an owned attempt, or, when its user's access
// shrank while it ran (Withhold), keeps it applied without the answer (a
// success) or forgets it (a refusal).
func (s *Store) Finish(ctx context.Context, a *Attempt, rec Record) error {
	if rec.Status < 100 {
		return fmt.Errorf("idempotency: finish: status %d is no answer", rec.Status)
	}
	res, err := s.db.NewUpdate().Model((*row)(nil)).
		Set("state = 'done'").Set("status = ?", rec.Status).Set("content_type = ?", rec.ContentType).
		Set("location = ?", rec.Location).Set("body = ?", rec.Body).
		Where("user_id = ? AND key = ? AND created_at = ? AND status <> ?", a.userID, a.key, a.started, withheld).Exec(ctx)
	var n int64
	if err == nil {
		n, _ = res.RowsAffected()
	}
	if err == nil && n == 0 { // withheld, or taken over by a retry (then nothing matches)
		if rec.Status >= 400 {
			_, err = s.db.NewDelete().Model((*row)(nil)).
				Where("user_id = ? AND key = ? AND created_at = ? AND status = ?", a.userID, a.key, a.started, withheld).Exec(ctx)
		} else {
			_, err = s.db.NewUpdate().Model((*row)(nil)).Set("state = 'applied'").Set("status = ?", rec.Status).
				Where("user_id = ? AND key = ? AND created_at = ? AND status = ?", a.userID, a.key, a.started, withheld).Exec(ctx)
		}
	}
	if err != nil {
		return fmt.Errorf("idempotency: finish: %w", err)
	}
	return nil
}

// Abandon forgets an owned attempt that failed in a way worth retrying
// (5xx, 429) or got no answer (its client went away), so the next retry
// runs the request again. An attempt marked applied stays: its retry is
// refused (idempotency-applied), never carried out twice.
func (s *Store) Abandon(ctx context.Context, a *Attempt) error {
	_, err := s.db.NewDelete().Model((*row)(nil)).
		Where("user_id = ? AND key = ? AND created_at = ? AND state = 'pending'", a.userID, a.key, a.started).Exec(ctx)
	if err != nil {
		return fmt.Errorf("idempotency: abandon: %w", err)
	}
	return nil
}

// Purge deletes answers older than the retention window; it returns how many.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return 0, err
	}
	res, err := s.db.NewDelete().Model((*row)(nil)).Where("created_at < ?", now.Add(-s.Retention)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("idempotency: purge: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
