package client

import (
	"context"
	"testing"

	"github.com/jarimu/jarimu/api"
)

func TestUserCalls(t *testing.T) {
	ctx := context.Background()
	user := api.User{ID: "u/1", Email: "jkt@bawaslu.go.id", Role: api.RoleOfficer, Status: api.UserActive}
	runCalls(t, []string{"/v1/admin/users/"}, func(c *Client) []callCase {
		return []callCase{
			{
				name:   "User",
				call:   func() (any, error) { return c.User(ctx, "u/1") },
				answer: user, method: "GET", path: "/v1/admin/users/u%2F1",
			},
		}
	})
	c := New("http://127.0.0.1:1")
	if _, err := c.User(ctx, ""); err == nil {
		t.Error("User with no id: got no error")
	}
}
