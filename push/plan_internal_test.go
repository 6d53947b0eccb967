package push

import (
	"context"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
)

// The devices of a job are read in id order, each one's account looked up
// by its key: the plan reads no account table whole (SQLite; PostgreSQL
// plans by its statistics). It did, for every round of every job, however
// few devices there were. A job for one account (an assignment, a test)
// reads that account's devices by their index, not every device.
func TestDevicesReadByTheirAccounts(t *testing.T) {
	d := dbtest.Open(t, dbtest.SQLite)
	var users *auth.Service // ActiveIDs reads nothing of its service
	s := &Service{db: d, accounts: users.ActiveIDs}
	region, user := "31", "u1"
	for _, j := range []*job{{Kind: "alert", RegionCode: &region, Wants: 1}, {Kind: "alert", Wants: 1}, {Kind: "test", UserID: &user}} {
		what := "a national alert"
		switch {
		case j.RegionCode != nil:
			what = "an alert to " + *j.RegionCode
		case j.UserID != nil:
			what = "a job for one account"
		}
		q := s.devices(d, j).Column("s.id").Where("s.id > ?", "").OrderExpr("s.id").Limit(500)
		var plan []struct {
			ID     int    `bun:"id"`
			Parent int    `bun:"parent"`
			NotUse int    `bun:"notused"`
			Detail string `bun:"detail"`
		}
		if err := d.NewRaw("EXPLAIN QUERY PLAN ?", q).Scan(context.Background(), &plan); err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, p := range plan {
			steps = append(steps, p.Detail)
		}
		got := strings.Join(steps, "; ")
		if strings.Contains(got, "SCAN users") || !strings.Contains(got, "SEARCH users USING") {
			t.Errorf("%s: plan %q, want each device's account searched by key, no scan of users", what, got)
		}
		if j.UserID != nil && !strings.Contains(got, "push_subscriptions_user_idx (user_id=?") {
			t.Errorf("%s: plan %q, want its devices read by the account's index", what, got)
		}
	}
}
