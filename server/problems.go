package server

import "github.com/jarimu/jarimu/problem"

// The problem types the HTTP layer answers itself.
var (
	badCursor = problem.Type{Slug: "bad-cursor", Kind: problem.Malformed,
		Doc: "The cursor was not given out by this server. Start again from the first page."}
	draining = problem.Type{Slug: "draining", Kind: problem.Unavailable,
		Doc: "This instance is shutting down; another instance will serve you."}
	notReady = problem.Type{Slug: "not-ready", Kind: problem.Unavailable,
		Doc: "This instance cannot serve yet: a dependency is not answering."}
	consentRequired = problem.Type{Slug: "consent-required", Kind: problem.Forbidden,
		Doc: "Your account has not consented to the privacy notice in force (a new version, or a staff account's first sign-in). Read it (GET /v1/privacy) and consent (POST /v1/me/consent); until then most writes are held back, but reads, alerts and the feed keep working."}
	unauthenticated = problem.Type{Slug: "unauthenticated", Kind: problem.Unauthorized,
		Doc: "The call needs an Authorization: Bearer header with an access token."}
)

// serverProblems lists them for the catalogue.
var serverProblems = []problem.Type{badCursor, consentRequired, draining, notReady, unauthenticated}
