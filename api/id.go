package api

// ValidID reports whether s is an id as this API gives them out: a UUID in
// its 36-character form (8-4-4-4-12 hex digits). An id that is not one
// names nothing, and is refused before any database sees it.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ID fails field unless s is a well-formed id (ValidID), with message.
func (c *Check) ID(field, s, message string) bool {
	if !ValidID(s) {
		c.Fail(field, "%s", message)
		return false
	}
	return true
}
