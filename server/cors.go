package server

import (
	"net/http"
	"strings"

	"github.com/jarimu/jarimu/origin"
)

// cors lets the configured browser origins (JARIMU_ALLOWED_ORIGINS) call the
// API from other sites: a preflight (OPTIONS with
// Access-Control-Request-Method) is answered here with 204, and answers to
// an allowed origin name it. Other origins get no CORS headers, so browsers
// refuse them (which is logged, see origin.Policy); same-origin pages (the
// console) need none.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := r.Header.Get("Origin")
		if o == "" || !s.origins.Listed(o) {
			// The feed's handshake is no CORS request; the feed logs its own.
			if o != "" && !origin.Same(r, o) && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				s.origins.Refused(r, "CORS: the browser will not let the page read the answer", o)
			}
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "Location, Retry-After, X-Request-Id, Idempotent-Replayed, ETag")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-Id")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hsts asks browsers to use HTTPS only, when the request came over TLS (or
// a trusted proxy says it did).
func (s *Server) hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil || s.trusted(peerIP(r)) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
