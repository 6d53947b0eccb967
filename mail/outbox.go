package mail

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/jarimu/jarimu/db"
)

// Sender delivers a batch of messages (SMTP in production): the error of
// each message in errs, or err when nothing could be sent.
type Sender interface {
	Send(ctx context.Context, msgs []Message) (errs []error, err error)
}

var _ Sender = (*SMTP)(nil)

// Options tune the outbox worker; zero fields take the defaults.
type Options struct {
	// Poll is how often the outbox is read for due mail besides Kick: 2 s.
	Poll time.Duration
	// Lease is how long a claimed message is kept from other workers
	// while it is being sent: 2 minutes (over SendTimeout). A worker that
	// dies mid-send leaves it to be sent again after that.
	Lease time.Duration
	// Backoff is the wait after the first failed attempt, doubling with
	// each further one up to MaxBackoff: 10 s and 10 minutes.
	Backoff, MaxBackoff time.Duration
	// Batch is how many messages one connection sends at most: 20.
	Batch int
	// Sealer opens the sealed secrets of messages (reset links) as they
	// are sent; nil: a message with one is dropped.
	Sealer *Sealer
}

// Stats count what this instance's worker did.
type Stats struct {
	Sent     atomic.Int64 // taken by the SMTP server
	Failed   atomic.Int64 // attempts that failed and will be retried
	Dropped  atomic.Int64 // refused for good by the server, or expired unsent
	Attempts atomic.Int64 // connections tried
}

// Outbox sends queued mail.
type Outbox struct {
	db     *db.DB
	sender Sender
	log    *slog.Logger
	o      Options
	kick   chan struct{}
	Stats  Stats
}

// NewOutbox makes the worker of the outbox in d, sending through s.
func NewOutbox(d *db.DB, s Sender, log *slog.Logger, o Options) *Outbox {
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Backoff <= 0 {
		o.Backoff = 10 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	return &Outbox{db: d, sender: s, log: log, o: o, kick: make(chan struct{}, 1)}
}

// Kick wakes the worker at once (after a commit that queued mail), instead
// of at its next poll. It never blocks.
func (o *Outbox) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends: at each poll and Kick, batches until
// nothing is due.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTicker(o.o.Poll)
	defer t.Stop()
	for {
		for {
			n, err := o.Work(ctx)
			if err != nil && ctx.Err() == nil {
				o.log.Warn("mail outbox", slog.String("error", err.Error()))
			}
			if err != nil || n < o.o.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-o.kick:
		}
	}
}

// Work claims one batch of due messages and sends it, and says how many it
// claimed.
func (o *Outbox) Work(ctx context.Context) (int, error) {
	rows, now, err := o.claim(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	var send []row
	var msgs []Message
	for _, r := range rows {
		if !now.Before(r.ExpiresAt) {
			o.Stats.Dropped.Add(1)
			o.log.Warn("mail expired unsent", slog.String("mail_id", r.ID), slog.String("kind", r.Kind),
				slog.Int("attempts", r.Attempts-1), slog.String("last_error", r.LastError))
			if err := o.remove(ctx, r.ID); err != nil {
				return len(rows), err
			}
			continue
		}
		m := r.message()
		if err := o.o.Sealer.open(&m); err != nil {
			if err := o.finish(ctx, r, err); err != nil {
				return len(rows), err
			}
			continue
		}
		send, msgs = append(send, r), append(msgs, m)
	}
	if len(send) == 0 {
		return len(rows), nil
	}
	o.Stats.Attempts.Add(1)
	sctx, cancel := context.WithTimeout(ctx, SendTimeout)
	errs, err := o.sender.Send(sctx, msgs)
	cancel()
	for i, r := range send {
		e := err
		if e == nil {
			e = errs[i]
		}
		if ferr := o.finish(ctx, r, e); ferr != nil {
			return len(rows), ferr
		}
	}
	return len(rows), nil
}

// claim takes up to Batch due messages: each gets one more attempt and is
// leased (next_attempt_at moves past the lease), so no other worker sends
// it meanwhile. On PostgreSQL rows another worker is claiming are skipped.
func (o *Outbox) claim(ctx context.Context) ([]row, time.Time, error) {
	now, err := o.db.Now(ctx, o.db)
	if err != nil {
		return nil, now, err
	}
	due := o.db.NewSelect().Model((*row)(nil)).Column("id").Where("next_attempt_at <= ?", now).
		OrderExpr("next_attempt_at, id").Limit(int64(o.o.Batch))
	if o.db.Postgres() {
		due = due.For("UPDATE SKIP LOCKED")
	}
	var rows []row
	err = o.db.NewUpdate().Model(&rows).ModelTableExpr("mail_outbox").
		Set("attempts = attempts + 1").Set("next_attempt_at = ?", now.Add(o.o.Lease)).
		Where("id IN (?)", due).Returning("*").Scan(ctx)
	if err != nil {
		return nil, now, fmt.Errorf("claim mail: %w", err)
	}
	return rows, now, nil
}

// finish records the outcome of one message: deleted once sent or refused
// for good, else due again after its backoff.
func (o *Outbox) finish(ctx context.Context, r row, sendErr error) error {
	switch {
	case sendErr == nil:
		o.Stats.Sent.Add(1)
		o.log.Info("mail sent", slog.String("mail_id", r.ID), slog.String("kind", r.Kind), slog.Int("attempts", r.Attempts))
		return o.remove(ctx, r.ID)
	case isPermanent(sendErr):
		o.Stats.Dropped.Add(1)
		o.log.Warn("mail refused for good", slog.String("mail_id", r.ID), slog.String("kind", r.Kind), slog.String("error", sendErr.Error()))
		return o.remove(ctx, r.ID)
	}
	o.Stats.Failed.Add(1)
	wait := o.backoff(r.Attempts)
	o.log.Warn("mail not sent; will retry", slog.String("mail_id", r.ID), slog.String("kind", r.Kind),
		slog.Int("attempts", r.Attempts), slog.Duration("retry_in", wait), slog.String("error", sendErr.Error()))
	now, err := o.db.Now(ctx, o.db)
	if err != nil {
		return err
	}
	msg := sendErr.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err = o.db.NewUpdate().Model((*row)(nil)).Set("next_attempt_at = ?", now.Add(wait)).Set("last_error = ?", msg).
		Where("id = ?", r.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("reschedule mail: %w", err)
	}
	return nil
}

// backoff is the wait after the attempts-th failed attempt.
func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.o.Backoff
	for i := 1; i < attempts && d < o.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.o.MaxBackoff)
}

func (o *Outbox) remove(ctx context.Context, id string) error {
	if _, err := o.db.NewDelete().Model((*row)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("remove sent mail: %w", err)
	}
	return nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }
