package api

import "github.com/google/uuid"

// ValidID reports whether s is an id as this API gives them out: a UUID in
// its 36-character form (8-4-4-4-12 hex digits; uuid.Validate also takes
// the braced, URN and 32-digit forms, which no id of this API has). An id
// that is not one names nothing, and is refused before any database sees it.
func ValidID(s string) bool {
	return len(s) == 36 && uuid.Validate(s) == nil
}

// ID fails field unless s is a well-formed id (ValidID), with message.
func (c *Check) ID(field, s, message string) bool {
	if !ValidID(s) {
		c.Fail(field, "%s", message)
		return false
	}
	return true
}
