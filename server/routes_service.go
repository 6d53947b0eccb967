package server

// serviceRoutes are the routes of health, keys, metrics and the
// documentation, each with the operation the API document shows for it (in
// /docs order).
func (s *Server) serviceRoutes() []route {
	return []route{
		// Service
		{h: s.handleHealthz, op: op{method: "GET", path: "/healthz", id: "healthz", tag: "Service", summary: "Liveness", static: true,
			desc:    "200 while the process runs.",
			replies: []reply{okReply(200, "Alive.", goType[healthStatus]())}}},
		{h: s.handleReadyz, op: op{method: "GET", path: "/readyz", id: "readyz", tag: "Service", summary: "Readiness", static: true,
			desc:    "200 when this instance can serve: its dependencies answer and it is not shutting down.",
			replies: []reply{okReply(200, "Ready.", goType[healthStatus]())}, problems: []string{"not-ready", "draining"}}},
		{h: s.handleJWKS, op: op{method: "GET", path: "/.well-known/jwks.json", id: "getJWKS", tag: "Service", summary: "Public keys of the access tokens", static: true,
			desc:    "Anyone. Every key of the set verifies; one signs (the newest whose not_before has come). During a rotation the set holds several keys: a new key is listed minutes before it signs, longer than this answer may be cached.",
			replies: []reply{okReplyMedia(200, "The key set.", "application/jwk-set+json", goType[jwkSet]())}}},
		{h: nil, op: op{method: "GET", path: "/metrics", id: "getMetrics", tag: "Service", summary: "Prometheus metrics", static: true,
			desc:    "Requests by route and status, problems by type, the feed, the broker, the database pool and the Go runtime, in the Prometheus text format. Served here unless `JARIMU_METRICS_ADDR` moves it to a separate address.",
			replies: []reply{okReplyMedia(200, "The metrics.", "text/plain", textSchema)}}},
		// Documentation
		{h: s.handleOpenAPI, op: op{method: "GET", path: "/v1/openapi.json", id: "getOpenAPI", tag: "Documentation", summary: "This document", static: true,
			desc:    "The OpenAPI 3.1 description of the whole API.",
			replies: []reply{okReply(200, "The document.", &Schema{Type: "object", Description: "an OpenAPI 3.1 document"}, "ETag"), notModifiedDoc}}},
		{h: s.handleDocs, op: op{method: "GET", path: "/docs", id: "getDocs", tag: "Documentation", summary: "The API reference as a web page", static: true,
			desc:    "This document, rendered as HTML without scripts or requests to other hosts.",
			replies: []reply{okReplyMedia(200, "The page.", "text/html", textSchema)}}},
		{h: s.handleDocsStyle, op: op{method: "GET", path: "/docs/style.css", id: "getDocsStyle", tag: "Documentation", summary: "The stylesheet of the reference page", static: true,
			replies: []reply{okReplyMedia(200, "The stylesheet.", "text/css", textSchema)}}},
		{h: s.handleProblemType, op: op{method: "GET", path: "/v1/problems/{type}", id: "getProblemType", tag: "Documentation", summary: "Explain a problem type", static: true,
			desc:    "Every problem `type` is `/v1/problems/<slug>`; this serves a short page about the slug.",
			replies: []reply{okReplyMedia(200, "The page.", "text/html", textSchema)}, problems: []string{"not-found"}}},
	}
}
