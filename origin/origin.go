// Package origin decides which browser origins may use the API and the
// feed: the server's own origin (where the console is served from) always,
// the sites of JARIMU_ALLOWED_ORIGINS as well, and no other. A refusal is
// logged with the origin and the reason, at most once a minute (any site
// can make its visitors' browsers knock), so that a misconfigured site or
// proxy is found from the log instead of a silent 403.
package origin

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jarimu/jarimu/lograte"
)

// Policy is a list of allowed origins and its refusal log.
type Policy struct {
	allowed []string
	log     *slog.Logger
	warn    lograte.Limiter
}

// WarnEvery is the least time between two logged refusals: 1 minute.
const WarnEvery = time.Minute

// New makes the policy of the allowed origins (scheme://host[:port], as
// browsers send them); log nil logs nothing.
func New(allowed []string, log *slog.Logger) *Policy {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Policy{allowed: allowed, log: log, warn: lograte.Limiter{Every: WarnEvery}}
}

// Listed reports whether origin is one of the allowed origins (case aside).
func (p *Policy) Listed(origin string) bool {
	for _, o := range p.allowed {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Check reports whether r may go on: it has no Origin (not a browser, or a
// same-origin GET), its Origin is listed, or it is the server's own (see
// Same). Otherwise it logs the refusal (what names the refused thing, such
// as "feed handshake") and returns false.
func (p *Policy) Check(r *http.Request, what string) bool {
	o := r.Header.Get("Origin")
	if o == "" || p.Listed(o) || Same(r, o) {
		return true
	}
	p.Refused(r, what, o)
	return false
}

// Refused logs, at warn and at most once per WarnEvery, that origin was
// refused for what, and why.
func (p *Policy) Refused(r *http.Request, what, origin string) {
	ok, skipped := p.warn.Allow()
	if !ok {
		return
	}
	p.log.WarnContext(r.Context(), what+": origin refused", slog.String("origin", origin),
		slog.String("reason", reason(r, origin)), slog.String("host", r.Host),
		slog.Any("allowed_origins", p.allowed), slog.Int64("not_logged_since_last", skipped))
}

// reason says why origin is not r's own and not listed.
func reason(r *http.Request, origin string) string {
	u, ok := parse(origin)
	switch {
	case !ok:
		return "not a web origin (scheme://host[:port])"
	case strings.EqualFold(u.Hostname(), hostname(r.Host)):
		return "the server's host with another scheme or port, not in JARIMU_ALLOWED_ORIGINS; a proxy in front must pass the Host and port the browser used"
	default:
		return "another site, not in JARIMU_ALLOWED_ORIGINS"
	}
}

// Same reports whether origin is the server's own for r: same host and port
// as the request was sent to (its Host), over http or https; when the
// request came over TLS, only https. A proxy that ends TLS in front of the
// server passes plain HTTP on, so without TLS either scheme is taken, as
// long as the host and port (the scheme's default when absent) agree.
func Same(r *http.Request, origin string) bool {
	u, ok := parse(origin)
	if !ok || r.TLS != nil && u.Scheme != "https" {
		return false
	}
	return strings.EqualFold(withPort(u.Host, u.Scheme), withPort(r.Host, u.Scheme))
}

// parse reads an origin: http or https, a host, nothing after it.
func parse(origin string) (*url.URL, bool) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, false
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, u.Scheme == "http" || u.Scheme == "https"
}

// withPort is host:port, with the scheme's default port when host has none.
func withPort(host, scheme string) string {
	if strings.LastIndex(host, ":") > strings.LastIndex(host, "]") {
		return host
	}
	if scheme == "https" {
		return host + ":443"
	}
	return host + ":80"
}

// hostname is host without its port.
func hostname(host string) string {
	return (&url.URL{Host: host}).Hostname()
}
