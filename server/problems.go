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
	unauthenticated = problem.Type{Slug: "unauthenticated", Kind: problem.Unauthorized,
		Doc: "The call needs an Authorization: Bearer header with an access token."}
)

// serverProblems lists them for the catalogue.
var serverProblems = []problem.Type{badCursor, draining, notReady, unauthenticated}
