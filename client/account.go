package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/jarimu/jarimu/api"
)

// Privacy reads the privacy notice in force; signup consents to its
// Version.
func (c *Client) Privacy(ctx context.Context) (api.PrivacyNotice, error) {
	var n api.PrivacyNotice
	err := c.do(ctx, http.MethodGet, "/v1/privacy", nil, nil, &n, anonymous())
	return n, err
}

// UpdateMe changes the signed-in user's name, region (volunteers; "" for
// national) or language; nil fields stay.
func (c *Client) UpdateMe(ctx context.Context, req api.UpdateMeRequest) (api.User, error) {
	var u api.User
	err := c.do(ctx, http.MethodPatch, "/v1/me", nil, req, &u)
	return u, err
}

// ChangePassword sets a new password: every other session and trusted
// device of the account ends, and the Client goes on with the new session
// of the answer. A wrong current password is a 403 "wrong-password".
func (c *Client) ChangePassword(ctx context.Context, current, next string) error {
	var resp api.SessionResponse
	req := api.ChangePasswordRequest{CurrentPassword: current, NewPassword: next}
	if err := c.do(ctx, http.MethodPost, "/v1/me/password", nil, req, &resp, noRetry()); err != nil {
		return err
	}
	c.signedIn(api.AuthResponse{Tokens: resp.Tokens, DeviceToken: resp.DeviceToken})
	return nil
}

// Consent records the signed-in user's consent to the privacy notice of
// version (the current one; see Privacy).
func (c *Client) Consent(ctx context.Context, version string) (api.User, error) {
	var u api.User
	err := c.do(ctx, http.MethodPost, "/v1/me/consent", nil, api.ConsentRequest{Version: version}, &u)
	return u, err
}

// Sessions lists the signed-in user's sessions and trusted devices.
func (c *Client) Sessions(ctx context.Context) (api.Sessions, error) {
	var s api.Sessions
	err := c.do(ctx, http.MethodGet, "/v1/me/sessions", nil, nil, &s)
	return s, err
}

// RevokeSession ends one of the signed-in user's sessions.
func (c *Client) RevokeSession(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/me/sessions/"+url.PathEscape(id), nil, nil, nil)
}

// RevokeDevice forgets one of the signed-in user's trusted devices.
func (c *Client) RevokeDevice(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/me/devices/"+url.PathEscape(id), nil, nil, nil)
}

// RequestPasswordReset asks for a reset link to be mailed to email. The
// answer is the same whether or not an account has it.
func (c *Client) RequestPasswordReset(ctx context.Context, email string) error {
	return c.do(ctx, http.MethodPost, "/v1/auth/password-reset", nil, api.PasswordResetRequest{Email: email}, nil, anonymous())
}

// ConfirmPasswordReset sets a new password with the token of a reset link.
func (c *Client) ConfirmPasswordReset(ctx context.Context, token, password string) error {
	return c.do(ctx, http.MethodPost, "/v1/auth/password-reset/confirm", nil, api.PasswordResetConfirm{Token: token, Password: password}, nil, anonymous())
}

// DeleteMe erases the signed-in user's account, irreversibly, with the
// password re-entered, and signs the Client out.
func (c *Client) DeleteMe(ctx context.Context, password string) error {
	if err := c.do(ctx, http.MethodDelete, "/v1/me", nil, api.DeleteMeRequest{Password: password}, nil, noRetry()); err != nil {
		return err
	}
	c.SetTokens(api.Tokens{})
	return nil
}
