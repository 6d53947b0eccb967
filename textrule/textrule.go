// Package textrule holds the rules for text that people type into Jarimu
// and others read. A name or a title may not hide what it says behind
// invisible or direction-changing characters; free text may not reorder
// itself with bidi overrides; all accepted text is kept in Unicode NFC, so
// the same words are always the same bytes; and an email address is ASCII
// before the @, its domain kept in the IDNA ASCII (xn--) form, so an address
// that only looks like another one is either refused or visibly different.
//
// Each function returns the stored form of its input, or an error whose
// text is a sentence fragment fit for a field error ("must not contain ...").
package textrule

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// ErrUTF8 refuses bytes that are not UTF-8.
var ErrUTF8 = errors.New("must be valid UTF-8")

// Line is the stored form of one-line text that names or heads something: a
// person's or an organisation's name, a title, a reference. It refuses
// control characters (line breaks and tabs included), format characters
// (Unicode category Cf: bidi marks, embeddings, overrides and isolates,
// zero-width spaces and joiners, the word joiner, the soft hyphen, the byte
// order mark, tag characters), the other default-ignorable characters (such
// as the Hangul fillers and the combining grapheme joiner), line and
// paragraph separators, private-use characters and non-characters. The
// answer is NFC with the white space around it trimmed.
func Line(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrUTF8
	}
	for i, r := range s {
		if err := lineRune(r); err != nil {
			return "", fmt.Errorf("%w (U+%04X at byte %d)", err, r, i)
		}
	}
	return strings.TrimSpace(norm.NFC.String(s)), nil
}

var (
	errControl   = errors.New("must not contain control characters")
	errInvisible = errors.New("must not contain invisible or direction-changing characters")
	errPrivate   = errors.New("must not contain private-use or non-characters")
	errBreak     = errors.New("must not contain line or paragraph separators")
)

func lineRune(r rune) error {
	switch {
	case unicode.IsControl(r):
		return errControl
	case invisible(r):
		return errInvisible
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return errBreak
	case unicode.In(r, unicode.Co, unicode.Noncharacter_Code_Point):
		return errPrivate
	}
	return nil
}

// invisible reports whether r changes how text around it shows, or shows
// as nothing: format characters and the other default-ignorable ones.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point)
}

// Lines is the stored form of free text that may span lines: a
// description, an alert's body, a summary, a note, a reason. Newlines,
// carriage returns and tabs are kept; other control characters and the bidi
// embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069),
// which can make text show in another order than it is read, are refused.
// Joiners and the other format characters stay: emoji sequences and some
// scripts need them. The answer is NFC with the white space around it
// trimmed.
func Lines(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrUTF8
	}
	for i, r := range s {
		var err error
		switch {
		case r == '\n' || r == '\r' || r == '\t':
		case unicode.IsControl(r):
			err = errControl
		case bidiControl(r):
			err = errReorder
		}
		if err != nil {
			return "", fmt.Errorf("%w (U+%04X at byte %d)", err, r, i)
		}
	}
	return strings.TrimSpace(norm.NFC.String(s)), nil
}

var errReorder = errors.New("must not contain bidi embedding, override or isolate characters")

func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// MaxEmail is the longest stored email address, in bytes.
const MaxEmail = 254

// Email errors.
var (
	ErrEmail       = errors.New("must be a valid email address")
	ErrEmailLocal  = errors.New("must be ASCII before the @ (an internationalised domain is fine)")
	ErrEmailDomain = errors.New("must have a valid domain name")
)

// domains converts a domain to its ASCII form for lookup (UTS #46 with
// the bidi rule and DNS lengths checked; non-transitional, so ß and ς
// stay themselves).
var domains = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true), idna.Transitional(false))

// Email is the stored form of an email address: a bare address (no display
// name), lower-cased, whose part before the @ is printable ASCII and whose
// domain, dotted, is in the IDNA ASCII form (an internationalised domain
// becomes xn--...), at most MaxEmail bytes. Invisible characters are
// refused anywhere, not dropped as IDNA mapping would.
func Email(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrEmail
	}
	local, domain := s[:at], s[at+1:]
	for i := 0; i < len(local); i++ {
		if c := local[i]; c <= ' ' || c >= 0x7f {
			if c >= 0x80 {
				return "", ErrEmailLocal
			}
			return "", ErrEmail
		}
	}
	if strings.ContainsFunc(domain, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || invisible(r) }) {
		return "", ErrEmail
	}
	ascii, err := domains.ToASCII(domain)
	if err != nil || !strings.Contains(ascii, ".") || strings.HasPrefix(ascii, ".") || strings.HasSuffix(ascii, ".") {
		return "", ErrEmailDomain
	}
	out := strings.ToLower(local) + "@" + ascii
	if len(out) > MaxEmail {
		return "", ErrEmail
	}
	if a, err := mail.ParseAddress(out); err != nil || a.Address != out || a.Name != "" {
		return "", ErrEmail
	}
	return out, nil
}
