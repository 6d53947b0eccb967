package urlnorm

import "strings"

const upperHex = "0123456789ABCDEF"

// normalizeEscapes re-encodes s, an escaped URL component: escapes of
// unreserved characters are decoded, other escapes written in upper-case hex,
// bytes that literal refuses (and a "%" that starts no escape) encoded.
func normalizeEscapes(s string, literal func(byte) bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(v) {
				b.WriteByte(v)
			} else {
				writeEscape(&b, v)
			}
			i += 2
		case c != '%' && literal(c):
			b.WriteByte(c)
		default:
			writeEscape(&b, c)
		}
	}
	return b.String()
}

func writeEscape(b *strings.Builder, c byte) {
	b.WriteByte('%')
	b.WriteByte(upperHex[c>>4])
	b.WriteByte(upperHex[c&15])
}

// isUnreserved reports whether c is an RFC 3986 unreserved character, which
// means the same escaped or not.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathByte reports whether c may stand unescaped in a path: pchar or "/".
func isPathByte(c byte) bool {
	if isUnreserved(c) {
		return true
	}
	return strings.IndexByte("!$&'()*+,;=:@/", c) >= 0
}

// isQueryByte reports whether c may stand unescaped in a query key or value
// ("&" never reaches here: it separates parameters).
func isQueryByte(c byte) bool {
	return isPathByte(c) || c == '?'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// normalizePath normalises an escaped path: encoding, dot segments, trailing
// slashes, and "/" for an empty path.
func normalizePath(raw string) string {
	p := removeDotSegments(normalizeEscapes(raw, isPathByte))
	p = strings.TrimRight(p, "/")
	if p == "" {
		return "/"
	}
	return p
}

// removeDotSegments resolves "." and ".." segments as RFC 3986 section 5.2.4
// does; ".." never climbs above the root. A trailing slash it may lose does
// not matter: normalizePath drops trailing slashes anyway.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}
