package evidence

import "github.com/jarimu/jarimu/problem"

// The problem types of evidence files, each declared once; the server's catalogue
// (GET /v1/problems/{type}, the OpenAPI document) reads them from Problems.
var (
	Empty = problem.Type{Slug: "evidence-empty", Kind: problem.Invalid,
		Doc: "The evidence file is empty."}
	BadID = problem.Type{Slug: "evidence-id", Kind: problem.Invalid,
		Doc: "The evidence id in the path is not a SHA-256 in lower-case hex."}
	BadType = problem.Type{Slug: "evidence-type", Kind: problem.Invalid,
		Doc: "Evidence must be a png, jpeg, webp or pdf file; the type is decided by the content, not the name."}
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{Empty, BadID, BadType}
