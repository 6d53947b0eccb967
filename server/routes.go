package server

import (
	"net/http"
	"slices"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/problem"
)

// route is one route of the API: its handler, and the operation the API
// document shows for it (method and path are the route's pattern).
// Registering a route declares its documentation: there is no second list
// to keep in step. A nil handler is a route registered elsewhere
// (GET /metrics, on the API's address only when no metrics address is set).
type route struct {
	op
	h handlerFunc
}

// routeTable is every documented route, in the order /docs shows them. It
// reads no field of s, so the document is built from a nil *Server.
func (s *Server) routeTable() []route {
	return slices.Concat(s.authRoutes(), s.orgsRoutes(), s.tasksRoutes(), s.reportsRoutes(),
		s.alertsRoutes(), s.statsRoutes(), s.pushRoutes(), s.openRoutes(), s.regionsRoutes(), s.auditRoutes(), s.serviceRoutes())
}

// routes registers every route of the API.
func (s *Server) routes() {
	for _, r := range s.routeTable() {
		if r.h != nil {
			s.handle(r.method+" "+r.path, checkPath(r.op, r.h))
		}
	}
	if s.feed != nil {
		s.patterns = append(s.patterns, "GET /v1/feed")
		s.mux.Handle("GET /v1/feed", s.feed)
	}

	// The web console (its own CSP; the API's stays on /v1/ only).
	if s.console != nil {
		for _, p := range []string{"GET /{$}", "GET /app/", "GET /sw.js", "GET /manifest.webmanifest"} {
			s.mux.Handle(p, s.console)
		}
	}
}

// pathRule is what a path wildcard must hold, and the 404's detail when it
// does not: a value that cannot be an id names nothing.
type pathRule struct {
	valid  func(string) bool
	detail string
}

// pathRules are the rules of the path wildcards by name; nil: any value
// (looked up in memory, never in the database). Every wildcard of a route
// has an entry (checkPath refuses to register one without).
var pathRules = map[string]*pathRule{
	"id":      {api.ValidID, "the id in the path is not a well-formed id (a UUID): it names nothing"},
	"user_id": {api.ValidID, "the user id in the path is not a well-formed id (a UUID): it names nothing"},
	"sha":     {evidence.ValidSHA, "an evidence file's id is its SHA-256, 64 lower-case hex digits: this one names nothing"},
	"code":    nil, // a region code, looked up in the compiled-in list
	"type":    nil, // a problem type, looked up in the catalogue
}

// checkPath makes h refuse, with 404, a path whose ids are not well-formed,
// before anything reads the database with them; after authentication (a
// call that needs a token gets its 401 first), before everything else.
func checkPath(o op, h handlerFunc) handlerFunc {
	type check struct {
		name string
		rule *pathRule
	}
	var checks []check
	for _, m := range pathParamRE.FindAllStringSubmatch(o.path, -1) {
		rule, ok := pathRules[m[1]]
		if !ok {
			panic("server: " + o.method + " " + o.path + ": no rule for the path wildcard {" + m[1] + "} in pathRules")
		}
		if rule != nil {
			checks = append(checks, check{m[1], rule})
		}
	}
	if len(checks) == 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		if o.auth == authBearer {
			if _, err := principal(r); err != nil {
				return err
			}
		}
		for _, c := range checks {
			if !c.rule.valid(r.PathValue(c.name)) {
				return problem.Errorf(problem.NotFound, "%s", c.rule.detail)
			}
		}
		return h(w, r)
	}
}
