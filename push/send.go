package push

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
)

// Delivery states: sent (the push service accepted it), retry (due again
// at next_at), gone (404/410: the subscription was deleted), failed
// (refused: any other answer), dropped (its TTL passed first).
const (
	stateSent    = "sent"
	stateRetry   = "retry"
	stateGone    = "gone"
	stateFailed  = "failed"
	stateDropped = "dropped"
)

// flushEvery and flushSize bound how long a device's outcome waits before
// it is written: a crash loses (and a takeover resends) at most the
// outcomes of the last flushEvery.
const (
	flushEvery = 50 * time.Millisecond
	flushSize  = 100
)

// delivery is a push_deliveries row: the outcome of one job on one device.
type delivery struct {
	bun.BaseModel `bun:"table:push_deliveries,alias:d"`

	JobID          string     `bun:"job_id,pk"`
	SubscriptionID string     `bun:"subscription_id,pk"`
	State          string     `bun:"state"`
	Status         int        `bun:"status"`
	Attempts       int        `bun:"attempts"`
	NextAt         *time.Time `bun:"next_at"`
	At             time.Time  `bun:"at"`
}

// target is a device of a batch still to be pushed.
type target struct {
	Subscription
	Attempts int        `bun:"attempts"`
	NextAt   *time.Time `bun:"retry_at"`
	Lang     string     `bun:"lang,scanonly"` // the account's language
}

func isNoRows(err error) bool { return db.IsNoRows(err) }

// sendLoop works batches until ctx ends.
func (s *Service) sendLoop(ctx context.Context, wake <-chan struct{}) {
	for {
		worked, err := s.work(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("push: work batch", "error", err.Error())
		}
		if worked && err == nil {
			continue
		}
		d := s.cfg.Poll
		if err != nil {
			d = time.Second
		}
		if !sleep(ctx, d, wake) {
			return
		}
	}
}

// work takes one due batch and pushes to its devices. On PostgreSQL the
// batch row stays locked (FOR UPDATE SKIP LOCKED) in a transaction held
// while it is worked, so no other instance takes it; if this process dies,
// the lock goes with its connection and another instance takes the batch
// over, finding the outcomes recorded so far. On SQLite, with one process
// and one sender, no lock is needed.
func (s *Service) work(ctx context.Context) (bool, error) {
	var tx bun.IDB = s.db
	var btx *bun.Tx
	if s.db.Postgres() {
		t, err := s.db.BeginTx(ctx, &sql.TxOptions{})
		if err != nil {
			return false, fmt.Errorf("begin: %w", err)
		}
		defer t.Rollback()
		tx, btx = t, &t
	}
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return false, err
	}
	b := new(batch)
	q := tx.NewSelect().Model(b).Where("b.done_at IS NULL AND b.next_at <= ?", now).OrderExpr("b.next_at").Limit(1)
	if btx != nil {
		q = q.For("UPDATE SKIP LOCKED")
	}
	if err := q.Scan(ctx); err != nil {
		if isNoRows(err) {
			return false, nil
		}
		return false, fmt.Errorf("next batch: %w", err)
	}
	next, err := s.sendBatch(ctx, b, now)
	if err != nil {
		return true, err
	}
	upd := tx.NewUpdate().Model(b).WherePK()
	if next.IsZero() {
		upd = upd.Set("done_at = ?", now)
	} else {
		upd = upd.Set("next_at = ?", next)
	}
	if _, err := upd.Exec(ctx); err != nil {
		return true, fmt.Errorf("finish batch: %w", err)
	}
	if btx != nil {
		if err := btx.Commit(); err != nil {
			return true, fmt.Errorf("finish batch: %w", err)
		}
	}
	return true, nil
}

