package server

import (
	"fmt"
	"html"
	"net/http"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/idempotency"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/report"
	"github.com/jarimu/jarimu/task"
)

// catalogue is every problem type the API answers, each declared once next
// to the package that answers it. GET /v1/problems/{type} and the OpenAPI
// document read it.
var catalogue = problem.NewCatalogue(problem.General, serverProblems, auth.Problems, org.Problems, task.Problems,
	report.Problems, alert.Problems, evidence.Problems, idempotency.Problems)

// statusOf is the HTTP status of a kind of problem: the one place where the
// error vocabulary meets HTTP.
func statusOf(k problem.Kind) int {
	switch k {
	case problem.Malformed:
		return http.StatusBadRequest
	case problem.Unauthorized:
		return http.StatusUnauthorized
	case problem.Forbidden:
		return http.StatusForbidden
	case problem.NotFound:
		return http.StatusNotFound
	case problem.NotAllowed:
		return http.StatusMethodNotAllowed
	case problem.Conflict:
		return http.StatusConflict
	case problem.TooLarge:
		return http.StatusRequestEntityTooLarge
	case problem.UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case problem.Invalid:
		return http.StatusUnprocessableEntity
	case problem.RateLimited:
		return http.StatusTooManyRequests
	case problem.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// titleOf is the short, fixed title of a kind of problem.
func titleOf(k problem.Kind) string {
	switch k {
	case problem.Malformed:
		return "Malformed request"
	case problem.Unauthorized:
		return "Unauthorized"
	case problem.Forbidden:
		return "Forbidden"
	case problem.NotFound:
		return "Not found"
	case problem.NotAllowed:
		return "Method not allowed"
	case problem.Conflict:
		return "Conflict"
	case problem.TooLarge:
		return "Request too large"
	case problem.UnsupportedMedia:
		return "Unsupported media type"
	case problem.Invalid:
		return "Invalid request"
	case problem.RateLimited:
		return "Too many requests"
	case problem.Unavailable:
		return "Service unavailable"
	}
	return "Internal error"
}

// handleProblemType serves a problem type's documentation as a short page.
func (s *Server) handleProblemType(w http.ResponseWriter, r *http.Request) error {
	typ := r.PathValue("type")
	t, ok := catalogue[typ]
	if !ok {
		return problem.Errorf(problem.NotFound, "no problem type %q", typ)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>%s</title><h1>%s</h1><p>%s</p>\n",
		html.EscapeString(typ), html.EscapeString(typ), html.EscapeString(t.Doc))
	return nil
}
