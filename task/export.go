package task

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/auth"
)

// ClaimRecord is a claim as its holder's data export shows it: the claim
// and the title of its task (while they may still see the task), and
// whether a coordinator assigned it (not who).
type ClaimRecord struct {
	ID        string     `json:"id"`
	TaskID    string     `json:"task_id"`
	TaskTitle string     `json:"task_title,omitempty"` // only while the person may still see the task
	Status    string     `json:"status"`
	Assigned  bool       `json:"assigned"`
	Outcome   *string    `json:"outcome,omitempty"`
	Note      string     `json:"note,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	EndReason *string    `json:"end_reason,omitempty"`
}

// ClaimsOf reads up to limit of the claims userID holds or held, oldest
// first, after the claim id after ("" from the start).
func (s *Service) ClaimsOf(ctx context.Context, userID, after string, limit int) ([]ClaimRecord, error) {
	var rows []struct {
		Claim     `bun:",extend"`
		TaskTitle string `bun:"task_title"`
	}
	q := s.db.NewSelect().Model(&rows).ColumnExpr("c.*").ColumnExpr("t.title AS task_title").
		Join("JOIN tasks AS t ON t.id = c.task_id").Where("c.user_id = ?", userID).OrderExpr("c.id ASC").Limit(int64(limit))
	if after != "" {
		q = q.Where("c.id > ?", after)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("claims of user: %w", err)
	}
	// A task's title is its org's, and what it says now: it is shown only
	// while the person may still see the task (seenBy), not for the tasks
	// of an org they left or were removed from.
	seen := map[string]bool{}
	if len(rows) > 0 {
		u, err := s.users.UserByID(ctx, userID)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.TaskID
		}
		var visible []string
		q := s.db.NewSelect().TableExpr("tasks AS t").Column("t.id").Where("t.id IN (?)", bun.In(ids))
		if err := seenBy(q, auth.Principal{UserID: userID, Role: u.Role, Region: u.Region()}).Scan(ctx, &visible); err != nil {
			return nil, fmt.Errorf("tasks the person sees: %w", err)
		}
		for _, id := range visible {
			seen[id] = true
		}
	}
	out := make([]ClaimRecord, len(rows))
	for i, r := range rows {
		if !seen[r.TaskID] {
			r.TaskTitle = ""
		}
		out[i] = ClaimRecord{ID: r.ID, TaskID: r.TaskID, TaskTitle: r.TaskTitle, Status: r.Status, Assigned: r.AssignedBy != nil,
			Outcome: r.Outcome, Note: r.Note, CreatedAt: r.CreatedAt.UTC(), EndedAt: utc(r.EndedAt), EndReason: r.EndReason}
	}
	return out, nil
}
