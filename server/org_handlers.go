package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
)

func (s *Server) handleCreateOrg(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusCreated, func(r *http.Request, p auth.Principal, req api.CreateOrgRequest) (api.Org, error) {
		return s.orgs.Create(r.Context(), p, req)
	}, func(o api.Org) string { return "/v1/orgs/" + o.ID })(w, r)
}

func (s *Server) handleListOrgs(w http.ResponseWriter, r *http.Request) error {
	q, err := readList(r, enum{"status", []string{api.OrgAccredited, api.OrgSuspended, api.OrgRevoked, api.OrgExpired}})
	if err != nil {
		return err
	}
	orgs, err := s.orgs.List(r.Context(), org.Filter{Status: q.enums["status"], Region: q.region, Before: q.before, Limit: q.fetch()})
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, paginate(orgs, q.page, func(o api.Org) string { return o.ID }))
	return nil
}

// regionQuery reads an optional ?region= code.
func regionQuery(r *http.Request) (string, error) {
	v := r.URL.Query().Get("region")
	if v != "" && region.Validate(v) != nil {
		return "", problem.BadQueryType.New("region: %s", region.Message(v, "must be a Kemendagri region code"))
	}
	return v, nil
}

func (s *Server) handleGetOrg(w http.ResponseWriter, r *http.Request) error {
	o, err := s.orgs.Page(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, o)
	return nil
}

func (s *Server) handleAccreditation(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.AccreditationRequest) (api.Org, error) {
		return s.orgs.SetAccreditation(r.Context(), p, r.PathValue("id"), req)
	}, nil)(w, r)
}

func (s *Server) handleCreateInvite(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusCreated, func(r *http.Request, p auth.Principal, req api.InviteRequest) (api.Invite, error) {
		return s.orgs.CreateInvite(r.Context(), p, r.PathValue("id"), req)
	}, nil)(w, r)
}

func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusCreated, func(r *http.Request, p auth.Principal, req api.JoinRequest) (api.Membership, error) {
		return s.orgs.Join(r.Context(), p, r.PathValue("id"), req)
	}, func(api.Membership) string { return "/v1/me" })(w, r)
}

func (s *Server) handleListMemberships(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	status, err := oneOf(r, "status", api.MembershipPending, api.MembershipActive, api.MembershipRejected, api.MembershipRemoved, api.MembershipLeft)
	if err != nil {
		return err
	}
	f := org.ListFilter{Status: status, Limit: pg.fetch()}
	if pg.Cursor != "" {
		t, id, err := parseTimeKey(pg.Cursor)
		if err != nil {
			return err
		}
		f.Before = &org.Cursor{CreatedAt: t, UserID: id}
	}
	ms, err := s.orgs.Members(r.Context(), p, r.PathValue("id"), f)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, paginate(ms, pg, func(m api.Membership) string { return timeKey(m.CreatedAt, m.UserID) }))
	return nil
}

func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.DecisionRequest) (api.Membership, error) {
		return s.orgs.Decide(r.Context(), p, r.PathValue("id"), r.PathValue("user_id"), req)
	}, nil)(w, r)
}

func (s *Server) handleSetRole(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.RoleRequest) (api.Membership, error) {
		return s.orgs.SetRole(r.Context(), p, r.PathValue("id"), r.PathValue("user_id"), req)
	}, nil)(w, r)
}

func (s *Server) handleRemoveMembership(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if err := s.orgs.Remove(r.Context(), p, r.PathValue("id"), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := s.canReadAudit(r, p, q.Get("target_type"), q.Get("target_id")); err != nil {
		return err
	}
	if err := checkAuditTarget(q.Get("target_type"), q.Get("target_id")); err != nil {
		return err
	}
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	before, err := pg.idCursor()
	if err != nil {
		return err
	}
	es, err := s.audit.List(r.Context(), audit.Query{TargetType: q.Get("target_type"), TargetID: q.Get("target_id"), Before: before, Limit: pg.fetch()})
	if err != nil {
		return err
	}
	out := make([]api.AuditEntry, len(es))
	for i := range es {
		out[i] = es[i].API()
	}
	encode(w, http.StatusOK, paginate(out, pg, func(e api.AuditEntry) string { return e.ID }))
	return nil
}

// auditTargets are the target types of the audit trail's rows.
var auditTargets = []string{"alert", "membership", "org", "report", "user"}

// checkAuditTarget refuses (400 bad-query) a target_type that no row has,
// or a target_id that is neither an id nor two joined by a colon (a
// membership's <org_id>:<user_id>).
func checkAuditTarget(targetType, targetID string) error {
	if targetType != "" && !slices.Contains(auditTargets, targetType) {
		return problem.BadQueryType.New("target_type must be one of: %s", strings.Join(auditTargets, ", "))
	}
	if targetID != "" {
		a, b, pair := strings.Cut(targetID, ":")
		if !api.ValidID(a) || pair && !api.ValidID(b) {
			return problem.BadQueryType.New("target_id must be an id (a UUID), or a membership's <org_id>:<user_id>")
		}
	}
	return nil
}

// canReadAudit lets admins and national officers read the whole trail; a
// regional officer reads the trail of one organisation within their region.
func (s *Server) canReadAudit(r *http.Request, p auth.Principal, targetType, targetID string) error {
	switch {
	case p.IsAdmin() || p.IsOfficer() && p.Region == "":
		return nil
	case !p.IsOfficer():
		return problem.Errorf(problem.Forbidden, "only Bawaslu officers and admins read the audit trail")
	case targetType != "org" || targetID == "":
		return problem.Errorf(problem.Forbidden, "a regional officer reads the trail of one organisation: target_type=org&target_id=...")
	}
	if !api.ValidID(targetID) {
		return problem.Errorf(problem.NotFound, "no such organisation")
	}
	o, err := s.orgs.Get(r.Context(), targetID)
	if err != nil {
		return err
	}
	if !p.Covers(o.Region()) {
		return problem.Errorf(problem.Forbidden, "this organisation is outside your region")
	}
	return nil
}
