package org

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
)

func actorOf(p auth.Principal) audit.Actor { return audit.Actor{ID: p.UserID, Role: p.Role} }

// Create registers an accredited CSO. National officers and admins do this;
// the named user, an active volunteer, becomes its first coordinator.
func (s *Service) Create(ctx context.Context, p auth.Principal, req api.CreateOrgRequest) (api.Org, error) {
	if !p.IsAdmin() && !(p.IsOfficer() && p.Region == "") {
		return api.Org{}, problem.Errorf(problem.Forbidden, "only national Bawaslu officers and admins register organisations")
	}
	if err := problem.Validate(&req); err != nil {
		return api.Org{}, err
	}
	coordinator, err := s.checkCreate(ctx, req)
	if err != nil {
		return api.Org{}, err
	}
	var out api.Org
	err = s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if !req.AccreditedUntil.After(now) {
			return problem.Validation(api.FieldError{Field: "accredited_until", Message: "must be in the future"})
		}
		o := &Org{ID: auth.NewID(), Name: req.Name, AccreditationNumber: req.AccreditationNumber,
			AccreditedUntil: req.AccreditedUntil.UTC().Truncate(time.Microsecond), Status: api.OrgAccredited, RegionCode: req.RegionCode,
			CreatedBy: &p.UserID, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(o).Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return AccreditationNumberTaken.New("an organisation with this accreditation number is already registered")
			}
			return fmt.Errorf("insert org: %w", err)
		}
		if coordinator != nil {
			if err := s.addFirstCoordinator(ctx, tx, o, coordinator, now); err != nil {
				return err
			}
			o.MemberCount = 1
		}
		out = o.API(now)
		return audit.Record(ctx, tx, actorOf(p), "org.create", "org", o.ID, nil, out)
	})
	if err != nil {
		return api.Org{}, fmt.Errorf("create org: %w", err)
	}
	return out, nil
}

// checkCreate validates the region and finds the first coordinator.
func (s *Service) checkCreate(ctx context.Context, req api.CreateOrgRequest) (*auth.User, error) {
	var c api.Check
	if req.RegionCode != nil && region.Validate(*req.RegionCode) != nil {
		c.Fail("region_code", "%s", region.Message(*req.RegionCode, "must be a Kemendagri province or regency code, or null for a national organisation"))
	}
	var u *auth.User
	if req.CoordinatorEmail != nil {
		found, ok, err := s.users.UserByEmail(ctx, *req.CoordinatorEmail)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
			c.Fail("coordinator_email", "no account has this email; the coordinator signs up first")
		case found.Role != api.RoleVolunteer || found.Status != api.UserActive:
			c.Fail("coordinator_email", "must be an active volunteer account (staff stay neutral)")
		}
		u = found
	}
	if !c.OK() {
		return nil, problem.Validation(c.Errors...)
	}
	return u, nil
}

func (s *Service) addFirstCoordinator(ctx context.Context, tx bun.Tx, o *Org, u *auth.User, now time.Time) error {
	m := &Membership{OrgID: o.ID, UserID: u.ID, Role: api.RoleCoordinator, Status: api.MembershipActive,
		DecidedAt: &now, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
		return fmt.Errorf("add coordinator: %w", err)
	}
	return notifyMember(ctx, tx, api.EventMembershipDecided, o, m)
}

// Filter narrows the registry list.
type Filter struct {
	Status string // accredited, suspended, revoked, expired; "" all
	Region string // orgs of this region and below; "" all
	Before string // cursor: an org id; only older ones
	Limit  int
}

// List reads the public registry, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]api.Org, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var os []Org
	q := s.db.NewSelect().Model(&os).ColumnExpr("o.*").ColumnExpr(memberCount).OrderExpr("o.id DESC").Limit(int64(f.Limit))
	switch f.Status {
	case api.OrgAccredited:
		q = q.Where("o.status = 'accredited' AND o.accredited_until >= ?", now)
	case api.OrgExpired:
		q = q.Where("o.status = 'accredited' AND o.accredited_until < ?", now)
	case api.OrgSuspended, api.OrgRevoked:
		q = q.Where("o.status = ?", f.Status)
	}
	if f.Region != "" {
		q = q.Where("(o.region_code = ? OR o.region_code LIKE ?)", f.Region, f.Region+"%")
	}
	if f.Before != "" {
		q = q.Where("o.id < ?", f.Before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	out := make([]api.Org, len(os))
	for i := range os {
		out[i] = os[i].API(now)
	}
	return out, nil
}

// Page reads one org for its public page, with its accreditation decisions.
func (s *Service) Page(ctx context.Context, orgID string) (api.Org, error) {
	o, err := s.Get(ctx, orgID)
	if err != nil {
		return api.Org{}, err
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return api.Org{}, err
	}
	out := o.API(now)
	es, err := audit.NewTrail(s.db).List(ctx, audit.Query{TargetType: "org", TargetID: orgID, Limit: 100,
		Actions: []string{"org.create", "org.accreditation.suspend", "org.accreditation.revoke", "org.accreditation.renew", "org.accreditation.expire"}})
	if err != nil {
		return api.Org{}, err
	}
	out.Decisions = make([]api.Decision, 0, len(es))
	for _, e := range es {
		out.Decisions = append(out.Decisions, decisionOf(e))
	}
	return out, nil
}

// decisionOf shows an audit row publicly: the decision, never who made it.
func decisionOf(e audit.Entry) api.Decision {
	d := api.Decision{Action: strings.TrimPrefix(strings.TrimPrefix(e.Action, "org.accreditation."), "org."), At: e.At.UTC()}
	var after struct {
		Status          string    `json:"status"`
		Reason          string    `json:"reason"`
		AccreditedUntil time.Time `json:"accredited_until"`
	}
	if e.After != nil {
		json.Unmarshal([]byte(*e.After), &after)
	}
	d.Status, d.Reason = after.Status, after.Reason
	if !after.AccreditedUntil.IsZero() {
		u := after.AccreditedUntil
		d.Until = &u
	}
	return d
}
