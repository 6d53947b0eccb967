// Package problem is Jarimu's one error vocabulary. Capability packages return
// these errors; the server renders them as RFC 9457 problem+json. Anything that
// is not a *problem.Error is an internal error: logged once, never shown.
package problem

import (
	"errors"
	"fmt"
	"time"

	"github.com/jarimu/jarimu/api"
)

// Kind classifies an error by what the caller can do about it. The server
// maps each kind to one HTTP status (the numbers below); this package knows
// nothing of HTTP.
type Kind int

// The kinds of error, with the HTTP status the server renders each as.
const (
	Internal         Kind = iota // 500: a bug or an unexpected failure
	Malformed                    // 400: the request cannot be read
	Unauthorized                 // 401: no or bad credentials
	Forbidden                    // 403: authenticated but not allowed
	NotFound                     // 404: absent, or not visible to the caller
	NotAllowed                   // 405: the method is not served at this path
	Conflict                     // 409: the state forbids it now
	TooLarge                     // 413: the body exceeds its limit
	UnsupportedMedia             // 415: wrong Content-Type
	Invalid                      // 422: readable, but values are wrong
	RateLimited                  // 429: slow down; see RetryAfter
	Unavailable                  // 503: a dependency is down; see RetryAfter
	Timeout                      // 408: the request did not arrive in time
)

var defaultTypes = [...]string{
	"internal", "malformed", "unauthorized", "forbidden", "not-found",
	"method-not-allowed", "conflict", "too-large", "unsupported-media-type",
	"invalid", "rate-limited", "unavailable", "request-timeout",
}

// FieldError names one invalid input field and why it is invalid.
type FieldError = api.FieldError

// Error is an error a client can act on. Type is a stable slug such as
// "task-full"; it renders as the URI /v1/problems/<Type>.
type Error struct {
	Kind       Kind
	Type       string
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration // for RateLimited and Unavailable
}

// Error implements error.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Type
	}
	return e.Type + ": " + e.Detail
}

// New makes an error of kind with an explicit type slug; an empty slug takes
// the kind's default.
func New(kind Kind, typ, format string, args ...any) *Error {
	if typ == "" {
		typ = defaultTypes[kind]
	}
	return &Error{Kind: kind, Type: typ, Detail: fmt.Sprintf(format, args...)}
}

// Errorf makes an error of kind with the kind's default type.
func Errorf(kind Kind, format string, args ...any) *Error {
	return New(kind, "", format, args...)
}

// Validation is a 422 carrying field errors.
func Validation(fields ...FieldError) *Error {
	e := New(Invalid, "validation", "one or more fields are invalid")
	e.Fields = fields
	return e
}

// Validate runs a request's own field checks (which also put its text into
// the form it is stored in) and makes their failures one 422; nil when they
// pass. Capabilities call it after their permission checks, so a caller
// without permission gets the 403 or 404 whatever the body holds.
func Validate(req interface{ Validate() []FieldError }) error {
	if fields := req.Validate(); len(fields) > 0 {
		return Validation(fields...)
	}
	return nil
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf is the kind of err: Internal unless err carries a *Error.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return Internal
}

// Is reports whether err carries a problem of the given type slug.
func Is(err error, typ string) bool {
	e, ok := As(err)
	return ok && e.Type == typ
}
