package api

import "time"

// Roles of a user account.
const (
	RoleVolunteer = "volunteer"
	RoleOfficer   = "officer"
	RoleAdmin     = "admin"
)

// User is an account as the API shows it. RegionCode nil means national.
type User struct {
	ID         string  `json:"id"`
	Email      string  `json:"email"`
	Name       string  `json:"name"`
	Role       string  `json:"role"`
	RegionCode *string `json:"region_code"`
	RegionName *string `json:"region_name"` // region.Name of RegionCode; nil with it
	Status     string  `json:"status"`
	// Language is the preferred language of the console and of mail: "id"
	// (the default) or "en".
	Language string `json:"language"`
	// PrivacyVersion is the version of the privacy notice the owner last
	// consented to; null for an account made by an admin until its owner
	// consents.
	PrivacyVersion *string   `json:"privacy_version"`
	CreatedAt      time.Time `json:"created_at"`
}

// Tokens is a fresh pair of credentials. ExpiresIn is the access token's
// lifetime in seconds.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// SignupRequest is the body of POST /v1/auth/signup. It carries no role:
// everyone who signs up is a volunteer.
type SignupRequest struct {
	Email      string  `json:"email"`
	Password   string  `json:"password"`
	Name       string  `json:"name"`
	RegionCode *string `json:"region_code,omitempty"`
	// PrivacyVersion is the version of the privacy notice (GET
	// /v1/privacy) the person read and consents to: it must be the current
	// one.
	PrivacyVersion string `json:"privacy_version"`
	// Language is "id" (the default) or "en".
	Language string `json:"language,omitempty"`
}

// LoginRequest is the body of POST /v1/auth/login. DeviceToken is the
// device token an earlier signup or login gave this client, if any: with it
// the attempt is throttled apart from strangers guessing the password.
type LoginRequest struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	DeviceToken string `json:"device_token,omitempty"`
}

// RefreshRequest is the body of POST /v1/auth/refresh and /v1/auth/logout.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// AuthResponse answers signup and login. DeviceToken marks this client as
// one that has signed in before: keep it (it outlives logout) and send it
// with the next login, which replaces it with the one in its answer.
type AuthResponse struct {
	User        User   `json:"user"`
	Tokens      Tokens `json:"tokens"`
	DeviceToken string `json:"device_token"`
	// ConsentDue says the account has not consented to the current privacy
	// notice: until it does (POST /v1/me/consent), most writes answer 403
	// consent-required; reads, alerts and the feed keep working.
	ConsentDue bool `json:"consent_due"`
}

// RefreshResponse answers POST /v1/auth/refresh.
type RefreshResponse struct {
	Tokens Tokens `json:"tokens"`
}

// MembershipSummary is one of a user's memberships, as /v1/me lists them.
type MembershipSummary struct {
	OrgID   string `json:"org_id"`
	OrgName string `json:"org_name"`
	Role    string `json:"role"`
	Status  string `json:"status"`
	// OrgStatus is the org's accreditation status, so members see why an org
	// that is not accredited takes no new tasks or reports.
	OrgStatus string `json:"org_status"`
	// Reason is a coordinator's reason for a rejection or removal.
	Reason string `json:"reason,omitempty"`
}

// Me answers GET /v1/me.
type Me struct {
	User        User                `json:"user"`
	Memberships []MembershipSummary `json:"memberships"`
	ConsentDue  bool                `json:"consent_due"` // see AuthResponse
}

// CreateUserRequest is the body of POST /v1/admin/users (staff accounts).
type CreateUserRequest struct {
	Email      string  `json:"email"`
	Password   string  `json:"password"`
	Name       string  `json:"name"`
	Role       string  `json:"role"`
	RegionCode *string `json:"region_code,omitempty"`
}

// UpdateUserRequest is the body of PATCH /v1/admin/users/{id}: an admin
// suspends, reactivates or deletes an account, moves it to another region,
// or changes a staff account's role. Absent fields stay as they are.
type UpdateUserRequest struct {
	Status     string  `json:"status,omitempty"`
	Role       string  `json:"role,omitempty"`        // officer or admin, for staff accounts
	RegionCode *string `json:"region_code,omitempty"` // "" makes the account national
}

// Account statuses. A suspended or deleted account's tokens stop working at once.
const (
	UserActive    = "active"
	UserSuspended = "suspended"
	UserDeleted   = "deleted"
	// UserErased is an account erased at its owner's or an admin's
	// request: no name, email or password is left, nothing can bring it
	// back, and what it did that is kept (verified reports) points at it.
	UserErased = "erased"
)

// Validate checks the fields whose rules need no database (the password
// policy and region codes are checked by the auth service).
func (r *SignupRequest) Validate() []FieldError {
	var c Check
	c.Email("email", &r.Email)
	c.Line("name", &r.Name, 1, 100)
	c.Required("password", r.Password)
	if r.Language != "" {
		c.OneOf("language", r.Language, Languages...)
	}
	return c.Errors
}

// Validate checks the fields of a staff account request.
func (r *CreateUserRequest) Validate() []FieldError {
	var c Check
	c.Email("email", &r.Email)
	c.Line("name", &r.Name, 1, 100)
	c.OneOf("role", r.Role, RoleAdmin, RoleOfficer, RoleVolunteer)
	c.Required("password", r.Password)
	return c.Errors
}
