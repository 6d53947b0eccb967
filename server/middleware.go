package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/requestid"
)

type ctxKey int

const (
	bodyKey ctxKey = iota
	infoKey
)

// reqInfo is filled in while a request is served, for its log line and
// metrics: the route pattern that matched and the problem type answered.
type reqInfo struct {
	route, problem string
}

func infoOf(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(infoKey).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// requestID is the id of the request in ctx ("" outside a request).
func requestID(ctx context.Context) string { return requestid.From(ctx) }

func bodyFromContext(ctx context.Context) ([]byte, bool) {
	b, ok := ctx.Value(bodyKey).([]byte)
	return b, ok
}

func withBody(ctx context.Context, b []byte) context.Context {
	return context.WithValue(ctx, bodyKey, b)
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// acceptableRequestID reports whether a client-sent X-Request-Id may be kept:
// short and made of safe characters, so it cannot forge log lines.
func acceptableRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusWriter remembers the status and size of an answer for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (hijack,
// flush, deadlines) through this wrapper.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id, recovers panics as 500 problems, and logs
// one structured line per request.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !acceptableRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := requestid.With(r.Context(), id)
		ctx = context.WithValue(ctx, clientIPKey{}, s.realIP(r))
		info := &reqInfo{}
		ctx = context.WithValue(ctx, infoKey, info)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic", slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
				if sw.status == 0 {
					writeProblem(sw, r, problem.Errorf(problem.Internal, "something went wrong; the request id identifies it"))
				}
			}
			took := time.Since(start)
			s.logRequest(r, sw, info, took)
			s.metrics.ObserveRequest(info.route, r.Method, sw.status, took)
			if info.problem != "" {
				s.metrics.Problem(info.problem)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) logRequest(r *http.Request, sw *statusWriter, info *reqInfo, took time.Duration) {
	level := slog.LevelInfo
	if sw.status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", sw.status),
		slog.Int("bytes", sw.size),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.String("remote_ip", clientIP(r)),
	}
	if info.route != "" {
		attrs = append(attrs, slog.String("route", info.route))
	}
	if info.problem != "" {
		attrs = append(attrs, slog.String("problem", info.problem))
	}
	if p, ok := auth.PrincipalFrom(r.Context()); ok {
		attrs = append(attrs, slog.String("user_id", p.UserID))
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

type clientIPKey struct{}

// clientIP is the address the request came from, as observe worked it out.
func clientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok {
		return ip
	}
	return peerIP(r)
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// realIP is the client's address: the peer, or when the peer is a trusted
// proxy, the right-most X-Forwarded-For entry that is not one of ours
// (entries further left are whatever the client chose to send).
func (s *Server) realIP(r *http.Request) string {
	ip := peerIP(r)
	if !s.trusted(ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break
		}
		if !s.trusted(hop) {
			return hop
		}
		ip = hop
	}
	return ip
}

func (s *Server) trusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// headers sets the security headers every answer carries.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/.well-known/") {
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate attaches the Principal of a valid bearer token. A request
// without Authorization goes on anonymously; a bad token is a 401 at once.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" || r.URL.Path == "/v1/feed" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			s.writeError(w, r, auth.InvalidToken.New("the Authorization header must be \"Bearer <access token>\""))
			return
		}
		p, err := s.auth.Authenticate(r.Context(), token)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// principal is the caller, or a 401 problem for an anonymous request.
func principal(r *http.Request) (auth.Principal, error) {
	p, ok := auth.PrincipalFrom(r.Context())
	if !ok {
		return auth.Principal{}, unauthenticated.New("this call needs \"Authorization: Bearer <access token>\"")
	}
	return p, nil
}

// Hijack lets the feed's websocket upgrade take over the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the response writer cannot be hijacked")
	}
	w.status = http.StatusSwitchingProtocols
	return h.Hijack()
}
