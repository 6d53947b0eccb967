package org

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/idempotency"
	"github.com/jarimu/jarimu/problem"
)

// Membership is a membership row: one per (org, user), its status moving
// through pending, active, rejected, removed and left.
type Membership struct {
	bun.BaseModel `bun:"table:memberships,alias:m"`

	OrgID     string     `bun:"org_id,pk"`
	UserID    string     `bun:"user_id,pk"`
	Role      string     `bun:"role"`
	Status    string     `bun:"status"`
	Reason    string     `bun:"reason"`
	DecidedBy *string    `bun:"decided_by"`
	DecidedAt *time.Time `bun:"decided_at"`
	CreatedAt time.Time  `bun:"created_at"`
	UpdatedAt time.Time  `bun:"updated_at"`
}

// API is the membership as the API shows it.
func (m *Membership) API(name string) api.Membership {
	out := api.Membership{OrgID: m.OrgID, UserID: m.UserID, UserName: name, Role: m.Role, Status: m.Status,
		Reason: m.Reason, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC()}
	if m.DecidedAt != nil {
		t := m.DecidedAt.UTC()
		out.DecidedAt = &t
	}
	return out
}

func isNoRows(err error) bool { return db.IsNoRows(err) }

// decided is the payload of membership.decided, sent to the member's own
// stream for every change of their membership's status.
type decided struct {
	OrgID   string          `json:"org_id"`
	OrgName string          `json:"org_name"`
	Status  string          `json:"status"`
	Role    string          `json:"role"`
	Reason  string          `json:"reason,omitempty"`
	Feed    *api.FeedChange `json:"feed"`
}

// notifyMember appends name (membership.decided or .role_changed) to the
// member's stream, saying which org streams their open feed connections
// gain (from the seq committed now) or lose.
func notifyMember(ctx context.Context, tx bun.Tx, name string, o *Org, m *Membership) error {
	feed := &api.FeedChange{Remove: []string{Stream(o.ID), ReviewStream(o.ID)}}
	if m.Status == api.MembershipActive {
		streams := []string{Stream(o.ID)}
		feed.Remove = []string{ReviewStream(o.ID)}
		if m.Role == api.RoleCoordinator {
			streams, feed.Remove = append(streams, ReviewStream(o.ID)), nil
		}
		heads, err := event.Heads(ctx, tx, streams)
		if err != nil {
			return err
		}
		feed.Add = heads
	}
	d := decided{OrgID: o.ID, OrgName: o.Name, Status: m.Status, Role: m.Role, Reason: m.Reason, Feed: feed}
	_, err := event.Append(ctx, tx, UserStream(m.UserID), name, d)
	return err
}

func membershipNotFound() error { return problem.Errorf(problem.NotFound, "no such membership") }

// membership loads one membership row; ok is false when there is none.
func membership(ctx context.Context, q bun.IDB, orgID, userID string) (*Membership, bool, error) {
	m := new(Membership)
	err := q.NewSelect().Model(m).Where("m.org_id = ? AND m.user_id = ?", orgID, userID).Scan(ctx)
	if isNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load membership: %w", err)
	}
	return m, true, nil
}

// isCoordinator reports whether userID is an active coordinator of orgID.
func (s *Service) isCoordinator(ctx context.Context, q bun.IDB, orgID, userID string) (bool, error) {
	m, ok, err := membership(ctx, q, orgID, userID)
	return ok && m.Status == api.MembershipActive && m.Role == api.RoleCoordinator, err
}

