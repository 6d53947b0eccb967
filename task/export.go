package task

import (
	"context"
	"fmt"
	"time"
)

// ClaimRecord is a claim as its holder's data export shows it: the claim
// and the title of its task, and whether a coordinator assigned it (not
// who).
type ClaimRecord struct {
	ID        string     `json:"id"`
	TaskID    string     `json:"task_id"`
	TaskTitle string     `json:"task_title"`
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
	out := make([]ClaimRecord, len(rows))
	for i, r := range rows {
		out[i] = ClaimRecord{ID: r.ID, TaskID: r.TaskID, TaskTitle: r.TaskTitle, Status: r.Status, Assigned: r.AssignedBy != nil,
			Outcome: r.Outcome, Note: r.Note, CreatedAt: r.CreatedAt.UTC(), EndedAt: utc(r.EndedAt), EndReason: r.EndReason}
	}
	return out, nil
}
