package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/jarimu/jarimu/api"
)

// ValidID takes the ids this API gives out, in either case, and nothing
// else: no other spelling of a UUID, no NUL, no SQL.
func TestValidID(t *testing.T) {
	for _, s := range []string{uuid.Must(uuid.NewV7()).String(), "01A252F8-4DD4-7436-BF03-5E4B7D79434E", "00000000-0000-0000-0000-000000000000"} {
		if !api.ValidID(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "\x00", "01a252f8-4dd4-7436-bf03-5e4b7d79434", "01a252f8-4dd4-7436-bf03-5e4b7d79434e0",
		"{01a252f8-4dd4-7436-bf03-5e4b7d79434e}", "urn:uuid:01a252f8-4dd4-7436-bf03-5e4b7d79434e", "01a252f84dd47436bf035e4b7d79434e",
		"01a252f8-4dd4-7436-bf03-5e4b7d79434\x00", "01a252f8_4dd4-7436-bf03-5e4b7d79434e", "01a252g8-4dd4-7436-bf03-5e4b7d79434e",
		"' OR 1=1 --                         "} {
		if api.ValidID(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
