package idempotency

import "github.com/jarimu/jarimu/problem"

// The problem types of Idempotency-Key records, each declared once; the server's catalogue
// (GET /v1/problems/{type}, the OpenAPI document) reads them from Problems.
var (
	BadKey = problem.Type{Slug: "bad-idempotency-key", Kind: problem.Malformed,
		Doc: "The Idempotency-Key header must be 1 to 128 printable ASCII characters."}
	Applied = problem.Type{Slug: "idempotency-applied", Kind: problem.Conflict,
		Doc: "The first request with this Idempotency-Key was carried out, but its answer was lost (the server stopped before storing it) or is withheld (your access shrank since: a membership ended, a role was lowered). It is not run again: reload the resource to see the result."}
	InProgress = problem.Type{Slug: "idempotency-in-progress", Kind: problem.Conflict,
		Doc: "The first request with this Idempotency-Key is still running. Retry after the Retry-After delay to get its answer. (A first attempt that ran so long that a retry took its key over gets this answer too: the retry carries the request out.)"}
	KeyReused = problem.Type{Slug: "idempotency-key-reused", Kind: problem.Invalid,
		Doc: "This Idempotency-Key was already used with a different request body. Use a new key for a new request."}
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{BadKey, Applied, InProgress, KeyReused}
