package problem

import "fmt"

// Type is one problem type of the catalogue, declared once, next to the
// package that answers it: its slug (the answer's type is the URI
// /v1/problems/<slug>), its kind, and what it means for a client.
type Type struct {
	Slug string
	Kind Kind
	Doc  string
}

// New makes an error of type t with a detail for this occurrence.
func (t Type) New(format string, args ...any) *Error {
	return &Error{Kind: t.Kind, Type: t.Slug, Detail: fmt.Sprintf(format, args...)}
}

// Is reports whether err carries a problem of type t.
func (t Type) Is(err error) bool { return Is(err, t.Slug) }

// The general types: one per kind (what Errorf gives), and validation.
var (
	InternalType     = Type{"internal", Internal, "Something failed on the server. The request id in the answer identifies it in the logs."}
	MalformedType    = Type{"malformed", Malformed, "The request could not be read: invalid JSON, an unknown, duplicated or wrongly cased field, data after the JSON value, or a value of the wrong type."}
	UnauthorizedType = Type{"unauthorized", Unauthorized, "The call needs valid credentials."}
	ForbiddenType    = Type{"forbidden", Forbidden, "You are signed in but your role does not allow this call."}
	NotFoundType     = Type{"not-found", NotFound, "Nothing is there, or it is not visible to you."}
	NotAllowedType   = Type{"method-not-allowed", NotAllowed, "The path exists but not with this method; the Allow header lists the methods served."}
	ConflictType     = Type{"conflict", Conflict, "The current state does not allow this change."}
	TooLargeType     = Type{"too-large", TooLarge, "The request body is larger than allowed (64 KiB for JSON)."}
	MediaType        = Type{"unsupported-media-type", UnsupportedMedia, "The body must be sent as Content-Type: application/json."}
	InvalidType      = Type{"invalid", Invalid, "The request is well-formed but a value is not acceptable."}
	ValidationType   = Type{"validation", Invalid, "One or more fields are invalid; the errors member lists each field and why."}
	BadQueryType     = Type{"bad-query", Malformed, "A query parameter is malformed or out of range (limit is 1 to 200; enums list their values)."}
	RateLimitedType  = Type{"rate-limited", RateLimited, "Too many requests. Wait for the Retry-After delay."}
	UnavailableType  = Type{"unavailable", Unavailable, "A dependency (the database, or the evidence store) is not answering or refuses the server's credentials. Retry after the Retry-After delay."}
	TimeoutType      = Type{"request-timeout", Timeout, "The request body stopped arriving, or arrived more slowly than the server waits for (evidence uploads: no byte for 60 seconds, or longer than 15 minutes in all). Nothing was recorded; send it again, over a better connection if you can."}
)

// General lists the general types, for the catalogue.
var General = []Type{InternalType, MalformedType, UnauthorizedType, ForbiddenType, NotFoundType, NotAllowedType,
	ConflictType, TooLargeType, MediaType, InvalidType, ValidationType, BadQueryType, RateLimitedType, UnavailableType, TimeoutType}

// Catalogue is every problem type an API answers, by slug.
type Catalogue map[string]Type

// NewCatalogue gathers lists of types; a slug declared twice is a bug.
func NewCatalogue(lists ...[]Type) Catalogue {
	c := Catalogue{}
	for _, l := range lists {
		for _, t := range l {
			if _, dup := c[t.Slug]; dup {
				panic("problem: type " + t.Slug + " declared twice")
			}
			c[t.Slug] = t
		}
	}
	return c
}
