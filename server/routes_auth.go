package server

import (
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/privacy"
)

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
		{h: s.handlePasswordReset, op: op{method: "POST", path: "/v1/auth/password-reset", id: "requestPasswordReset", tag: "Auth", summary: "Mail a password reset link",
			desc: "Anyone. When an active account has the email, a link to choose a new password is queued for it by mail (in the account's language, the other language after it): a console link carrying a single-use token as its `token` query parameter, good for 30 minutes; only the token's hash is kept. The answer is the same 202, in about the same time (at least 400 ms), whether or not an account has the email.\n\n" +
				"Throttled per client address (20, then one every 3 s: 429) and per email (3 mails, then one per 20 minutes: beyond it the answer is the same and no mail goes out). A server without an SMTP server (`JARIMU_SMTP_URL`) refuses every request alike with 409 `reset-by-admin`: an administrator makes the link with `jarimu admin reset-password`.",
			body: goType[api.PasswordResetRequest](), replies: []reply{okReply(202, "Accepted: a link is on its way if an account has the email.", goType[api.PasswordResetAccepted]())},
			problems: []string{"validation", "reset-by-admin", "rate-limited"}}},
		{h: s.handlePasswordResetConfirm, op: op{method: "POST", path: "/v1/auth/password-reset/confirm", id: "confirmPasswordReset", tag: "Auth", summary: "Set a new password with a reset link's token",
			desc: "The holder of a reset link. Sets the password of the link's account (the password policy applies: 422), spends the link, and ends every session, trusted device and other reset link of the account. A token unknown, used, past its 30 minutes, or of an account no longer active gets 401 `invalid-reset-token`, the same for all.",
			body: goType[api.PasswordResetConfirm](), replies: []reply{okReply(204, "The password is set; sign in with it.", nil)},
			problems: []string{"validation", "invalid-reset-token", "busy"}}},
		{h: s.handlePrivacy, op: op{method: "GET", path: "/v1/privacy", id: "getPrivacyNotice", tag: "Auth", summary: "The privacy notice in force", static: true,
			desc:    "Anyone. The privacy notice under Indonesia's Personal Data Protection Law (UU 27/2022), in Indonesian (`id`, the binding text) and English (`en`), with its `version`. Signup consents to it by sending the version as `privacy_version`; an account whose `privacy_version` is older has consent due (see POST /v1/me/consent).",
			replies: []reply{okReply(200, "The notice.", goType[api.PrivacyNotice]())}}},
		{h: s.handleUpdateMe, op: op{method: "PATCH", path: "/v1/me", id: "updateMe", tag: "Auth", summary: "Change your name, region or language", auth: authBearer,
			desc: "Any signed-in user, for their own account. `region_code` (`\"\"` for national) only for volunteers: a staff account's region is its reach, set by an admin (403 `region-by-admin`). A region change is audited (`user.region_change`) and reaches the account's open feed connections at once: `account.updated` on the user's stream names the region streams they gain (from the seq committed then) and lose.",
			body: goType[api.UpdateMeRequest](), replies: []reply{okReply(200, "The account as it is now.", goType[api.User]())},
			problems: []string{"region-by-admin", "validation"}}},
		{h: s.handleDeleteMe, op: op{method: "DELETE", path: "/v1/me", id: "eraseMe", tag: "Auth", summary: "Erase your account", auth: authBearer,
			desc: "Any signed-in user, re-entering their password (checked and throttled as logins are; 403 `wrong-password`). Irreversible. The name, email (free again for a new account), password, region, consents, sessions, trusted devices, reset links, push notification devices (endpoints and keys) and queued mail are deleted, and the notes written completing claims emptied (outcomes stay); memberships end (`left`) and so do active claims (`account_erased`); reports never verified are deleted with their evidence files; verified reports stay as Bawaslu's record with `reporter_erased: true`. The account's own stored Idempotency-Key answers are deleted; others' that held the name or email lose their body (their retry gets 409 `idempotency-applied`, never runs twice), audit entries that held them are scrubbed, the user's own feed events deleted, the reviewers' `report.submitted` events of the account's reports rewritten (`reporter_erased: true`; for a deleted report only its id, reporter id, org, region, status and times, with `reporter_erased` and `deleted: true`), stored answers naming a deleted report emptied likewise, alert reach is kept as counts that name nobody (it reads as before). Open feed connections of the account close (4401). Audited as `user.erase` with counts only.",
			body: goType[api.DeleteMeRequest](), replies: []reply{okReply(204, "Erased.", nil)},
			problems: []string{"validation", "wrong-password", "rate-limited", "busy"}}},
		{h: s.handleExport, op: op{method: "GET", path: "/v1/me/export", id: "exportMe", tag: "Auth", summary: "Download everything held about you", auth: authBearer,
			desc:     "Any signed-in user: one JSON document (`format=json`, the default) with the profile, consents, memberships, claims, reports (takedown history, evidence metadata, notes), sessions and devices, push notification devices (endpoint, events, times; never the keys) and the pushes they showed (`push_displays`), queued mail (kinds only), the user's own feed events and the audit entries about them (others who acted shown by role only); or a ZIP (`format=zip`) with that document as `jarimu-data.json` and each evidence file under `evidence/`. Streamed a page of rows at a time. Served with `Content-Disposition: attachment`. Works while consent is due.",
			params:   []param{enumQueryParam("format", "`json` (default) or `zip` (with the evidence files).", "json", "zip")},
			replies:  []reply{{status: 200, desc: "The export.", media: "application/json", body: &Schema{Type: "object", Description: "The export document (format jarimu-export/1)."}, alsoMedia: []string{"application/zip"}}},
			problems: []string{"bad-query"}}},
		{h: s.handleChangePassword, op: op{method: "POST", path: "/v1/me/password", id: "changePassword", tag: "Auth", summary: "Change your password", auth: authBearer,
			desc: "Any signed-in user. `current_password` is checked and throttled as logins to the account are (429); a wrong one is 403 `wrong-password`. The new password follows the policy and must differ. Every session and trusted device of the account ends, and so does any unused reset link; the answer is this client's new session and device token. Access tokens already issued run out within 15 minutes. Audited (`user.password_change`). Never stored for Idempotency-Key replays (the answer holds secrets).",
			body: goType[api.ChangePasswordRequest](), replies: []reply{okReply(200, "This client's new session.", goType[api.SessionResponse]())},
			problems: []string{"validation", "wrong-password", "rate-limited", "busy"}}},
		{h: s.handleConsent, op: op{method: "POST", path: "/v1/me/consent", id: "giveConsent", tag: "Auth", summary: "Consent to the privacy notice in force", auth: authBearer,
			desc: "Any signed-in user. `version` must be the notice's current version (GET /v1/privacy), else 422. The consent is kept with its time; the user's `privacy_version` becomes it and `consent_due` ends. While consent is due (a new notice, or a staff account made by an admin) other writes answer 403 `consent-required`, except the caller's own account (/v1/me...), signing out, removing one of their push devices (DELETE /v1/push/subscriptions/{id}), leaving an organisation (DELETE /v1/orgs/{id}/memberships/{user_id} of their own membership), and alerts (publishing and retracting): reads, the feed and its acks keep working.",
			body: goType[api.ConsentRequest](), replies: []reply{okReply(200, "The account, with its privacy_version.", goType[api.User]())},
			problems: []string{"validation"}}},
		{h: s.handleSessions, op: op{method: "GET", path: "/v1/me/sessions", id: "listSessions", tag: "Auth", summary: "Your sessions and trusted devices", auth: authBearer,
			desc:    "Any signed-in user: their live sessions (sign-ins whose refresh token is still good), newest first, and the clients trusted to sign in (device tokens), most recently used first.",
			replies: []reply{okReply(200, "Sessions and devices.", goType[api.Sessions]())}}},
		{h: s.handleRevokeSession, op: op{method: "DELETE", path: "/v1/me/sessions/{id}", id: "revokeSession", tag: "Auth", summary: "End one of your sessions", auth: authBearer,
			desc:    "Any signed-in user, for their own sessions: the session's refresh tokens stop working (its access token runs out within 15 minutes). Another account's session, or an ended one (ended by hand, or run out: not listed by GET /v1/me/sessions), is 404.",
			replies: []reply{okReply(204, "Ended.", nil)}, problems: []string{"not-found"}}},
		{h: s.handleRevokeDevice, op: op{method: "DELETE", path: "/v1/me/devices/{id}", id: "revokeDevice", tag: "Auth", summary: "Forget a trusted device", auth: authBearer,
			desc:    "Any signed-in user, for their own devices: the device token no longer puts that client's logins in the trusted lane. Another account's device is 404.",
			replies: []reply{okReply(204, "Forgotten.", nil)}, problems: []string{"not-found"}}},
		{h: s.handleCreateUser, op: op{method: "POST", path: "/v1/admin/users", id: "createUser", tag: "Admin", summary: "Create an account of any role", auth: authBearer,
			desc: "Admins only (checked before the body is read). This is how officers are made: an officer with `region_code` acts within that region, one without is a national officer. An admin may not have a region. The creation is audited (`user.create`).",
			body: goType[api.CreateUserRequest](), replies: []reply{okReply(201, "The account.", goType[api.User](), "Location")},
			problems: []string{"forbidden", "validation", "email-taken", "busy"}}},
		{h: s.handleGetUser, op: op{method: "GET", path: "/v1/admin/users/{id}", id: "getUser", tag: "Admin", summary: "Read an account", auth: authBearer,
			desc:    "Admins only.",
			replies: []reply{okReply(200, "The account.", goType[api.User]())}, problems: []string{"forbidden", "not-found"}}},
		{h: s.handleUpdateUser, op: op{method: "PATCH", path: "/v1/admin/users/{id}", id: "updateUser", tag: "Admin", summary: "Suspend, delete or reactivate an account, or change its region or staff role", auth: authBearer,
			desc: "Admins only. `suspended` and `deleted` revoke every refresh token of the account at once, its access tokens stop working on the next call and its feed connections close with 4401; every active claim it holds ends (`end_reason` `account_suspended` or `account_deleted`), and reactivating it does not bring them back. A new `region_code` (`\"\"` for national) or staff `role` (officer, admin) changes the streams of its open feed connections at once. `deleted` is a soft state an admin can undo. Admins cannot suspend, delete or change the role of themselves.",
			body: goType[api.UpdateUserRequest](), replies: []reply{okReply(200, "The account as it is now.", goType[api.User]())},
			problems: []string{"forbidden", "validation", "self-suspension", "not-found"}}},
		{h: s.handleEraseUser, op: op{method: "POST", path: "/v1/admin/users/{id}/erasure", id: "eraseUser", tag: "Admin", summary: "Erase an account", auth: authBearer,
			desc: "Admins only (checked before the body is read), for another account: a data subject request received by Bawaslu, say. Erases as DELETE /v1/me does, irreversibly; the `reason` (no personal data) is kept in the audit trail (`user.erase`). An erased account is 409 `account-erased`; the caller's own account is erased with DELETE /v1/me (409 `self-suspension`).",
			body: goType[api.EraseUserRequest](), replies: []reply{okReply(200, "What the erasure did (counts only).", goType[privacy.Erasure]())},
			problems: []string{"forbidden", "validation", "not-found", "account-erased", "self-suspension"}}},
	}
}
