package auth

import (
	"testing"

	"github.com/jarimu/jarimu/api"
)

// An account's access narrows when it stops being active, gets a lower
// role, or, as staff, a region that does not contain its old one.
func TestNarrowed(t *testing.T) {
	user := func(role, region, status string) *User {
		u := &User{Role: role, Status: status}
		if region != "" {
			u.RegionCode = &region
		}
		return u
	}
	const active, suspended = api.UserActive, api.UserSuspended
	for _, c := range []struct {
		before, after *User
		want          bool
	}{
		{user("volunteer", "3171", active), user("volunteer", "3171", suspended), true},
		{user("officer", "31", active), user("volunteer", "31", active), true},
		{user("admin", "", active), user("officer", "", active), true},
		{user("volunteer", "31", active), user("officer", "31", active), false},
		{user("volunteer", "3171", active), user("volunteer", "32", active), false},
		{user("officer", "31", active), user("officer", "3171", active), true},
		{user("officer", "", active), user("officer", "31", active), true},
		{user("officer", "31", active), user("officer", "32", active), true},
		{user("officer", "3171", active), user("officer", "31", active), false},
		{user("officer", "31", active), user("officer", "", active), false},
		{user("officer", "31", active), user("admin", "31", active), false},
	} {
		if got := narrowed(c.before, c.after); got != c.want {
			t.Errorf("%s %v %s -> %s %v %s: narrowed %v, want %v", c.before.Role, c.before.Region(), c.before.Status,
				c.after.Role, c.after.Region(), c.after.Status, got, c.want)
		}
	}
}
