package urlnorm

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// param is one query parameter, key and value in normalised escaped form.
type param struct {
	key, value string
	hasValue   bool // "k=" and "k" stay distinct
}

// parseQuery splits a raw query into parameters, dropping empty ones
// ("a=1&&b=2").
func parseQuery(raw string) []param {
	var ps []param
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, eq := strings.Cut(part, "=")
		ps = append(ps, param{
			key:      normalizeEscapes(k, isQueryByte),
			value:    normalizeEscapes(v, isQueryByte),
			hasValue: eq,
		})
	}
	return ps
}

func (q param) write(b *strings.Builder) {
	b.WriteString(q.key)
	if q.hasValue {
		b.WriteByte('=')
		b.WriteString(q.value)
	}
}

// name is the decoded, lower-cased key, for matching against known names.
func (q param) name() string {
	k, err := url.QueryUnescape(q.key)
	if err != nil {
		k = q.key
	}
	return strings.ToLower(k)
}

// trackingKeys are parameters that only say who shared a link, or where
// from, on every site.
var trackingKeys = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true,
	"igshid": true, "igsh": true, "mibextid": true, "__tn__": true,
	"ref": true, "ref_src": true, "ref_url": true,
}

// trackingPrefixes start tracking parameters on every site: utm_source and
// the like; Facebook's __cft__[0].
var trackingPrefixes = []string{"utm_", "__cft__"}

// siteTracking are tracking parameters of one site and its subdomains, which
// elsewhere may mean something (t is a timestamp on YouTube, a share token
// on X).
var siteTracking = []struct {
	domain string
	keys   []string
}{
	{"x.com", []string{"s", "t"}},
	{"youtube.com", []string{"si", "feature"}},
	{"spotify.com", []string{"si"}},
	{"tiktok.com", []string{"_r", "_t", "is_from_webapp", "sender_device"}},
}

// dropTracking removes the tracking parameters that Normalize lists, the
// keys matched case-insensitively after decoding.
func (p *parts) dropTracking() {
	var site []string
	for _, s := range siteTracking {
		if hostIs(p.host, s.domain) {
			site = s.keys
		}
	}
	p.query = slices.DeleteFunc(p.query, func(q param) bool {
		n := q.name()
		return trackingKeys[n] || slices.Contains(site, n) ||
			slices.ContainsFunc(trackingPrefixes, func(pre string) bool { return strings.HasPrefix(n, pre) })
	})
}

// sortQuery orders parameters by key; a stable sort keeps repeated keys in
// their original order, which may matter to the site.
func (p *parts) sortQuery() {
	slices.SortStableFunc(p.query, func(a, b param) int { return cmp.Compare(a.key, b.key) })
}

// setQuery replaces every parameter named key with key=value; value is
// escaped here.
func (p *parts) setQuery(key, value string) {
	p.query = slices.DeleteFunc(p.query, func(q param) bool { return q.name() == key })
	p.query = append(p.query, param{key: key, value: escapeValue(value), hasValue: true})
}

// escapeValue escapes a path segment for use as a query value: "&", "+" and
// "=" are literal in a path but separators (or a space) in a query.
func escapeValue(seg string) string {
	return strings.NewReplacer("&", "%26", "+", "%2B", "=", "%3D").Replace(seg)
}
