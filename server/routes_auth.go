package server

import "github.com/jarimu/jarimu/api"

// authRoutes are the routes of accounts: sign-up, sign-in, sessions, and the
// admins' account calls, each with the operation the API document shows for
// it (in /docs order).
func (s *Server) authRoutes() []route {
	return []route{
		// Auth
		{h: s.handleSignup, op: op{method: "POST", path: "/v1/auth/signup", id: "signup", tag: "Auth", summary: "Create a volunteer account",
			desc: "Anyone. Creates a `volunteer` account and returns its first tokens and a `device_token` for this client's next login (everyone who signs up is a volunteer; staff accounts are made by admins).\n\n" +
				"Field errors come in two rounds: first `email` (ASCII before the @; an internationalised domain is stored in its xn-- form), `name` (one line, no invisible or direction-changing characters; stored in NFC) and a missing `password`; then the password policy (10 to 256 characters, not a commonly used password) and `region_code`. Signup is not throttled.",
			body: goType[api.SignupRequest](), replies: []reply{okReply(201, "The account and its first tokens.", goType[api.AuthResponse](), "Location")},
			problems: []string{"validation", "email-taken", "busy"}}},
		{h: s.handleLogin, op: op{method: "POST", path: "/v1/auth/login", id: "login", tag: "Auth", summary: "Sign in",
			desc: "Anyone. Every failed login gets the same answer, 401 `invalid-credentials`, whatever failed (unknown email, wrong password, a suspended account), in about the same time. Each login starts a new session (a family of refresh tokens) and answers a `device_token` for this client's next login.\n\n" +
				"Throttled before the password is checked, in two lanes (429 `rate-limited` with `Retry-After`). With a valid `device_token` of this account: per device token only (10 at once, then one a minute). Without one (or with one over its allowance): per client address (50 at once, then 2 a second), per account at that address (10 at once, then one a minute) and per account over all addresses (100 at once, then 100 an hour). Someone guessing a password thus cannot keep its owner out.",
			body: goType[api.LoginRequest](), replies: []reply{okReply(200, "The user and fresh tokens.", goType[api.AuthResponse]())},
			problems: []string{"invalid-credentials", "rate-limited", "busy"}}},
		{h: s.handleRefresh, op: op{method: "POST", path: "/v1/auth/refresh", id: "refreshTokens", tag: "Auth", summary: "Trade a refresh token for new tokens",
			desc: "The holder of a refresh token. The presented token is spent and a new pair of the same family is returned.\n\n" +
				"A token presented again within 10 seconds of being spent (two tabs refreshing at once) gets a further fresh pair; presented later, it is treated as theft and the whole family is revoked (401 `invalid-refresh-token`).",
			body: goType[api.RefreshRequest](), replies: []reply{okReply(200, "New tokens.", goType[api.RefreshResponse]())},
			problems: []string{"invalid-refresh-token"}}},
		{h: s.handleLogout, op: op{method: "POST", path: "/v1/auth/logout", id: "logout", tag: "Auth", summary: "End a session",
			desc: "The holder of a refresh token. Revokes the token's whole family (that login on every tab). An unknown or already revoked token also gets 204, so logging out twice is harmless. Access tokens already issued stay valid until they expire.",
			body: goType[api.RefreshRequest](), replies: []reply{okReply(204, "Signed out.", nil)}}},
		{h: s.handleMe, op: op{method: "GET", path: "/v1/me", id: "getMe", tag: "Auth", summary: "The signed-in user and their memberships", auth: authBearer,
			desc:    "Any signed-in user. `memberships` lists every membership the user has had, in any state, most recent request first, without paging; each carries the organisation's accreditation status (`org_status`).",
			replies: []reply{okReply(200, "The user and their memberships.", goType[api.Me]())}}},
		// Admin
		{h: s.handleCreateUser, op: op{method: "POST", path: "/v1/admin/users", id: "createUser", tag: "Admin", summary: "Create an account of any role", auth: authBearer,
			desc: "Admins only (checked before the body is read). This is how officers are made: an officer with `region_code` acts within that region, one without is a national officer. An admin may not have a region. The creation is audited (`user.create`).",
			body: goType[api.CreateUserRequest](), replies: []reply{okReply(201, "The account.", goType[api.User](), "Location")},
			problems: []string{"forbidden", "validation", "email-taken", "busy"}}},
		{h: s.handleGetUser, op: op{method: "GET", path: "/v1/admin/users/{id}", id: "getUser", tag: "Admin", summary: "Read an account", auth: authBearer,
			desc:    "Admins only.",
			replies: []reply{okReply(200, "The account.", goType[api.User]())}, problems: []string{"forbidden", "not-found"}}},
		{h: s.handleUpdateUser, op: op{method: "PATCH", path: "/v1/admin/users/{id}", id: "updateUser", tag: "Admin", summary: "Suspend, delete or reactivate an account, or change its region or staff role", auth: authBearer,
			desc: "Admins only. `suspended` and `deleted` revoke every refresh token of the account at once, its access tokens stop working on the next call and its feed connections close with 4401. A new `region_code` (`\"\"` for national) or staff `role` (officer, admin) changes the streams of its open feed connections at once. `deleted` is a soft state an admin can undo. Admins cannot suspend, delete or change the role of themselves.",
			body: goType[api.UpdateUserRequest](), replies: []reply{okReply(200, "The account as it is now.", goType[api.User]())},
			problems: []string{"forbidden", "validation", "self-suspension", "not-found"}}},
	}
}
