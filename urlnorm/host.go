package urlnorm

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// hostPrefixes are the leading labels that name a mobile or "world wide web"
// variant of a site rather than different content. They are dropped from
// every host while at least two labels remain (m.me stays m.me).
var hostPrefixes = []string{"www.", "m.", "mobile."}

// hostAliases maps a host, after hostPrefixes are dropped, to the one host
// its platform serves the same content under.
var hostAliases = map[string]string{
	"twitter.com":         "x.com",
	"fb.com":              "facebook.com",
	"mbasic.facebook.com": "facebook.com",
	"web.facebook.com":    "facebook.com",
	"touch.facebook.com":  "facebook.com",
	"instagr.am":          "instagram.com",
	"telegram.me":         "t.me",
}

// normalizeHost checks and canonicalises the host: hostport is the URL's
// Host, name the same without port or brackets.
func normalizeHost(hostport, name string) (string, error) {
	name = strings.ToLower(name)
	if strings.HasPrefix(hostport, "[") {
		addr, err := netip.ParseAddr(name)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", invalid("malformed IPv6 host")
		}
		return "[" + addr.String() + "]", nil
	}
	name = strings.TrimRight(name, ".")
	if !isHostName(name) {
		return "", invalid("malformed host")
	}
	for {
		short := dropPrefix(name)
		if short == name {
			break
		}
		name = short
	}
	if alias, ok := hostAliases[name]; ok {
		return alias, nil
	}
	return name, nil
}

// dropPrefix drops one of hostPrefixes from name if two labels remain.
func dropPrefix(name string) string {
	for _, p := range hostPrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok && strings.Contains(rest, ".") {
			return rest
		}
	}
	return name
}

// isHostName reports whether name, already lower-cased, is a non-empty
// registered name or IPv4 address: ASCII letters, digits, "-", "_" and ".",
// plus Unicode letters, digits and marks for internationalised names.
func isHostName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-', r == '_', r == '.':
		case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
		default:
			return false
		}
	}
	return true
}

// normalizePort drops a default port (80 or 443: the scheme becomes https
// either way) and leading zeros.
func normalizePort(port string) (string, error) {
	if port == "" {
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", invalid("port out of range")
	}
	if n == 80 || n == 443 {
		return "", nil
	}
	return strconv.Itoa(n), nil
}

// hostIs reports whether host is domain or one of its subdomains.
func hostIs(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}
