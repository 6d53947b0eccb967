package server

import (
	"context"
	"net/http"
	"time"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	encode(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handleReadyz answers 200 when this instance can serve: the database
// answers (else 503), and it is not shutting down (503). Redis down is
// "degraded" but still 200: the API and the feed go on without it, so load
// balancers must not drain every instance when Redis fails.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		p := draining.New("this instance is shutting down")
		p.RetryAfter = time.Second
		return p
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready", "error", err.Error())
			p := notReady.New("a dependency is not answering")
			p.RetryAfter = 2 * time.Second
			return p
		}
	}
	if s.degraded != nil {
		if down := s.degraded(ctx); len(down) > 0 {
			s.log.WarnContext(ctx, "degraded", "down", down)
			encode(w, http.StatusOK, map[string]any{"status": "degraded", "down": down})
			return nil
		}
	}
	encode(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(s.keys.Current().JWKS())
	return nil
}
