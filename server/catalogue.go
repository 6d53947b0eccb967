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
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/report"
	"github.com/jarimu/jarimu/task"
)

// catalogue is every problem type the API answers, each declared once next
// to the package that answers it. GET /v1/problems/{type} and the OpenAPI
// document read it.
var catalogue = problem.NewCatalogue(problem.General, serverProblems, auth.Problems, org.Problems, task.Problems,
	report.Problems, alert.Problems, evidence.Problems, idempotency.Problems, push.Problems)

// kindHTTP is the HTTP status and the fixed title of each kind of
// problem: the one place where the error vocabulary meets HTTP.
var kindHTTP = map[problem.Kind]struct {
	status int
	title  string
}{
	problem.Internal:         {http.StatusInternalServerError, "Internal error"},
	problem.Malformed:        {http.StatusBadRequest, "Malformed request"},
	problem.Unauthorized:     {http.StatusUnauthorized, "Unauthorized"},
	problem.Forbidden:        {http.StatusForbidden, "Forbidden"},
	problem.NotFound:         {http.StatusNotFound, "Not found"},
	problem.NotAllowed:       {http.StatusMethodNotAllowed, "Method not allowed"},
	problem.Conflict:         {http.StatusConflict, "Conflict"},
	problem.TooLarge:         {http.StatusRequestEntityTooLarge, "Request too large"},
	problem.UnsupportedMedia: {http.StatusUnsupportedMediaType, "Unsupported media type"},
	problem.Invalid:          {http.StatusUnprocessableEntity, "Invalid request"},
	problem.RateLimited:      {http.StatusTooManyRequests, "Too many requests"},
	problem.Unavailable:      {http.StatusServiceUnavailable, "Service unavailable"},
	problem.Timeout:          {http.StatusRequestTimeout, "Request timeout"},
}

// statusOf is the HTTP status of a kind of problem.
func statusOf(k problem.Kind) int { return kindHTTP[k].status }

// titleOf is the short, fixed title of a kind of problem.
func titleOf(k problem.Kind) string { return kindHTTP[k].title }

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
