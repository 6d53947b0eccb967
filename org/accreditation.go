package org

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/problem"
)

// transitions is the one table of accreditation changes: action -> status
// now -> status after. A revoked accreditation is final (a CSO that lost it
// registers anew with a new decision).
var transitions = map[string]map[string]string{
	api.ActionSuspend: {api.OrgAccredited: api.OrgSuspended, api.OrgExpired: api.OrgSuspended},
	api.ActionRevoke:  {api.OrgAccredited: api.OrgRevoked, api.OrgSuspended: api.OrgRevoked, api.OrgExpired: api.OrgRevoked},
	api.ActionRenew:   {api.OrgAccredited: api.OrgAccredited, api.OrgSuspended: api.OrgAccredited, api.OrgExpired: api.OrgAccredited},
}

// claimEndOf is why claims end when an org moves to a status that takes
// its tasks away from its members.
var claimEndOf = map[string]string{api.OrgSuspended: api.ClaimEndOrgSuspended, api.OrgRevoked: api.ClaimEndOrgRevoked}

// accreditationChange is the payload of org.accreditation_changed and the
// audit snapshot of a decision.
type accreditationChange struct {
	OrgID           string    `json:"org_id"`
	Status          string    `json:"status"`
	Reason          string    `json:"reason,omitempty"`
	AccreditedUntil time.Time `json:"accredited_until"`
}

// SetAccreditation suspends, revokes or renews an org. Officers act on orgs
// within their region (national officers on all); admins on all. Suspending
// and revoking end every active claim on the org's tasks.
func (s *Service) SetAccreditation(ctx context.Context, p auth.Principal, orgID string, req api.AccreditationRequest) (api.Org, error) {
	if !p.IsOfficer() && !p.IsAdmin() {
		return api.Org{}, problem.Errorf(problem.Forbidden, "only Bawaslu officers decide accreditation")
	}
	var out api.Org
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		o, err := load(ctx, tx, s.db, orgID, true)
		if err != nil {
			return err
		}
		if !p.Covers(o.Region()) {
			return problem.Errorf(problem.Forbidden, "this organisation is outside your region")
		}
		if err := problem.Validate(&req); err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		from := o.StatusAt(now)
		to, ok := transitions[req.Action][from]
		if !ok {
			return AccreditationTransition.New("cannot %s an organisation that is %s", req.Action, from)
		}
		before := accreditationChange{OrgID: o.ID, Status: from, AccreditedUntil: o.AccreditedUntil}
		if req.Action == api.ActionRenew {
			if !req.Until.After(now) {
				return problem.Validation(api.FieldError{Field: "until", Message: "must be in the future"})
			}
			o.AccreditedUntil = req.Until.UTC().Truncate(time.Microsecond)
		}
		o.Status, o.UpdatedAt, o.LapseAnnounced = to, now, false
		if _, err := tx.NewUpdate().Model(o).Column("status", "accredited_until", "updated_at", "lapse_announced").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update org: %w", err)
		}
		if reason, ok := claimEndOf[to]; ok {
			if err := s.endClaims(ctx, tx, o.ID, "", reason, now); err != nil {
				return err
			}
		}
		after := accreditationChange{OrgID: o.ID, Status: to, Reason: req.Reason, AccreditedUntil: o.AccreditedUntil}
		if _, err := event.Append(ctx, tx, Stream(o.ID), "org.accreditation_changed", after); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, actorOf(p), "org.accreditation."+req.Action, "org", o.ID, before, after); err != nil {
			return err
		}
		o, err = load(ctx, tx, s.db, orgID, false)
		out = o.API(now)
		return err
	})
	if err != nil {
		return api.Org{}, fmt.Errorf("accreditation: %w", err)
	}
	return out, nil
}

// AnnounceLapses finds accredited orgs whose validity has passed and, once
// per lapse, ends their members' active claims, emits
// org.accreditation_changed (status expired) and an audit row. Several
// instances may run it at once: the guarded update lets one win.
func (s *Service) AnnounceLapses(ctx context.Context) (int, error) {
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return 0, err
	}
	var ids []string
	err = s.db.NewSelect().Model((*Org)(nil)).Column("id").
		Where("status = 'accredited' AND accredited_until < ? AND NOT lapse_announced", now).Limit(500).Scan(ctx, &ids)
	if err != nil {
		return 0, fmt.Errorf("find lapses: %w", err)
	}
	n := 0
	for _, id := range ids {
		won, err := s.announceLapse(ctx, id, now)
		if err != nil {
			return n, err
		}
		if won {
			n++
		}
	}
	return n, nil
}

func (s *Service) announceLapse(ctx context.Context, id string, now time.Time) (bool, error) {
	won := false
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*Org)(nil)).Set("lapse_announced = TRUE").
			Where("id = ? AND status = 'accredited' AND accredited_until < ? AND NOT lapse_announced", id, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark lapse: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		won = true
		o, err := load(ctx, tx, s.db, id, false)
		if err != nil {
			return err
		}
		if err := s.endClaims(ctx, tx, id, "", api.ClaimEndOrgExpired, now); err != nil {
			return err
		}
		change := accreditationChange{OrgID: id, Status: api.OrgExpired, Reason: "accreditation period ended", AccreditedUntil: o.AccreditedUntil}
		if _, err := event.Append(ctx, tx, Stream(id), "org.accreditation_changed", change); err != nil {
			return err
		}
		before := accreditationChange{OrgID: id, Status: api.OrgAccredited, AccreditedUntil: o.AccreditedUntil}
		return audit.Record(ctx, tx, audit.System, "org.accreditation.expire", "org", id, before, change)
	})
	return won, err
}
