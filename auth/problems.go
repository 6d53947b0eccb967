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
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{Busy, EmailTaken, InvalidCredentials, InvalidRefreshToken, SelfSuspension, InvalidToken, OutsideRegion}
