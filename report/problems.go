package report

import "github.com/jarimu/jarimu/problem"

// The problem types of reports and their verification, each declared once; the server's catalogue
// (GET /v1/problems/{type}, the OpenAPI document) reads them from Problems.
var (
	OwnReport = problem.Type{Slug: "own-report", Kind: problem.Forbidden,
		Doc: "Nobody reviews, verifies or records a takedown of their own report."}
	Decided = problem.Type{Slug: "report-decided", Kind: problem.Conflict,
		Doc: "The report was decided (verified, rejected or duplicate) and no longer changes: no evidence, review or new decision. A verified report still takes its takedown steps."}
	Transition = problem.Type{Slug: "report-transition", Kind: problem.Conflict,
		Doc: "The report's status does not allow this decision (see the workflow table in docs/api.md)."}
	TakedownTransition = problem.Type{Slug: "takedown-transition", Kind: problem.Conflict,
		Doc: "Takedown steps go requested, then taken_down or refused, and only for verified reports."}
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{OwnReport, Decided, Transition, TakedownTransition}
