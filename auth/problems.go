package auth

import "github.com/jarimu/jarimu/problem"

// The problem types of accounts, sign-in and tokens, each declared once; the server's catalogue
// (GET /v1/problems/{type}, the OpenAPI document) reads them from Problems.
var (
	Busy = problem.Type{Slug: "busy", Kind: problem.Unavailable,
		Doc: "The server is handling too many sign-ins at once. Retry after the Retry-After delay."}
	EmailTaken = problem.Type{Slug: "email-taken", Kind: problem.Conflict,
		Doc: "An account with this email already exists (emails are compared without regard to letter case)."}
	InvalidCredentials = problem.Type{Slug: "invalid-credentials", Kind: problem.Unauthorized,
		Doc: "The email or password is wrong. The answer never says which."}
	InvalidRefreshToken = problem.Type{Slug: "invalid-refresh-token", Kind: problem.Unauthorized,
		Doc: "The refresh token is unknown, expired, revoked, or was already spent (which revokes its whole session). Sign in again."}
	SelfSuspension = problem.Type{Slug: "self-suspension", Kind: problem.Conflict,
		Doc: "Admins cannot suspend, delete or change the role of their own account."}
	InvalidToken = problem.Type{Slug: "invalid-token", Kind: problem.Unauthorized,
		Doc: "The access token is missing, malformed, expired, not yet valid, signed by an unknown key, or its account is not active. Refresh it or sign in again."}
	OutsideRegion = problem.Type{Slug: "outside-region", Kind: problem.Forbidden,
		Doc: "The task is for volunteers of another region, or you act outside your region."}
	AccountErased = problem.Type{Slug: "account-erased", Kind: problem.Conflict,
		Doc: "The account was erased at its owner's or an admin's request. Nothing can bring it back; its email may make a new account."}
	AccountNotActive = problem.Type{Slug: "account-not-active", Kind: problem.Conflict,
		Doc: "The account is suspended or deleted; reactivate it first."}
	InvalidResetToken = problem.Type{Slug: "invalid-reset-token", Kind: problem.Unauthorized,
		Doc: "The password reset link is unknown, was used already, is older than 30 minutes, or its account is no longer active. Ask for a new link."}
	RegionByAdmin = problem.Type{Slug: "region-by-admin", Kind: problem.Forbidden,
		Doc: "A staff account's region is the reach of its authority and is set by an admin."}
	ResetByAdmin = problem.Type{Slug: "reset-by-admin", Kind: problem.Conflict,
		Doc: "This server sends no mail (no SMTP server is set), so passwords are not reset by email. An administrator of this Jarimu makes a reset link for you (jarimu admin reset-password)."}
	WrongPassword = problem.Type{Slug: "wrong-password", Kind: problem.Forbidden,
		Doc: "The password you re-entered is not your account's password. Attempts are throttled as logins are."}
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{AccountErased, AccountNotActive, InvalidResetToken, RegionByAdmin, ResetByAdmin, WrongPassword, Busy, EmailTaken, InvalidCredentials, InvalidRefreshToken, SelfSuspension, InvalidToken, OutsideRegion}
