// Package server is Jarimu's HTTP surface: routes, middleware (request ids,
// logs, recovery, authentication, idempotency), handlers and problem+json.
// Handlers decode, validate, call a capability and encode; they hold no SQL.
package server

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/idempotency"
	"github.com/jarimu/jarimu/metrics"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/origin"
	"github.com/jarimu/jarimu/privacy"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/report"
	"github.com/jarimu/jarimu/stats"
	"github.com/jarimu/jarimu/task"
)

// Deps are the capabilities the server serves.
type Deps struct {
	Log         *slog.Logger
	Auth        *auth.Service
	Keys        auth.KeySource // the JWKS serves its current set
	Idempotency *idempotency.Store
	Orgs        *org.Service
	Tasks       *task.Service
	Reports     *report.Service
	Alerts      *alert.Service
	Push        *push.Service
	Audit       *audit.Trail
	Privacy     *privacy.Service
	// Stats answers the charts' aggregates (GET /v1/stats/...).
	Stats *stats.Service
	// Notice is the privacy notice in force (GET /v1/privacy).
	Notice api.PrivacyNotice
	Feed   http.Handler // GET /v1/feed, the websocket
	// Console is the web console (package web): served at "/", under
	// "/app/", and at "/sw.js" and "/manifest.webmanifest". It sets its own
	// Content-Security-Policy. Nil serves no console.
	Console http.Handler
	// TrustedProxies are the load balancers whose X-Forwarded-For names
	// the client.
	TrustedProxies []netip.Prefix
	// AllowedOrigins are the browser origins of other sites allowed to call
	// the API and open the feed (JARIMU_ALLOWED_ORIGINS); the server's own
	// origin always is.
	AllowedOrigins []string
	// Limits are the request throttles (none when zero).
	Limits Limits
	// Metrics, when set, records requests and problems; MetricsRoute also
	// serves them at GET /metrics on the API's own address.
	Metrics      *metrics.Registry
	MetricsRoute bool
	// Ready checks the dependencies (database, Redis) for /readyz.
	Ready func(ctx context.Context) error
	// Degraded names dependencies that are down without stopping service
	// (Redis): /readyz stays 200 and lists them.
	Degraded func(ctx context.Context) []string
	// UploadIdle and UploadTotal are the deadlines of an evidence upload's
	// body (upload.go): how long it may bring no byte, and how long it may
	// take in all; 0 takes DefaultUploadIdle and DefaultUploadTotal.
	UploadIdle, UploadTotal time.Duration
	// OpenCache is how long the transparency datasets an instance built
	// are served again (open_cache.go); 0 builds them for every request.
	OpenCache time.Duration
}

// Server is the HTTP handler of the API.
type Server struct {
	log      *slog.Logger
	auth     *auth.Service
	keys     auth.KeySource
	idem     *idempotency.Store
	orgs     *org.Service
	tasks    *task.Service
	reports  *report.Service
	alerts   *alert.Service
	push     *push.Service
	audit    *audit.Trail
	privacy  *privacy.Service
	stats    *stats.Service
	notice   api.PrivacyNotice
	feed     http.Handler
	console  http.Handler
	proxies  []netip.Prefix
	metrics  *metrics.Registry
	limits   Limits
	origins  *origin.Policy
	ready    func(ctx context.Context) error
	degraded func(ctx context.Context) []string
	// uploadIdle and uploadTotal: Deps.UploadIdle and UploadTotal.
	uploadIdle, uploadTotal time.Duration
	draining                atomic.Bool
	mux                     *http.ServeMux
	handler                 http.Handler
	patterns                []string // every route pattern served, in order (see Routes)
	openCaches
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{log: d.Log, auth: d.Auth, keys: d.Keys, idem: d.Idempotency, orgs: d.Orgs, tasks: d.Tasks, reports: d.Reports, alerts: d.Alerts, push: d.Push, audit: d.Audit, privacy: d.Privacy, stats: d.Stats, notice: d.Notice, feed: d.Feed, console: d.Console, proxies: d.TrustedProxies, metrics: d.Metrics, limits: d.Limits, origins: origin.New(d.AllowedOrigins, d.Log), ready: d.Ready, degraded: d.Degraded, mux: http.NewServeMux()}
	s.uploadIdle, s.uploadTotal = cmp.Or(d.UploadIdle, DefaultUploadIdle), cmp.Or(d.UploadTotal, DefaultUploadTotal)
	s.initOpenCaches(d.OpenCache)
	s.routes()
	if d.Metrics != nil && d.MetricsRoute {
		s.patterns = append(s.patterns, "GET /metrics")
		s.mux.Handle("GET /metrics", d.Metrics.Handler())
	}
	s.handler = s.observe(s.hsts(headers(s.cors(s.authenticate(s.consent(s.limit(s.idempotent(http.HandlerFunc(s.dispatch)))))))))
	return s
}

// Routes lists the patterns of every route of the API as registered, such as
// "GET /v1/orgs/{id}" (the web console's routes are not included). The
// OpenAPI document is checked against it.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Drain marks the server unready (for /readyz) ahead of shutdown, so load
// balancers stop sending new work.
func (s *Server) Drain() { s.draining.Store(true) }

// dispatch routes the request; the router's own 404 and 405 answers become
// problems too.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	infoOf(r).route = pattern
	if pattern != "" {
		s.mux.ServeHTTP(w, r) // sets the path values that Handler does not
		return
	}
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeProblem(w, r, problem.Errorf(problem.NotAllowed, "%s is not served at %s", r.Method, r.URL.Path))
		return
	}
	writeProblem(w, r, problem.Errorf(problem.NotFound, "nothing is served at %s", r.URL.Path))
}

// handlerFunc is a handler that returns its error for one place to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				return // the client went away
			}
			s.writeError(w, r, err)
		}
	})
}
