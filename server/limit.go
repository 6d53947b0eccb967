package server

import (
	"log/slog"
	"net/http"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/ratelimit"
)

// Limits are the request throttles. A nil limiter does not limit.
type Limits struct {
	// UserWrites and IPWrites bound POST/PATCH/DELETE per account and per
	// client address; FeedIP bounds feed handshakes per client address
	// (the feed limits accounts itself, at hello).
	UserWrites, IPWrites, FeedIP ratelimit.Limiter
}

// check is one throttle to pass: a limiter and the key it counts under.
type check struct {
	l   ratelimit.Limiter
	key string
}

// limit applies the throttles: 429 with Retry-After when one is spent. A
// limiter that fails (Redis down) lets the request through: the API keeps
// working during a Redis outage.
func (s *Server) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		var checks []check
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/feed":
			checks = append(checks, check{s.limits.FeedIP, "feed:ip:" + ip})
		case r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions:
			checks = append(checks, check{s.limits.IPWrites, "w:ip:" + ip})
			if p, ok := auth.PrincipalFrom(r.Context()); ok {
				checks = append(checks, check{s.limits.UserWrites, "w:user:" + p.UserID})
			}
		}
		for _, c := range checks {
			if c.l == nil {
				continue
			}
			ok, retry, err := c.l.Allow(r.Context(), c.key)
			if err != nil {
				s.log.WarnContext(r.Context(), "rate limiter unavailable; letting the request through", slog.String("error", err.Error()))
				continue
			}
			if !ok {
				p := problem.Errorf(problem.RateLimited, "too many requests; wait before trying again")
				p.RetryAfter = retry
				writeProblem(w, r, p)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
