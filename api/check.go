package api

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Check collects field errors while a request validates itself. The zero
// value is ready to use.
type Check struct {
	Errors []FieldError
}

// Fail records that field is invalid.
func (c *Check) Fail(field, format string, args ...any) {
	c.Errors = append(c.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// OK reports whether no field failed.
func (c *Check) OK() bool { return len(c.Errors) == 0 }

// Text checks a free-text field: valid UTF-8, no NUL or other control
// characters except newline and tab when multiline, and a length in runes
// within [min, max]. min 0 makes it optional.
func (c *Check) Text(field, s string, min, max int, multiline bool) bool {
	if msg := textProblem(s, min, max, multiline); msg != "" {
		c.Fail(field, "%s", msg)
		return false
	}
	return true
}

func textProblem(s string, min, max int, multiline bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if r == '\n' || r == '\t' || r == '\r' {
			if multiline {
				continue
			}
		}
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	n := utf8.RuneCountInString(s)
	if min > 0 && strings.TrimSpace(s) == "" {
		return "is required"
	}
	if n < min {
		return fmt.Sprintf("must be at least %d characters", min)
	}
	if n > max {
		return fmt.Sprintf("must be at most %d characters", max)
	}
	return ""
}

// Email checks an email address: a bare addr-spec with a dotted domain, at
// most 254 bytes.
func (c *Check) Email(field, s string) bool {
	if !ValidEmail(s) {
		c.Fail(field, "must be a valid email address")
		return false
	}
	return true
}

// ValidEmail reports whether s is a bare email address (no display name) with
// a dotted domain, at most 254 bytes, printable ASCII or UTF-8 without spaces
// or control characters.
func ValidEmail(s string) bool {
	if len(s) > 254 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// OneOf checks that s is one of the allowed values.
func (c *Check) OneOf(field, s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	c.Fail(field, "must be one of: %s", strings.Join(allowed, ", "))
	return false
}
