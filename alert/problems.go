package alert

import "github.com/jarimu/jarimu/problem"

// The problem types of alerts, each declared once; the server's catalogue
// (GET /v1/problems/{type}, the OpenAPI document) reads them from Problems.
var (
	AlreadyRetracted = problem.Type{Slug: "already-retracted", Kind: problem.Conflict,
		Doc: "The alert was retracted already."}
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{AlreadyRetracted}
