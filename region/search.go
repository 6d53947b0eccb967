package region

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxResults is the most regions Search returns.
const MaxResults = 50

// Search finds regions of the table by name or code, for a picker: a query
// of digits returns the regions whose code begins with it; otherwise every
// word of the query must begin a word of the region's name or of its
// ancestors' names, ignoring case and accents ("jakarta sel" finds 3174,
// Kota Administrasi Jakarta Selatan, and its districts). Regions whose own
// name holds every word come first, then broader levels before narrower,
// then by code. At most limit regions are returned (1 to MaxResults; out of
// range means MaxResults); an empty query finds nothing.
func Search(q string, limit int) []Region {
	if limit < 1 || limit > MaxResults {
		limit = MaxResults
	}
	q = strings.TrimSpace(q)
	if q == "" {
		return []Region{}
	}
	t := load()
	if digits(q) {
		return t.byPrefix(q, limit)
	}
	words := strings.Fields(fold(q))
	if len(words) == 0 {
		return []Region{}
	}
	type hit struct {
		i     int
		inOwn bool
	}
	var hits []hit
	for i := range t.regions {
		if ok, own := t.match(i, words); ok {
			hits = append(hits, hit{i, own})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if a.inOwn != b.inOwn {
			if a.inOwn {
				return -1
			}
			return 1
		}
		return cmp.Compare(len(t.regions[a.i].Code), len(t.regions[b.i].Code))
	})
	out := make([]Region, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, t.regions[h.i])
	}
	return out
}

// byPrefix returns up to limit regions whose code begins with p, by code.
func (t *table) byPrefix(p string, limit int) []Region {
	i, _ := slices.BinarySearchFunc(t.regions, p, byCode)
	out := []Region{}
	for ; i < len(t.regions) && len(out) < limit && strings.HasPrefix(t.regions[i].Code, p); i++ {
		out = append(out, t.regions[i])
	}
	return out
}

// match reports whether every word begins a word of region i's name or of
// its ancestors' names (ok), and whether all of them are in its own name
// (own).
func (t *table) match(i int, words []string) (ok, own bool) {
	own = true
	for _, w := range words {
		if hasWordPrefix(t.folded[i], w) {
			continue
		}
		own = false
		found := false
		for p := t.parent[i]; p >= 0 && !found; p = t.parent[p] {
			found = hasWordPrefix(t.folded[p], w)
		}
		if !found {
			return false, false
		}
	}
	return true, own
}

// hasWordPrefix reports whether w begins one of the space-separated words
// of folded text s.
func hasWordPrefix(s, w string) bool {
	for {
		if strings.HasPrefix(s, w) {
			return true
		}
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
}

// fold lowercases s, takes the accents off Latin letters and turns every
// run of other characters (spaces, punctuation) into one space, so names
// and queries compare as words: "Ra'as" and "ra as" fold alike.
func fold(s string) string {
	var b strings.Builder
	foldInto(&b, s)
	return b.String()
}

// foldInto writes fold(s) to b, without leading or trailing spaces.
func foldInto(b *strings.Builder, s string) {
	start, space := b.Len(), false
	for _, r := range s {
		switch {
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r >= utf8.RuneSelf:
			r = unaccent(unicode.ToLower(r))
		}
		if !isAlnum(r) {
			space = true
			continue
		}
		if space && b.Len() > start {
			b.WriteByte(' ')
		}
		space = false
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r))
		} else {
			b.WriteRune(r)
		}
	}
}

func isAlnum(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// accents maps the accented lowercase Latin letters a name or a query may
// hold to their base letters.
var accents = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ā': 'a',
	'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e', 'ē': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ī': 'i',
	'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ō': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ū': 'u',
	'ñ': 'n', 'ç': 'c', 'ý': 'y', 'ÿ': 'y',
}

func unaccent(r rune) rune {
	if b, ok := accents[r]; ok {
		return b
	}
	return r
}
