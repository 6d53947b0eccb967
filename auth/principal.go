package auth

import (
	"context"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/region"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID string
	Role   string
	// Region is the officer's (or user's) region code; "" is national.
	Region string
	// ConsentDue says the account has not consented to the privacy notice
	// in force: the server then refuses most writes (consent-required).
	ConsentDue bool
}

// IsAdmin reports whether the caller runs the installation.
func (p Principal) IsAdmin() bool { return p.Role == api.RoleAdmin }

// IsOfficer reports whether the caller is a Bawaslu officer.
func (p Principal) IsOfficer() bool { return p.Role == api.RoleOfficer }

// Covers reports whether an officer (or admin) acts over code: an officer
// acts within their region and its sub-regions; admins and national
// officers act everywhere.
func (p Principal) Covers(code string) bool {
	switch {
	case p.IsAdmin():
		return true
	case p.IsOfficer():
		return p.Region == "" || region.Contains(p.Region, code)
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller carried by ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