// Join asks to join an org: pending, or active at once with a valid invite
// code. Staff accounts stay neutral and join no CSO.
func (s *Service) Join(ctx context.Context, p auth.Principal, orgID string, req api.JoinRequest) (api.Membership, error) {
	if p.Role != api.RoleVolunteer {
		return api.Membership{}, StaffCannotJoin.New("Bawaslu officers and admins do not join organisations")
	}
	// Read outside the transaction: a pool read inside it can starve the pool.
	names, err := s.users.Names(ctx, []string{p.UserID})
	if err != nil {
		return api.Membership{}, err
	}
	var out api.Membership
	err = s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// An erasure or suspension committing now has ended the account's
		// memberships, or ends this one after it (auth.LockWork); a join
		// after it is refused, so no membership, nor its event with the
		// person's name, outlives an erasure.
		if err := auth.LockWork(ctx, s.db, tx, p.UserID); err != nil {
			return err
		}
		if err := auth.CheckActive(ctx, tx, p.UserID); err != nil {
			return err
		}
		o, err := load(ctx, tx, s.db, orgID, true)
		if err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if o.StatusAt(now) != api.OrgAccredited {
			return notAccredited(o, now)
		}
		m, removed, err := s.upsertRequest(ctx, tx, orgID, p.UserID, now)
		if err != nil {
			return err
		}
		if req.InviteCode != nil && !removed {
			if err := useInvite(ctx, tx, orgID, *req.InviteCode, now); err != nil {
				return err
			}
			m.Status, m.DecidedAt = api.MembershipActive, &now
			if _, err := tx.NewUpdate().Model(m).Column("status", "decided_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("activate membership: %w", err)
			}
			if err := notifyMember(ctx, tx, api.EventMembershipDecided, o, m); err != nil {
				return err
			}
		}
		out = m.API(names[p.UserID])
		_, err = event.Append(ctx, tx, ReviewStream(orgID), "membership.requested", out)
		return err
	})
	if err != nil {
		return api.Membership{}, fmt.Errorf("join: %w", err)
	}
	return out, nil
}

// upsertRequest makes the membership pending: a new row, or an old one that
// was rejected, removed or left. A pending or active one is a 409. removed
// tells that a coordinator had removed this member: an invite code does not
// bring them back, a coordinator decides.
func (s *Service) upsertRequest(ctx context.Context, tx bun.Tx, orgID, userID string, now time.Time) (*Membership, bool, error) {
	m, ok, err := membership(ctx, tx, orgID, userID)
	if err != nil {
		return nil, false, err
	}
	if ok && (m.Status == api.MembershipPending || m.Status == api.MembershipActive) {
		return nil, false, MembershipExists.New("you already have a %s membership here", m.Status)
	}
	removed := ok && m.Status == api.MembershipRemoved
	fresh := &Membership{OrgID: orgID, UserID: userID, Role: api.RoleMember, Status: api.MembershipPending, CreatedAt: now, UpdatedAt: now}
	if !ok {
		_, err = tx.NewInsert().Model(fresh).Exec(ctx)
	} else {
		_, err = tx.NewUpdate().Model(fresh).Column("role", "status", "created_at", "updated_at").
			Set("reason = ''").Set("decided_by = NULL").Set("decided_at = NULL").WherePK().Exec(ctx)
	}
	if err != nil {
		return nil, false, fmt.Errorf("request membership: %w", err)
	}
	return fresh, removed, nil
}

// Decide approves or rejects a pending membership (the org's coordinators).
// A rejection ends any claim the user still held on the org's tasks.
func (s *Service) Decide(ctx context.Context, p auth.Principal, orgID, userID string, req api.DecisionRequest) (api.Membership, error) {
	return s.change(ctx, p, orgID, userID, false, func(ctx context.Context, tx bun.Tx, o *Org, m *Membership, now time.Time) (string, error) {
		if err := problem.Validate(&req); err != nil {
			return "", err
		}
		if m.Status != api.MembershipPending {
			return "", NotPending.New("this membership is %s, not pending", m.Status)
		}
		if req.Decision == "approve" {
			if o.StatusAt(now) != api.OrgAccredited {
				return "", notAccredited(o, now)
			}
			m.Status = api.MembershipActive
		} else {
			// A pending member holds no claims; ending them anyway costs one
			// indexed read and leaves nothing behind whatever the history.
			if err := s.endClaims(ctx, tx, orgID, userID, api.ClaimEndMembership, now); err != nil {
				return "", err
			}
			m.Status = api.MembershipRejected
		}
		m.Reason, m.DecidedBy, m.DecidedAt = req.Reason, &p.UserID, &now
		return "membership." + req.Decision, notifyMember(ctx, tx, api.EventMembershipDecided, o, m)
	})
}

