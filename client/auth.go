package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/jarimu/jarimu/api"
)

// Signup makes a volunteer account and signs the Client in as it. A taken
// email is a 409; a weak password a 422 with field errors.
func (c *Client) Signup(ctx context.Context, req api.SignupRequest) (api.AuthResponse, error) {
	var resp api.AuthResponse
	if err := c.do(ctx, http.MethodPost, "/v1/auth/signup", nil, req, &resp); err != nil {
		return api.AuthResponse{}, err
	}
	c.signedIn(resp)
	return resp, nil
}

// Login signs the Client in, sending the device token it holds (see
// DeviceToken). Any wrong credential is a 401 "invalid-credentials"; too
// many attempts a 429 "rate-limited".
func (c *Client) Login(ctx context.Context, email, password string) (api.AuthResponse, error) {
	var resp api.AuthResponse
	req := api.LoginRequest{Email: email, Password: password, DeviceToken: c.DeviceToken()}
	if err := c.do(ctx, http.MethodPost, "/v1/auth/login", nil, req, &resp); err != nil {
		return api.AuthResponse{}, err
	}
	c.signedIn(resp)
	return resp, nil
}

// DeviceToken is the device token the Client holds: the one of its last
// signup or login, or else the one given by WithDeviceToken; "" when none.
// It outlives Logout. Keep it with a saved session and give it back with
// WithDeviceToken.
func (c *Client) DeviceToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.device
}

// signedIn takes the tokens and the device token of a sign-in's answer.
func (c *Client) signedIn(resp api.AuthResponse) {
	if resp.DeviceToken != "" {
		c.mu.Lock()
		c.device = resp.DeviceToken
		c.mu.Unlock()
	}
	c.SetTokens(resp.Tokens)
}

// Refresh replaces the tokens now, spending the refresh token held, and
// returns the new ones. Calls refresh by themselves when needed, so this is
// only for callers that want fresh tokens ahead of time (for the feed, say).
// A refused refresh token (401) signs the Client out.
func (c *Client) Refresh(ctx context.Context) (api.Tokens, error) {
	return c.refresh(ctx, c.Tokens().RefreshToken)
}

// Logout revokes the refresh token held and signs the Client out. The Client
// is signed out even when the server cannot be told; that error is returned.
// A refresh token the server already refuses (401) counts as logged out.
func (c *Client) Logout(ctx context.Context) error {
	t := c.Tokens()
	var err error
	if t.RefreshToken != "" {
		req := api.RefreshRequest{RefreshToken: t.RefreshToken}
		err = c.do(ctx, http.MethodPost, "/v1/auth/logout", nil, req, nil)
	}
	c.SetTokens(api.Tokens{})
	if StatusOf(err) == http.StatusUnauthorized {
		return nil
	}
	return err
}

// Me returns the signed-in user and their memberships.
func (c *Client) Me(ctx context.Context) (api.Me, error) {
	var me api.Me
	err := c.do(ctx, http.MethodGet, "/v1/me", nil, nil, &me)
	return me, err
}

// CreateUser makes an account of any role, officers included; admins only.
func (c *Client) CreateUser(ctx context.Context, req api.CreateUserRequest, opts ...CallOption) (api.User, error) {
	var u api.User
	err := c.do(ctx, http.MethodPost, "/v1/admin/users", nil, req, &u, opts...)
	return u, err
}

// User returns the account id; admins only.
func (c *Client) User(ctx context.Context, id string) (api.User, error) {
	return call[api.User](ctx, c, http.MethodGet, routeTo("/v1/admin/users", id), nil, nil)
}

// SetUserStatus suspends or reactivates the account id (status is
// api.UserActive, api.UserSuspended or api.UserDeleted); admins only. A
// suspended account's tokens stop working at once.
func (c *Client) SetUserStatus(ctx context.Context, id, status string) (api.User, error) {
	var u api.User
	req := api.UpdateUserRequest{Status: status}
	err := c.do(ctx, http.MethodPatch, "/v1/admin/users/"+url.PathEscape(id), nil, req, &u)
	return u, err
}

// Healthz checks that the server process runs: nil on 200. It is not
// retried, so that a probe answers at once.
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil, noRetry())
}

// Readyz checks that the server can serve (its dependencies answer and it is
// not shutting down): nil on 200, else an *Error, typically a 503. It is not
// retried, so that a probe answers at once.
func (c *Client) Readyz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, nil, noRetry())
}
