// Package mail sends Jarimu's mail (password reset links) through an SMTP
// server. Mail is never sent from a request: it is queued in the outbox
// table inside the transaction of what caused it, so it goes out exactly
// when that commits, and a worker sends it after, retrying with backoff
// while the SMTP server is down, until the message expires. Several
// instances share one outbox on PostgreSQL (each claims rows with FOR
// UPDATE SKIP LOCKED); SQLite serves one process, whose one worker claims
// them alike. A message is deleted once the SMTP server has taken it.
package mail

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Message is one mail: a plain-text body with an HTML alternative.
type Message struct {
	// Kind names what the mail is for ("password_reset"), in logs and
	// metrics; never the recipient.
	Kind string
	// UserID is the account the mail is about, "" for none: erasing the
	// account removes its queued mail.
	UserID  string
	To      string
	Subject string
	Text    string
	HTML    string
	// Sealed is a secret the bodies hold only as StandIn until the mail
	// is sent (Sealer.Seal); "" for none.
	Sealed, StandIn string
}

// row is a queued message.
type row struct {
	bun.BaseModel `bun:"table:mail_outbox,alias:mo"`

	ID            string    `bun:"id,pk"`
	UserID        *string   `bun:"user_id"`
	Kind          string    `bun:"kind"`
	Recipient     string    `bun:"recipient"`
	Subject       string    `bun:"subject"`
	TextBody      string    `bun:"text_body"`
	HTMLBody      string    `bun:"html_body"`
	Sealed        string    `bun:"sealed"`
	StandIn       string    `bun:"stand_in"`
	Attempts      int       `bun:"attempts"`
	NextAttemptAt time.Time `bun:"next_attempt_at"`
	LastError     string    `bun:"last_error"`
	CreatedAt     time.Time `bun:"created_at"`
	ExpiresAt     time.Time `bun:"expires_at"`
}

func (r *row) message() Message {
	m := Message{Kind: r.Kind, To: r.Recipient, Subject: r.Subject, Text: r.TextBody, HTML: r.HTMLBody, Sealed: r.Sealed, StandIn: r.StandIn}
	if r.UserID != nil {
		m.UserID = *r.UserID
	}
	return m
}

// Enqueue queues m inside q (the transaction of what causes the mail), due
// at now (the database clock) and given up at now+ttl: a mail that could
// not be sent by then is no use any more (a reset link past its expiry).
func Enqueue(ctx context.Context, q bun.IDB, m Message, now time.Time, ttl time.Duration) error {
	r := &row{ID: uuid.Must(uuid.NewV7()).String(), Kind: m.Kind, Recipient: m.To, Subject: m.Subject,
		TextBody: m.Text, HTMLBody: m.HTML, Sealed: m.Sealed, StandIn: m.StandIn, NextAttemptAt: now, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if m.UserID != "" {
		r.UserID = &m.UserID
	}
	if _, err := q.NewInsert().Model(r).Exec(ctx); err != nil {
		return fmt.Errorf("queue %s mail: %w", m.Kind, err)
	}
	return nil
}

// Forget removes the queued mail about userID inside q (erasure), and says
// how many messages it removed.
func Forget(ctx context.Context, q bun.IDB, userID string) (int64, error) {
	res, err := q.NewDelete().Model((*row)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("forget queued mail: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Withdraw removes, inside q, the queued mail of kind about userID (a
// reset mail whose link ended before it was sent), and says how many
// messages it removed. A message being sent at that moment may still go.
func Withdraw(ctx context.Context, q bun.IDB, userID, kind string) (int64, error) {
	res, err := q.NewDelete().Model((*row)(nil)).Where("user_id = ? AND kind = ?", userID, kind).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("withdraw queued mail: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Queued counts the messages about userID still in the outbox (for the
// account's data export: what is queued to be sent to them).
func Queued(ctx context.Context, q bun.IDB, userID string) ([]QueuedInfo, error) {
	var rows []row
	err := q.NewSelect().Model(&rows).Column("id", "kind", "attempts", "created_at", "expires_at").
		Where("user_id = ?", userID).OrderExpr("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("queued mail: %w", err)
	}
	out := make([]QueuedInfo, len(rows))
	for i, r := range rows {
		out[i] = QueuedInfo{Kind: r.Kind, Attempts: r.Attempts, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	}
	return out, nil
}

// QueuedInfo describes a queued message without its content (which may
// hold a reset link).
type QueuedInfo struct {
	Kind      string    `json:"kind"`
	Attempts  int       `json:"attempts"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}
