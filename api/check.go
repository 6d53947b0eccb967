package api

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jarimu/jarimu/textrule"
)

// Check collects field errors while a request validates itself. The zero
// value is ready to use. Its text checks also put each accepted field into
// its stored form (see package textrule), so a request that validated is
// ready to be stored.
type Check struct {
	Errors []FieldError
}

// Fail records that field is invalid.
func (c *Check) Fail(field, format string, args ...any) {
	c.Errors = append(c.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// OK reports whether no field failed.
func (c *Check) OK() bool { return len(c.Errors) == 0 }

// Required fails field when s is empty.
func (c *Check) Required(field, s string) bool {
	if s == "" {
		c.Fail(field, "is required")
		return false
	}
	return true
}

// Line checks one-line text that names or heads something (names, titles,
// references) by textrule.Line, and a length in characters of its stored
// form within [min, max]; min 0 makes it optional. On success *s becomes the
// stored form: NFC, trimmed.
func (c *Check) Line(field string, s *string, min, max int) bool {
	return c.text(field, s, min, max, textrule.Line)
}

// Lines checks free text that may span lines (descriptions, bodies, notes,
// reasons) by textrule.Lines, like Line otherwise.
func (c *Check) Lines(field string, s *string, min, max int) bool {
	return c.text(field, s, min, max, textrule.Lines)
}

func (c *Check) text(field string, s *string, min, max int, rule func(string) (string, error)) bool {
	v, err := rule(*s)
	if err == nil {
		err = length(v, min, max)
	}
	if err != nil {
		c.Fail(field, "%s", err)
		return false
	}
	*s = v
	return true
}

func length(s string, min, max int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case min > 0 && strings.TrimSpace(s) == "":
		return fmt.Errorf("is required")
	case n < min:
		return fmt.Errorf("must be at least %d characters", min)
	case n > max:
		return fmt.Errorf("must be at most %d characters", max)
	}
	return nil
}

// Email checks an email address by textrule.Email: ASCII before the @, a
// dotted domain (an internationalised one is kept in its xn-- form), at most
// 254 bytes. On success *s becomes the stored form, lower-cased.
func (c *Check) Email(field string, s *string) bool {
	v, err := textrule.Email(*s)
	if err != nil {
		c.Fail(field, "%s", err)
		return false
	}
	*s = v
	return true
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
