package server

import "slices"

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
			s.handle(r.method+" "+r.path, r.h)
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
