package api

import "time"

// Languages are the languages of the console and of mail; the first is the
// default.
var Languages = []string{"id", "en"}

// UpdateMeRequest is the body of PATCH /v1/me: the owner changes their name,
// region (volunteers only; "" makes the account national) or preferred
// language. Absent fields stay as they are.
type UpdateMeRequest struct {
	Name       *string `json:"name,omitempty"`
	RegionCode *string `json:"region_code,omitempty"`
	Language   *string `json:"language,omitempty"`
}

// Validate checks the fields on their own (the region code is checked by the
// auth service).
func (r *UpdateMeRequest) Validate() []FieldError {
	var c Check
	if r.Name == nil && r.RegionCode == nil && r.Language == nil {
		c.Fail("name", "name at least one of name, region_code and language")
	}
	if r.Name != nil {
		c.Line("name", r.Name, 1, 100)
	}
	if r.Language != nil {
		c.OneOf("language", *r.Language, Languages...)
	}
	return c.Errors
}

// ChangePasswordRequest is the body of POST /v1/me/password.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// Validate checks that both passwords are given (the policy is the auth
// service's).
func (r *ChangePasswordRequest) Validate() []FieldError {
	var c Check
	c.Required("current_password", r.CurrentPassword)
	c.Required("new_password", r.NewPassword)
	return c.Errors
}

// SessionResponse answers a password change: every other session and
// trusted device of the account has ended, and the caller continues with
// this new session and device token.
type SessionResponse struct {
	Tokens      Tokens `json:"tokens"`
	DeviceToken string `json:"device_token"`
}

// PasswordResetRequest is the body of POST /v1/auth/password-reset.
type PasswordResetRequest struct {
	Email string `json:"email"`
}

// PasswordResetAccepted answers every POST /v1/auth/password-reset the
// same way, whether or not an account has the email.
type PasswordResetAccepted struct {
	Status string `json:"status"` // "accepted"
	Detail string `json:"detail"`
}

// PasswordResetConfirm is the body of POST /v1/auth/password-reset/confirm.
type PasswordResetConfirm struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// Validate checks that both fields are given.
func (r *PasswordResetConfirm) Validate() []FieldError {
	var c Check
	c.Required("token", r.Token)
	c.Required("password", r.Password)
	return c.Errors
}

// ConsentRequest is the body of POST /v1/me/consent.
type ConsentRequest struct {
	Version string `json:"version"`
}

// Consent is one consent given to a version of the privacy notice.
type Consent struct {
	Version string    `json:"version"`
	At      time.Time `json:"at"`
}

// DeleteMeRequest is the body of DELETE /v1/me: the password, re-entered.
type DeleteMeRequest struct {
	Password string `json:"password"`
}

// EraseUserRequest is the body of POST /v1/admin/users/{id}/erasure.
type EraseUserRequest struct {
	// Reason says why (a data subject request's reference, say); it is
	// kept in the audit trail, so it must hold no personal data.
	Reason string `json:"reason"`
}

// Validate checks the reason.
func (r *EraseUserRequest) Validate() []FieldError {
	var c Check
	c.Lines("reason", &r.Reason, 1, 500)
	return c.Errors
}

// Session is one signed-in session of the caller (a refresh token family:
// one sign-in and its refreshes).
type Session struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`   // the sign-in
	LastUsedAt time.Time `json:"last_used_at"` // the last refresh
	ExpiresAt  time.Time `json:"expires_at"`   // unless refreshed again
}

// Device is one client trusted to sign in to the caller's account (a device
// token; see LoginRequest).
type Device struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

// Sessions answers GET /v1/me/sessions.
type Sessions struct {
	Sessions []Session `json:"sessions"`
	Devices  []Device  `json:"devices"`
}

// PrivacyNotice answers GET /v1/privacy: the current notice by language
// ("id", the binding text, and "en").
type PrivacyNotice struct {
	Version   string                 `json:"version"`
	Languages map[string]PrivacyText `json:"languages"`
}

// PrivacyText is the notice in one language.
type PrivacyText struct {
	Title    string           `json:"title"`
	Sections []PrivacySection `json:"sections"`
}

// PrivacySection is one heading of the notice with its paragraphs.
type PrivacySection struct {
	Heading    string   `json:"heading"`
	Paragraphs []string `json:"paragraphs"`
}
