package server

import "testing"

// What goes on while consent is due: stepping back is the caller's own
// only (their devices; leaving, not removing someone).
func TestConsentFree(t *testing.T) {
	for _, c := range []struct {
		method, path string
		free         bool
	}{
		{"DELETE", "/v1/push/subscriptions/s1", true},
		{"POST", "/v1/push/subscriptions", false},
		{"DELETE", "/v1/orgs/o1/memberships/me", true},
		{"DELETE", "/v1/orgs/o1/memberships/other", false},
		{"PATCH", "/v1/orgs/o1/memberships/me", false},
		{"DELETE", "/v1/orgs/o1/memberships/me/extra", false},
		{"DELETE", "/v1/orgs/o1", false},
		{"POST", "/v1/me/consent", true},
		{"POST", "/v1/orgs", false},
	} {
		if got := consentFree(c.method, c.path, "me"); got != c.free {
			t.Errorf("%s %s: free %v, want %v", c.method, c.path, got, c.free)
		}
	}
}