// sendBatch pushes to the batch's devices that have no outcome yet (or a
// retry that is due), records each outcome as it comes, and returns when
// the batch is due again (zero: done).
func (s *Service) sendBatch(ctx context.Context, b *batch, now time.Time) (time.Time, error) {
	// Retry times are stored and compared with the database's clock: the
	// waits measured here are moved onto it.
	skew := now.Sub(time.Now())
	j, err := s.job(ctx, b.JobID)
	if err != nil {
		return time.Time{}, err
	}
	var ts []target
	err = s.devices(s.db, j).ColumnExpr("s.*, d.attempts, d.next_at AS retry_at").
		ColumnExpr("(SELECT u.language FROM users u WHERE u.id = s.user_id) AS lang").
		Join("LEFT JOIN push_deliveries AS d ON d.job_id = ? AND d.subscription_id = s.id", j.ID).
		Where("s.id >= ? AND s.id <= ?", b.FirstSub, b.LastSub).
		Where("(d.state IS NULL OR d.state = ?)", stateRetry).OrderExpr("s.id").Scan(ctx, &ts)
	if err != nil {
		return time.Time{}, fmt.Errorf("devices of batch %s: %w", b.ID, err)
	}
	rec := s.newRecorder(ctx, j.ID)
	defer rec.close()
	if !now.Before(j.ExpiresAt) {
		for _, t := range ts {
			rec.add(t.ID, outcome{state: stateDropped, attempts: t.Attempts})
		}
		return time.Time{}, rec.close()
	}
	var next time.Time
	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, t := range ts {
		if t.NextAt != nil && t.NextAt.After(now) {
			next = earliest(next, *t.NextAt)
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return time.Time{}, ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			o := s.deliver(ctx, j, t, skew)
			if ctx.Err() != nil && o.state != stateSent {
				return // stopping: the batch is taken again later
			}
			rec.add(t.ID, o)
			if o.state == stateRetry {
				mu.Lock()
				next = earliest(next, o.next)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := rec.close(); err != nil {
		return time.Time{}, err
	}
	if ctx.Err() != nil {
		return time.Time{}, ctx.Err()
	}
	return next, nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// job reads a job, kept in memory while its batches are worked.
func (s *Service) job(ctx context.Context, id string) (*job, error) {
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if ok {
		return j, nil
	}
	j = new(job)
	if err := s.db.NewSelect().Model(j).Where("j.id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read job %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(j.Payload), &j.messages); err != nil || j.messages[DefaultLang].Kind == "" {
		// A job queued before payloads came in several languages.
		var one api.PushPayload
		if err := json.Unmarshal([]byte(j.Payload), &one); err != nil {
			return nil, fmt.Errorf("job %s payload: %w", id, err)
		}
		j.messages = map[string]api.PushPayload{DefaultLang: one}
	}
	s.mu.Lock()
	if len(s.jobs) > 256 {
		clear(s.jobs)
	}
	s.jobs[id] = j
	s.mu.Unlock()
	return j, nil
}

// payloadFor is the job's payload for one device: in its account's
// language (else DefaultLang), with the ack string that lets the device's
// service worker confirm it showed it, fitted into one record (fit).
func (s *Service) payloadFor(j *job, subID, lang string) ([]byte, error) {
	p, ok := j.messages[lang]
	if !ok {
		p = j.messages[DefaultLang]
	}
	p.Ack = s.ackFor(j.ID, subID)
	return fit(p)
}

// maxPayload is the most JSON one push carries: a record of recordSize
// less the tag (16 bytes), the content-coding header (salt 16, record size
// 4, key length 1, key 65) and the padding delimiter (RFC 8188, RFC 8291).
const maxPayload = recordSize - 16 - (16 + 4 + 1 + 65) - 1

// errTooBig is a payload that does not fit even without title and body.
var errTooBig = errors.New("push payload over one record")

// fit encodes p, with <, > and & as they are (not six-byte escapes), and
// while it is over maxPayload shortens the body, then the title, by at
// least the excess: titles and bodies are clipped by characters when the
// job is made (clip), and a text of multibyte or escaped characters (emoji,
// quotes, control characters) can still be too long in bytes.
func fit(p api.PushPayload) ([]byte, error) {
	for {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(p); err != nil {
			return nil, err
		}
		out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		excess := len(out) - maxPayload
		switch {
		case excess <= 0:
			return out, nil
		case p.Body != "":
			p.Body = shorten(p.Body, excess)
		case p.Title != "":
			p.Title = shorten(p.Title, excess)
		default:
			return nil, errTooBig
		}
	}
}

// shorten drops characters from the end of s that encode to at least n
// bytes in JSON, and ends it with an ellipsis (its three bytes made up for).
func shorten(s string, n int) string {
	r := []rune(strings.TrimSuffix(s, "…"))
	i, need := len(r), n+len("…")
	for i > 0 && need > 0 {
		i--
		need -= jsonLen(r[i])
	}
	if i == 0 {
		return ""
	}
	return strings.TrimRight(string(r[:i]), " ") + "…"
}

// jsonLen is how many bytes r takes in JSON at most, as fit encodes it.
func jsonLen(r rune) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
		return 2
	case r < 0x20 || r == '\u2028' || r == '\u2029' || r == utf8.RuneError:
		return 6
	}
	return utf8.RuneLen(r)
}
