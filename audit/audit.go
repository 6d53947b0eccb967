// Package audit is the append-only trail of privileged actions
// (accreditation changes, membership decisions, role changes, staff accounts
// made, verifications): who did what to which thing, the state before and
// after, the request id and the time. Each row is written in the same
// transaction as the change it explains, so the trail can never disagree
// with the state.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/requestid"
)

// Entry is one audit row.
type Entry struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID         string    `bun:"id,pk"`
	At         time.Time `bun:"at"`
	ActorID    *string   `bun:"actor_id"`
	ActorRole  string    `bun:"actor_role"`
	Action     string    `bun:"action"`
	TargetType string    `bun:"target_type"`
	TargetID   string    `bun:"target_id"`
	Before     *string   `bun:"before"`
	After      *string   `bun:"after"`
	RequestID  string    `bun:"request_id"`
}

// Actor is who acted: a user (id and role) or the system ("" id).
type Actor struct {
	ID   string
	Role string
}

// System is the actor of what happens without a person (an accreditation
// lapsing, a lease expiring) or from the operator's command line.
var System = Actor{Role: "system"}

// Record writes one audit row inside tx. before and after are any
// JSON-encodable snapshots (nil for none).
func Record(ctx context.Context, tx bun.IDB, actor Actor, action, targetType, targetID string, before, after any) error {
	e := &Entry{ID: uuid.Must(uuid.NewV7()).String(), At: time.Now().UTC().Truncate(time.Microsecond),
		ActorRole: actor.Role, Action: action, TargetType: targetType, TargetID: targetID,
		RequestID: requestid.From(ctx)}
	if actor.ID != "" {
		e.ActorID = &actor.ID
	}
	var err error
	if e.Before, err = snapshot(before); err != nil {
		return err
	}
	if e.After, err = snapshot(after); err != nil {
		return err
	}
	if _, err := tx.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

func snapshot(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit snapshot: %w", err)
	}
	s := string(b)
	return &s, nil
}

// API is the entry as the API shows it.
func (e *Entry) API() api.AuditEntry {
	a := api.AuditEntry{ID: e.ID, At: e.At.UTC(), ActorID: e.ActorID, ActorRole: e.ActorRole, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID}
	if e.Before != nil {
		a.Before = json.RawMessage(*e.Before)
	}
	if e.After != nil {
		a.After = json.RawMessage(*e.After)
	}
	return a
}

// Trail reads the audit log.
type Trail struct{ db *db.DB }

// NewTrail makes a reader over d.
func NewTrail(d *db.DB) *Trail { return &Trail{db: d} }

// Query filters the trail; empty fields match everything. Before is an
// entry id cursor: only entries older than it (ids are time-ordered).
type Query struct {
	TargetType, TargetID string
	Actions              []string
	Before               string
	Limit                int
}

// List returns entries newest first.
func (t *Trail) List(ctx context.Context, q Query) ([]Entry, error) {
	var es []Entry
	sel := t.db.NewSelect().Model(&es).OrderExpr("id DESC").Limit(int64(q.Limit))
	if q.TargetType != "" {
		sel = sel.Where("target_type = ?", q.TargetType)
	}
	if q.TargetID != "" {
		sel = sel.Where("target_id = ?", q.TargetID)
	}
	if len(q.Actions) > 0 {
		sel = sel.Where("action IN (?)", bun.In(q.Actions))
	}
	if q.Before != "" {
		sel = sel.Where("id < ?", q.Before)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, fmt.Errorf("audit list: %w", err)
	}
	return es, nil
}
