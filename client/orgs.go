package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/jarimu/jarimu/api"
)

// OrgFilter selects organisations of the public registry (GET /v1/orgs).
// Empty fields select all.
type OrgFilter struct {
	// Status is api.OrgAccredited, api.OrgSuspended, api.OrgRevoked or
	// api.OrgExpired.
	Status string
	// Region is a Kemendagri region code, such as "31" (DKI Jakarta).
	Region string
	ListOptions
}

// AuditFilter selects entries of the audit trail (GET /v1/audit). Empty
// fields select all.
type AuditFilter struct {
	// TargetType is the kind of thing acted on, such as "org" or
	// "membership".
	TargetType string
	// TargetID is the id of the thing acted on.
	TargetID string
	ListOptions
}

// orgPath is the path of org id followed by segments (see resourcePath).
func orgPath(id string, segments ...string) (string, error) {
	return resourcePath("/v1/orgs", id, segments...)
}

// CreateOrg registers an accredited CSO; national officers and admins only.
// The user named by CoordinatorEmail becomes its first coordinator.
func (c *Client) CreateOrg(ctx context.Context, req api.CreateOrgRequest, opts ...CallOption) (api.Org, error) {
	var o api.Org
	err := c.do(ctx, http.MethodPost, "/v1/orgs", nil, req, &o, opts...)
	return o, err
}

// Orgs returns one page of the public registry of organisations, newest
// first. Like Org, it is public: it is sent without the access token, so it
// works signed out, and a session that has ended does not fail it.
func (c *Client) Orgs(ctx context.Context, f OrgFilter) (api.Page[api.Org], error) {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Region != "" {
		q.Set("region", f.Region)
	}
	f.ListOptions.addTo(q)
	var p api.Page[api.Org]
	err := c.do(ctx, http.MethodGet, "/v1/orgs", q, nil, &p, anonymous())
	return p, err
}

// AllOrgs yields every organisation f selects, following the pages from
// f.Cursor (see All).
func (c *Client) AllOrgs(ctx context.Context, f OrgFilter) iter.Seq2[api.Org, error] {
	return All(ctx, from(f.ListOptions, func(ctx context.Context, o ListOptions) (api.Page[api.Org], error) {
		g := f
		g.ListOptions = o
		return c.Orgs(ctx, g)
	}))
}

// Org returns the public page of organisation id, with its accreditation
// decisions. It is public, as Orgs is.
func (c *Client) Org(ctx context.Context, id string) (api.Org, error) {
	var o api.Org
	path, err := orgPath(id)
	if err != nil {
		return o, err
	}
	err = c.do(ctx, http.MethodGet, path, nil, nil, &o, anonymous())
	return o, err
}

// SetAccreditation suspends, revokes or renews the accreditation of org
// orgID; officers only. The reason is public on the org's page.
func (c *Client) SetAccreditation(ctx context.Context, orgID string, req api.AccreditationRequest, opts ...CallOption) (api.Org, error) {
	var o api.Org
	path, err := orgPath(orgID, "accreditation")
	if err != nil {
		return o, err
	}
	err = c.do(ctx, http.MethodPost, path, nil, req, &o, opts...)
	return o, err
}

// CreateInvite makes an invite code of org orgID; its coordinators only. The
// code is in this answer only: the server keeps its hash.
func (c *Client) CreateInvite(ctx context.Context, orgID string, req api.InviteRequest, opts ...CallOption) (api.Invite, error) {
	var inv api.Invite
	path, err := orgPath(orgID, "invites")
	if err != nil {
		return inv, err
	}
	err = c.do(ctx, http.MethodPost, path, nil, req, &inv, opts...)
	return inv, err
}

// Join asks to join org orgID. Without an invite code (inviteCode "") the
// membership is pending until a coordinator decides; with a valid one it is
// active at once. A 409 means a membership is already pending or active.
func (c *Client) Join(ctx context.Context, orgID, inviteCode string, opts ...CallOption) (api.Membership, error) {
	var req api.JoinRequest
	if inviteCode != "" {
		req.InviteCode = &inviteCode
	}
	var m api.Membership
	path, err := orgPath(orgID, "memberships")
	if err != nil {
		return m, err
	}
	err = c.do(ctx, http.MethodPost, path, nil, req, &m, opts...)
	return m, err
}

