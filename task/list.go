package task

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
)

// Scopes of a task list.
const (
	ScopeAvailable = "available"
	ScopeMine      = "mine"
	ScopeOrg       = "org"
	ScopeNational  = "national"
)

// Filter is a task list request.
type Filter struct {
	Scope  string
	OrgID  string // required for ScopeOrg
	Region string // tasks of this region or below
	Status string // open or closed; "" any (available: always open)
	Before string // cursor: a task id
	Limit  int
}

// List returns tasks newest first. available: open tasks of the caller's
// active, accredited orgs and of the national pool, in the caller's region
// or national, with a free slot, not held by the caller. mine: tasks the
// caller holds or completed a claim on, and may still see. org: an org's tasks (its members,
// coordinators, covering officers). national: the national pool.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) ([]api.Task, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var ts []Task
	q := s.db.NewSelect().Model(&ts).OrderExpr("t.id DESC").Limit(int64(f.Limit))
	switch f.Scope {
	case ScopeAvailable:
		q, err = s.available(ctx, q, p, now)
	case ScopeMine:
		q = q.Where("t.id IN (SELECT task_id FROM claims WHERE user_id = ? AND (status = 'completed' OR status = 'active' AND lease_expires_at > ?))", p.UserID, now)
		q = seenBy(q, p)
	case ScopeOrg:
		q, err = s.orgScope(ctx, q, p, f.OrgID)
	case ScopeNational:
		q = q.Where("t.org_id IS NULL")
	}
	if err != nil {
		return nil, err
	}
	if f.Status != "" {
		q = q.Where("t.status = ?", f.Status)
	}
	if f.Region != "" {
		q = q.Where("(t.region_code = ? OR t.region_code LIKE ?)", f.Region, f.Region+"%")
	}
	if f.Before != "" {
		q = q.Where("t.id < ?", f.Before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return s.views(ctx, p, ts)
}

// taken is the SQL count of a task's slots held now: completed claims and
// active ones whose lease has not passed (expiry is honoured on read, even
// before the sweeper has run).
const taken = "(SELECT count(*) FROM claims c WHERE c.task_id = t.id AND (c.status = 'completed' OR c.status = 'active' AND c.lease_expires_at > ?))"

// seenBy keeps, of q's tasks, those p may see now, as accessOf decides:
// the national pool's, and an org's while p is its active member or an
// officer covering it. A volunteer who left an org, or was removed, no
// longer sees its tasks, those they completed included.
func seenBy(q *bun.SelectQuery, p auth.Principal) *bun.SelectQuery {
	if p.IsAdmin() || p.IsOfficer() && p.Region == "" {
		return q
	}
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("t.org_id IS NULL").
			WhereOr("t.org_id IN (SELECT m.org_id FROM memberships m WHERE m.user_id = ? AND m.status = 'active')", p.UserID)
		if p.IsOfficer() {
			q = q.WhereOr("t.org_id IN (SELECT o.id FROM orgs o WHERE o.region_code LIKE ?)", p.Region+"%")
		}
		return q
	})
}

func (s *Service) available(ctx context.Context, q *bun.SelectQuery, p auth.Principal, now any) (*bun.SelectQuery, error) {
	u, err := s.users.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return q.Where("t.status = 'open' AND (t.due_at IS NULL OR t.due_at > ?) AND (t.starts_at IS NULL OR t.starts_at <= ?)", now, now).
		Where("(t.org_id IS NULL OR t.org_id IN (SELECT m.org_id FROM memberships m JOIN orgs o ON o.id = m.org_id "+
			"WHERE m.user_id = ? AND m.status = 'active' AND o.status = 'accredited' AND o.accredited_until >= ?))", p.UserID, now).
		Where("(t.region_code IS NULL OR ? LIKE t.region_code || '%')", u.Region()).
		Where(taken+" < t.slots", now).
		Where("NOT EXISTS (SELECT 1 FROM claims c WHERE c.task_id = t.id AND c.user_id = ? AND c.status = 'active' AND c.lease_expires_at > ?)", p.UserID, now), nil
}

func (s *Service) orgScope(ctx context.Context, q *bun.SelectQuery, p auth.Principal, orgID string) (*bun.SelectQuery, error) {
	if orgID == "" {
		return nil, problem.BadQueryType.New("scope=org needs org_id")
	}
	o, err := s.orgs.Get(ctx, orgID)
	if err != nil {
		return nil, err
	}
	_, active, err := s.orgs.Role(ctx, s.db, orgID, p.UserID)
	if err != nil {
		return nil, err
	}
	if !active && !p.Covers(o.Region()) {
		return nil, problem.Errorf(problem.Forbidden, "only this organisation's members and covering officers see its tasks")
	}
	return q.Where("t.org_id = ?", orgID), nil
}

// views turns rows into API tasks with live slot counts and the caller's
// own claim.
func (s *Service) views(ctx context.Context, p auth.Principal, ts []Task) ([]api.Task, error) {
	out := make([]api.Task, len(ts))
	if len(ts) == 0 {
		return out, nil
	}
	ids := make([]string, len(ts))
	for i := range ts {
		ids[i] = ts[i].ID
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var counts []struct {
		TaskID string `bun:"task_id"`
		N      int    `bun:"n"`
	}
	err = s.db.NewSelect().Table("claims").ColumnExpr("task_id, count(*) AS n").
		Where("task_id IN (?) AND (status = 'completed' OR status = 'active' AND lease_expires_at > ?)", bun.In(ids), now).
		GroupExpr("task_id").Scan(ctx, &counts)
	if err != nil {
		return nil, fmt.Errorf("count claims: %w", err)
	}
	var mine []Claim
	err = s.db.NewSelect().Model(&mine).Where("task_id IN (?) AND user_id = ? AND status IN ('active', 'completed')", bun.In(ids), p.UserID).
		OrderExpr("id ASC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("my claims: %w", err)
	}
	n := map[string]int{}
	for _, c := range counts {
		n[c.TaskID] = c.N
	}
	my := map[string]*api.Claim{}
	for i := range mine {
		c := mine[i].apiAt(now)
		my[mine[i].TaskID] = &c
	}
	for i := range ts {
		out[i] = ts[i].API()
		out[i].SlotsTaken = n[ts[i].ID]
		out[i].MyClaim = my[ts[i].ID]
	}
	return out, nil
}