// SetRole makes an active member a coordinator or a member again. The last
// coordinator cannot be demoted.
func (s *Service) SetRole(ctx context.Context, p auth.Principal, orgID, userID string, req api.RoleRequest) (api.Membership, error) {
	return s.change(ctx, p, orgID, userID, false, func(ctx context.Context, tx bun.Tx, o *Org, m *Membership, now time.Time) (string, error) {
		if err := problem.Validate(&req); err != nil {
			return "", err
		}
		if m.Status != api.MembershipActive {
			return "", NotActive.New("only active members have roles; this one is %s", m.Status)
		}
		if m.Role == req.Role {
			return "", nil
		}
		if m.Role == api.RoleCoordinator {
			if err := s.keepOneCoordinator(ctx, tx, orgID); err != nil {
				return "", err
			}
		}
		demoted := m.Role == api.RoleCoordinator
		m.Role = req.Role
		if err := notifyMember(ctx, tx, api.EventMembershipRoleChange, o, m); err != nil {
			return "", err
		}
		if demoted {
			if err := s.users.Revoke(ctx, tx, userID, ReviewStream(orgID)); err != nil {
				return "", err
			}
			// Stored answers of the former coordinator's retried requests
			// are not replayed with what only coordinators may read.
			return "membership.role_change", idempotency.Withhold(ctx, tx, userID)
		}
		return "membership.role_change", nil
	})
}

// Remove ends a membership: a coordinator removes a member, or a member
// leaves (or withdraws a pending request). The last coordinator stays. The
// member's active claims on the org's tasks end with it.
func (s *Service) Remove(ctx context.Context, p auth.Principal, orgID, userID string) error {
	_, err := s.change(ctx, p, orgID, userID, true, func(ctx context.Context, tx bun.Tx, o *Org, m *Membership, now time.Time) (string, error) {
		if m.Status != api.MembershipPending && m.Status != api.MembershipActive {
			return "", NotActive.New("this membership is already %s", m.Status)
		}
		if m.Status == api.MembershipActive && m.Role == api.RoleCoordinator {
			if err := s.keepOneCoordinator(ctx, tx, orgID); err != nil {
				return "", err
			}
		}
		if err := s.endClaims(ctx, tx, orgID, userID, api.ClaimEndMembership, now); err != nil {
			return "", err
		}
		wasActive := m.Status == api.MembershipActive
		action := "membership.remove"
		m.Status = api.MembershipRemoved
		if userID == p.UserID {
			action, m.Status = "membership.leave", api.MembershipLeft
		}
		m.DecidedBy, m.DecidedAt = &p.UserID, &now
		if err := notifyMember(ctx, tx, api.EventMembershipDecided, o, m); err != nil {
			return "", err
		}
		if wasActive {
			if err := s.users.Revoke(ctx, tx, userID, streamsOf(m)...); err != nil {
				return "", err
			}
			// Stored answers of the former member's retried requests are
			// not replayed with what the membership let them read.
			return action, idempotency.Withhold(ctx, tx, userID)
		}
		return action, nil
	})
	return err
}

// keepOneCoordinator refuses a change that would leave orgID without an
// active coordinator. The org row is locked, so two coordinators leaving at
// once cannot both pass.
func (s *Service) keepOneCoordinator(ctx context.Context, tx bun.Tx, orgID string) error {
	n, err := tx.NewSelect().Model((*Membership)(nil)).
		Where("m.org_id = ? AND m.status = 'active' AND m.role = 'coordinator'", orgID).Count(ctx)
	if err != nil {
		return fmt.Errorf("count coordinators: %w", err)
	}
	if n <= 1 {
		return LastCoordinator.New("an organisation keeps at least one coordinator; appoint another first")
	}
	return nil
}

// changeFunc mutates m (loaded and visible to the caller) and returns the
// audit action, or "" when nothing changed.
type changeFunc func(ctx context.Context, tx bun.Tx, o *Org, m *Membership, now time.Time) (string, error)

