package org_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/org"
)

// The membership rules, through the service: staff cannot join; only a
// pending request is decided; an org keeps at least one coordinator; and
// each change tells the member's open feeds which streams they gain or lose.
func TestMembershipRules(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		orgs := e.App.Orgs
		admin := e.User(t, "admin", "root", "")
		coord := e.User(t, "volunteer", "koordinator", "31")
		vol := e.User(t, "volunteer", "relawan", "31")
		officer := e.User(t, "officer", "petugas", "31")
		email := coord.User.Email
		o, err := orgs.Create(ctx, apptest.Principal(admin), api.CreateOrgRequest{Name: "Perludem Jakarta", AccreditationNumber: "RT/ORG/1",
			AccreditedUntil: time.Now().Add(90 * 24 * time.Hour), CoordinatorEmail: &email})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := orgs.Join(ctx, apptest.Principal(officer), o.ID, api.JoinRequest{}); !org.StaffCannotJoin.Is(err) {
			t.Errorf("officer joins: %v, want staff-cannot-join", err)
		}
		if _, err := orgs.Join(ctx, apptest.Principal(vol), o.ID, api.JoinRequest{}); err != nil {
			t.Fatal(err)
		}
		approve := api.DecisionRequest{Decision: "approve"}
		if _, err := orgs.Decide(ctx, apptest.Principal(coord), o.ID, vol.User.ID, approve); err != nil {
			t.Fatal(err)
		}
		if _, err := orgs.Decide(ctx, apptest.Principal(coord), o.ID, vol.User.ID, approve); !org.NotPending.Is(err) {
			t.Errorf("deciding an active membership: %v, want not-pending", err)
		}
		if _, err := orgs.SetRole(ctx, apptest.Principal(coord), o.ID, coord.User.ID, api.RoleRequest{Role: api.RoleMember}); !org.LastCoordinator.Is(err) {
			t.Errorf("the only coordinator steps down: %v, want last-coordinator", err)
		}
		if _, err := orgs.SetRole(ctx, apptest.Principal(coord), o.ID, vol.User.ID, api.RoleRequest{Role: api.RoleCoordinator}); err != nil {
			t.Fatal(err)
		}
		if _, err := orgs.SetRole(ctx, apptest.Principal(coord), o.ID, coord.User.ID, api.RoleRequest{Role: api.RoleMember}); err != nil {
			t.Errorf("stepping down beside another coordinator: %v", err)
		}

		// The events on the member's stream carry the feed changes.
		evs, err := e.App.Events.After(ctx, org.UserStream(vol.User.ID), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var changes []api.FeedChange
		for _, ev := range evs {
			if !api.CarriesFeedChange(ev.Name) {
				continue
			}
			var d struct{ Feed api.FeedChange }
			json.Unmarshal(ev.Data, &d)
			changes = append(changes, d.Feed)
		}
		if len(changes) != 2 {
			t.Fatalf("feed changes %+v, want approval and promotion", changes)
		}
		if _, ok := changes[0].Add[org.Stream(o.ID)]; !ok || len(changes[0].Remove) != 1 || changes[0].Remove[0] != org.ReviewStream(o.ID) {
			t.Errorf("approval: %+v, want the org stream added and the review stream removed", changes[0])
		}
		if _, ok := changes[1].Add[org.ReviewStream(o.ID)]; !ok || len(changes[1].Remove) != 0 {
			t.Errorf("promotion: %+v, want the review stream added", changes[1])
		}
	})
}
