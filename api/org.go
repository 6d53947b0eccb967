package api

import (
	"time"
)

// Organisation accreditation statuses. "expired" is never stored: it is
// computed when an accredited org's accredited_until has passed.
const (
	OrgAccredited = "accredited"
	OrgSuspended  = "suspended"
	OrgRevoked    = "revoked"
	OrgExpired    = "expired"
)

// Membership roles and statuses.
const (
	RoleMember      = "member"
	RoleCoordinator = "coordinator"

	MembershipPending  = "pending"
	MembershipActive   = "active"
	MembershipRejected = "rejected"
	MembershipRemoved  = "removed"
	MembershipLeft     = "left"
)

// Org is an accredited civil society organisation as the public registry
// shows it. RegionCode nil: a national organisation.
type Org struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	AccreditationNumber string     `json:"accreditation_number"`
	AccreditedUntil     time.Time  `json:"accredited_until"`
	Status              string     `json:"status"`
	RegionCode          *string    `json:"region_code"`
	RegionName          *string    `json:"region_name"` // region.Name of RegionCode; nil with it
	MemberCount         int        `json:"member_count"`
	CreatedAt           time.Time  `json:"created_at"`
	Decisions           []Decision `json:"decisions,omitempty"`
}

// Decision is one accreditation decision, public on the org page.
type Decision struct {
	Action string     `json:"action"`
	Status string     `json:"status"`
	Reason string     `json:"reason,omitempty"`
	Until  *time.Time `json:"until,omitempty"`
	At     time.Time  `json:"at"`
}

// CreateOrgRequest registers an accredited CSO (POST /v1/orgs).
type CreateOrgRequest struct {
	Name                string    `json:"name"`
	AccreditationNumber string    `json:"accreditation_number"`
	AccreditedUntil     time.Time `json:"accredited_until"`
	RegionCode          *string   `json:"region_code,omitempty"`
	CoordinatorEmail    *string   `json:"coordinator_email,omitempty"`
}

// Validate checks the fields that need no database.
func (r *CreateOrgRequest) Validate() []FieldError {
	var c Check
	c.Line("name", &r.Name, 2, 200)
	c.Line("accreditation_number", &r.AccreditationNumber, 1, 100)
	if r.AccreditedUntil.IsZero() {
		c.Fail("accredited_until", "is required")
	}
	if r.CoordinatorEmail != nil {
		c.Email("coordinator_email", r.CoordinatorEmail)
	}
	return c.Errors
}

// Accreditation actions.
const (
	ActionSuspend = "suspend"
	ActionRevoke  = "revoke"
	ActionRenew   = "renew"
)

// AccreditationRequest suspends, revokes or renews (POST /v1/orgs/{id}/accreditation).
type AccreditationRequest struct {
	Action string     `json:"action"`
	Until  *time.Time `json:"until,omitempty"`
	Reason string     `json:"reason"`
}

// Validate checks the fields that need no database.
func (r *AccreditationRequest) Validate() []FieldError {
	var c Check
	c.OneOf("action", r.Action, ActionSuspend, ActionRevoke, ActionRenew)
	c.Lines("reason", &r.Reason, 3, 1000)
	if r.Action == ActionRenew && r.Until == nil {
		c.Fail("until", "is required to renew")
	}
	if r.Action != ActionRenew && r.Until != nil {
		c.Fail("until", "is only for renew")
	}
	return c.Errors
}

// InviteRequest creates an invite code (POST /v1/orgs/{id}/invites).
type InviteRequest struct {
	MaxUses   int       `json:"max_uses"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Validate checks the fields that need no database.
func (r *InviteRequest) Validate() []FieldError {
	var c Check
	if r.MaxUses < 1 || r.MaxUses > 10000 {
		c.Fail("max_uses", "must be from 1 to 10000")
	}
	if r.ExpiresAt.IsZero() {
		c.Fail("expires_at", "is required")
	}
	return c.Errors
}

// Invite is a created invite. The code is shown once, here; only its hash is kept.
type Invite struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Code      string    `json:"code"`
	MaxUses   int       `json:"max_uses"`
	ExpiresAt time.Time `json:"expires_at"`
}

// JoinRequest asks to join an org (POST /v1/orgs/{id}/memberships).
type JoinRequest struct {
	InviteCode *string `json:"invite_code,omitempty"`
}

// Membership is a user's place in an org.
type Membership struct {
	OrgID     string     `json:"org_id"`
	UserID    string     `json:"user_id"`
	UserName  string     `json:"user_name,omitempty"`
	Role      string     `json:"role"`
	Status    string     `json:"status"`
	Reason    string     `json:"reason,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// DecisionRequest approves or rejects a pending membership.
type DecisionRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
}

// Validate checks the fields that need no database.
func (r *DecisionRequest) Validate() []FieldError {
	var c Check
	c.OneOf("decision", r.Decision, "approve", "reject")
	c.Lines("reason", &r.Reason, 0, 1000)
	if r.Decision == "reject" && r.Reason == "" {
		c.Fail("reason", "a rejection needs a reason the volunteer will see")
	}
	return c.Errors
}

// RoleRequest changes a member's role (PATCH /v1/orgs/{id}/memberships/{user_id}).
type RoleRequest struct {
	Role string `json:"role"`
}

// Validate checks the fields that need no database.
func (r *RoleRequest) Validate() []FieldError {
	var c Check
	c.OneOf("role", r.Role, RoleMember, RoleCoordinator)
	return c.Errors
}