// change runs one membership change in a transaction with the org locked:
// the caller must be the org's coordinator, or the member when self allows
// it (leaving); a membership the caller may not see is a 404.
func (s *Service) change(ctx context.Context, p auth.Principal, orgID, userID string, self bool, fn changeFunc) (api.Membership, error) {
	var out api.Membership
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The member's work lock before the org, as a join and an erasure
		// take them (auth.LockWork): removing or rejecting a member ends
		// their claims, which takes it, and the other order deadlocked.
		if err := auth.LockWork(ctx, s.db, tx, userID); err != nil {
			return err
		}
		o, err := load(ctx, tx, s.db, orgID, true)
		if problem.KindOf(err) == problem.NotFound {
			return membershipNotFound()
		}
		if err != nil {
			return err
		}
		coord, err := s.isCoordinator(ctx, tx, orgID, p.UserID)
		if err != nil {
			return err
		}
		// Officers covering the org (and admins) act as coordinators too: an
		// org registered without one, or whose coordinators are gone, can
		// still have members approved and a coordinator appointed.
		coord = coord || (p.IsOfficer() || p.IsAdmin()) && p.Covers(o.Region())
		m, ok, err := membership(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		if !ok || !coord && userID != p.UserID {
			return membershipNotFound()
		}
		if !coord && !self {
			return problem.Errorf(problem.Forbidden, "only this organisation's coordinators do this")
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		before := m.API("")
		action, err := fn(ctx, tx, o, m, now)
		if err != nil {
			return err
		}
		out = m.API("")
		if action == "" {
			return nil
		}
		m.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(m).Column("role", "status", "reason", "decided_by", "decided_at", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update membership: %w", err)
		}
		out = m.API("")
		return audit.Record(ctx, tx, actorOf(p), action, "membership", orgID+":"+userID, before, out)
	})
	if err != nil {
		return api.Membership{}, fmt.Errorf("membership: %w", err)
	}
	return out, nil
}

// ListFilter narrows a membership list.
type ListFilter struct {
	Status string
	Before *Cursor
	Limit  int
}

// Cursor is a position in a membership list (created_at, user_id).
type Cursor struct {
	CreatedAt time.Time
	UserID    string
}

// Members lists an org's memberships, newest first: for its coordinators,
// officers whose region covers it, and admins.
func (s *Service) Members(ctx context.Context, p auth.Principal, orgID string, f ListFilter) ([]api.Membership, error) {
	o, err := s.Get(ctx, orgID)
	if err != nil {
		return nil, err
	}
	coord, err := s.isCoordinator(ctx, s.db, orgID, p.UserID)
	if err != nil {
		return nil, err
	}
	if !coord && !p.Covers(o.Region()) {
		return nil, problem.Errorf(problem.Forbidden, "only this organisation's coordinators and Bawaslu officers see its members")
	}
	var ms []Membership
	q := s.db.NewSelect().Model(&ms).Where("m.org_id = ?", orgID).OrderExpr("m.created_at DESC, m.user_id DESC").Limit(int64(f.Limit))
	if f.Status != "" {
		q = q.Where("m.status = ?", f.Status)
	}
	if f.Before != nil {
		q = q.Where("(m.created_at < ? OR m.created_at = ? AND m.user_id < ?)", f.Before.CreatedAt, f.Before.CreatedAt, f.Before.UserID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	return s.withNames(ctx, ms)
}

func (s *Service) withNames(ctx context.Context, ms []Membership) ([]api.Membership, error) {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	names, err := s.users.Names(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]api.Membership, len(ms))
	for i := range ms {
		out[i] = ms[i].API(names[ms[i].UserID])
	}
	return out, nil
}

// Of lists a user's memberships for /v1/me, with each org's status so a
// member sees why an org takes no new work.
func (s *Service) Of(ctx context.Context, userID string) ([]api.MembershipSummary, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Membership `bun:",extend"`
		OrgName    string    `bun:"org_name"`
		OrgStatus  string    `bun:"org_status"`
		OrgUntil   time.Time `bun:"org_until"`
	}
	err = s.db.NewSelect().Model(&rows).ColumnExpr("m.*").
		ColumnExpr("o.name AS org_name, o.status AS org_status, o.accredited_until AS org_until").
		Join("JOIN orgs AS o ON o.id = m.org_id").Where("m.user_id = ?", userID).OrderExpr("m.created_at DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("memberships of user: %w", err)
	}
	out := make([]api.MembershipSummary, len(rows))
	for i, r := range rows {
		o := Org{Status: r.OrgStatus, AccreditedUntil: r.OrgUntil}
		out[i] = api.MembershipSummary{OrgID: r.OrgID, OrgName: r.OrgName, Role: r.Role, Status: r.Status,
			OrgStatus: o.StatusAt(now), Reason: r.Reason}
	}
	return out, nil
}

