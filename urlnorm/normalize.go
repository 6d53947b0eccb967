// Package urlnorm turns the URL of a reported post into one canonical form, so
// that reports of the same content fall into one cluster however the
// volunteer copied the link: from an app's share sheet (with tracking
// parameters), from a mobile site (m.facebook.com), or through an old or
// short domain (twitter.com, youtu.be).
//
// The rules are offline on purpose: nothing here makes a network request.
// Short links that only the platform can resolve (vt.tiktok.com,
// vm.tiktok.com, fb.watch, bit.ly, ...) are kept as they are, so a short link
// and the long URL it redirects to make two clusters. Internationalised host
// names are lower-cased but not converted to punycode, so the Unicode and the
// xn-- spelling of one host make two clusters too. Normalize lists every rule.
//
// Cluster turns a normalised URL into a cluster ID that every instance
// computes alike, with no coordination.
package urlnorm

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the longest URL, in bytes, that Normalize accepts or returns.
const MaxLen = 2048

// ErrInvalid is wrapped by every error of Normalize: the input is not the
// http or https URL of a web page. Callers answer it as invalid input.
var ErrInvalid = errors.New("invalid url")

// invalid makes an error wrapping ErrInvalid. It never quotes the URL, which
// may be long and is the user's own input.
func invalid(reason string) error {
	return fmt.Errorf("normalize url: %w: %s", ErrInvalid, reason)
}

// Normalize returns the canonical form of raw, the URL of reported content.
// Two URLs of the same content normalise alike under these rules:
//
//   - The scheme becomes https (http is accepted); ports 80 and 443 are
//     dropped whatever the scheme, other ports kept; the fragment is dropped.
//   - The host is lower-cased and loses a trailing dot and any leading
//     "www.", "m." and "mobile." (repeatedly, while two labels remain).
//     Aliases then map twitter.com to x.com; fb.com, mbasic.facebook.com,
//     web.facebook.com and touch.facebook.com to facebook.com; instagr.am to
//     instagram.com; telegram.me to t.me. IPv6 literals take their RFC 5952
//     form; IDN hosts are only lower-cased.
//   - The path has its percent-encoding normalised (unreserved characters
//     decoded, other escapes in upper-case hex, characters outside RFC 3986
//     encoded, so non-ASCII paths come out percent-encoded), its "." and ".."
//     segments resolved and its trailing slashes dropped; an empty path is "/".
//   - youtu.be/<id>, youtube.com/shorts/<id> and youtube.com/live/<id> become
//     youtube.com/watch?v=<id>.
//   - Tracking parameters are dropped, keys matched case-insensitively after
//     decoding: every utm_* and __cft__* (__cft__[0]), fbclid, gclid, dclid,
//     msclkid, igshid, igsh, mibextid, __tn__, ref, ref_src and ref_url on
//     any site; s and t on x.com; si and feature on youtube.com; si on
//     spotify.com; _r, _t, is_from_webapp and sender_device on tiktok.com
//     (subdomains included). The rest keep their values, have their
//     encoding normalised like the path and are sorted by key, repeated keys
//     in their original order; empty parameters ("&&") are dropped.
//
// Normalize is idempotent: Normalize(Normalize(x)) == Normalize(x). Its
// errors wrap ErrInvalid: a scheme other than http or https, no host, a
// userinfo part ("user:pass@"), more than MaxLen bytes (in or out),
// invalid UTF-8, spaces, control or invisible format characters (the caller
// trims surrounding whitespace if it wants to), or a malformed host or port.
func Normalize(raw string) (string, error) {
	if err := checkRaw(raw); err != nil {
		return "", err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", invalid("cannot be parsed")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", invalid("scheme must be http or https")
	}
	if u.User != nil {
		return "", invalid("user name or password in the URL")
	}
	if u.Host == "" {
		return "", invalid("no host")
	}
	p, err := split(u)
	if err != nil {
		return "", err
	}
	p.rewriteYouTube()
	p.dropTracking()
	p.sortQuery()
	out := p.String()
	if len(out) > MaxLen {
		return "", invalid("longer than 2048 bytes once normalised")
	}
	return out, nil
}

// checkRaw refuses input that is too long or carries characters no pasted
// link should: invalid UTF-8, whitespace, control and format characters
// (such as the zero-width space U+200B).
func checkRaw(raw string) error {
	if len(raw) > MaxLen {
		return invalid("longer than 2048 bytes")
	}
	if !utf8.ValidString(raw) {
		return invalid("not valid UTF-8")
	}
	for _, r := range raw {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return invalid("contains spaces or control characters")
		}
	}
	return nil
}

// parts is a URL being normalised: scheme https implied, every field already
// in canonical spelling.
type parts struct {
	host  string // lower-case host name, or a bracketed IPv6 literal
	port  string // empty for the default port
	path  string // escaped, starting with "/"
	query []param
}

// split takes u apart into normalised parts.
func split(u *url.URL) (*parts, error) {
	host, err := normalizeHost(u.Host, u.Hostname())
	if err != nil {
		return nil, err
	}
	port, err := normalizePort(u.Port())
	if err != nil {
		return nil, err
	}
	raw := u.RawPath
	if raw == "" {
		raw = u.EscapedPath() // equal to the input when RawPath is empty
	}
	return &parts{host: host, port: port, path: normalizePath(raw), query: parseQuery(u.RawQuery)}, nil
}

// String assembles the canonical URL.
func (p *parts) String() string {
	var b strings.Builder
	b.WriteString("https://")
	b.WriteString(p.host)
	if p.port != "" {
		b.WriteByte(':')
		b.WriteString(p.port)
	}
	b.WriteString(p.path)
	for i, q := range p.query {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		q.write(&b)
	}
	return b.String()
}