// Memberships returns one page of the memberships of org orgID, of the
// given status (api.MembershipPending and so on; "" for all); its
// coordinators only.
func (c *Client) Memberships(ctx context.Context, orgID, status string, o ListOptions) (api.Page[api.Membership], error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	o.addTo(q)
	var p api.Page[api.Membership]
	path, err := orgPath(orgID, "memberships")
	if err != nil {
		return p, err
	}
	err = c.do(ctx, http.MethodGet, path, q, nil, &p)
	return p, err
}

// AllMemberships yields every membership of org orgID of the given status,
// following the pages from o.Cursor (see All).
func (c *Client) AllMemberships(ctx context.Context, orgID, status string, o ListOptions) iter.Seq2[api.Membership, error] {
	return All(ctx, from(o, func(ctx context.Context, o ListOptions) (api.Page[api.Membership], error) {
		return c.Memberships(ctx, orgID, status, o)
	}))
}

// Decide approves or rejects the pending membership of user userID in org
// orgID; its coordinators only.
func (c *Client) Decide(ctx context.Context, orgID, userID string, req api.DecisionRequest, opts ...CallOption) (api.Membership, error) {
	var m api.Membership
	path, err := orgPath(orgID, "memberships", userID, "decision")
	if err != nil {
		return m, err
	}
	err = c.do(ctx, http.MethodPost, path, nil, req, &m, opts...)
	return m, err
}

// SetRole makes user userID a member or a coordinator (api.RoleMember,
// api.RoleCoordinator) of org orgID; its coordinators only.
func (c *Client) SetRole(ctx context.Context, orgID, userID, role string) (api.Membership, error) {
	var m api.Membership
	path, err := orgPath(orgID, "memberships", userID)
	if err != nil {
		return m, err
	}
	err = c.do(ctx, http.MethodPatch, path, nil, api.RoleRequest{Role: role}, &m)
	return m, err
}

// RemoveMember removes user userID from org orgID; its coordinators only.
func (c *Client) RemoveMember(ctx context.Context, orgID, userID string) error {
	path, err := orgPath(orgID, "memberships", userID)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil, nil)
}

// Leave ends the signed-in user's own membership of org orgID.
//
// The user's id is the "sub" claim of the access token held, read without
// checking the signature (the token is the Client's own, and the server
// checks it on the call anyway; an expired token still names its user).
// When no access token is held, or it is not a JWT, the id is asked of
// GET /v1/me instead. Signed out, Leave returns ErrNotSignedIn.
func (c *Client) Leave(ctx context.Context, orgID string) error {
	t := c.Tokens()
	if t.AccessToken == "" && t.RefreshToken == "" {
		return ErrNotSignedIn
	}
	uid := subject(t.AccessToken)
	if uid == "" {
		me, err := c.Me(ctx)
		if err != nil {
			return err
		}
		if uid = me.User.ID; uid == "" {
			return fmt.Errorf("jarimu: leave: GET /v1/me named no user")
		}
	}
	return c.RemoveMember(ctx, orgID, uid)
}

// subject is the "sub" claim of a JWT, decoded without verifying it; "" when
// token is not a JWT or names no subject.
func subject(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// Audit returns one page of the audit trail, newest first; officers and
// admins only.
func (c *Client) Audit(ctx context.Context, f AuditFilter) (api.Page[api.AuditEntry], error) {
	q := url.Values{}
	if f.TargetType != "" {
		q.Set("target_type", f.TargetType)
	}
	if f.TargetID != "" {
		q.Set("target_id", f.TargetID)
	}
	f.ListOptions.addTo(q)
	var p api.Page[api.AuditEntry]
	err := c.do(ctx, http.MethodGet, "/v1/audit", q, nil, &p)
	return p, err
}

// AllAudit yields every audit entry f selects, following the pages from
// f.Cursor (see All).
func (c *Client) AllAudit(ctx context.Context, f AuditFilter) iter.Seq2[api.AuditEntry, error] {
	return All(ctx, from(f.ListOptions, func(ctx context.Context, o ListOptions) (api.Page[api.AuditEntry], error) {
		g := f
		g.ListOptions = o
		return c.Audit(ctx, g)
	}))
}