// Active lists the orgs where userID is an active member, with the role.
// The realtime feed derives a connection's org and review streams from it.
func (s *Service) Active(ctx context.Context, userID string) (map[string]string, error) {
	var ms []Membership
	err := ActiveQuery(s.db, userID).Scan(ctx, &ms)
	if err != nil {
		return nil, fmt.Errorf("active memberships: %w", err)
	}
	roles := make(map[string]string, len(ms))
	for _, m := range ms {
		roles[m.OrgID] = m.Role
	}
	return roles, nil
}

// ActiveQuery selects the columns org_id and role of userID's active
// memberships, for a caller that reads them within a larger statement of
// its own (the feed's hello reads them with the account and the user's own
// stream head, in one snapshot). Active reads the same.
func ActiveQuery(q bun.IDB, userID string) *bun.SelectQuery {
	return q.NewSelect().Model((*Membership)(nil)).Column("m.org_id", "m.role").
		Where("m.user_id = ? AND m.status = 'active'", userID)
}

// Role is userID's role in orgID when the membership is active; ok is false
// otherwise. Tasks and reports use it for their rules.
func (s *Service) Role(ctx context.Context, q bun.IDB, orgID, userID string) (role string, ok bool, err error) {
	m, found, err := membership(ctx, q, orgID, userID)
	if err != nil || !found || m.Status != api.MembershipActive {
		return "", false, err
	}
	return m.Role, true, nil
}

// streamsOf are the streams an active membership gives: the org's, and
// its review stream for a coordinator.
func streamsOf(m *Membership) []string {
	if m.Role == api.RoleCoordinator {
		return []string{Stream(m.OrgID), ReviewStream(m.OrgID)}
	}
	return []string{Stream(m.OrgID)}
}

// Deactivated ends, inside tx, what an account keeps no longer once an
// admin suspends or deletes it (status, the new one): every active claim it
// holds, on any org's tasks or the national pool (end_reason
// account_suspended or account_deleted), so the slots go to others, and
// the org streams of its memberships (RevokeAll). The memberships stay: a
// reactivated account is a member again, without its claims.
func (s *Service) Deactivated(ctx context.Context, tx bun.Tx, userID, status string) error {
	reason := api.ClaimEndSuspended
	if status == api.UserDeleted {
		reason = api.ClaimEndDeleted
	}
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return err
	}
	if err := s.endClaims(ctx, tx, "", userID, reason, now); err != nil {
		return err
	}
	return s.RevokeAll(ctx, tx, userID)
}

// RevokeAll writes, inside q, access.revoked for userID to the streams of
// each of their active memberships (auth.Service.Revoke): their account is
// being erased, suspended or deleted, and the feed drops those streams in
// each stream's own order.
func (s *Service) RevokeAll(ctx context.Context, q bun.IDB, userID string) error {
	var ms []Membership
	err := q.NewSelect().Model(&ms).Column("org_id", "role").
		Where("user_id = ? AND status = ?", userID, api.MembershipActive).OrderExpr("org_id").Scan(ctx)
	if err != nil {
		return fmt.Errorf("memberships to revoke: %w", err)
	}
	for i := range ms {
		if err := s.users.Revoke(ctx, q, userID, streamsOf(&ms[i])...); err != nil {
			return err
		}
	}
	return nil
}
