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
// few devices there were.
func TestDevicesReadByTheirAccounts(t *testing.T) {
	d := dbtest.Open(t, dbtest.SQLite)
	var users *auth.Service // ActiveIDs reads nothing of its service
	s := &Service{db: d, accounts: users.ActiveIDs}
	region := "31"
	for _, j := range []*job{{Kind: "alert", RegionCode: &region, Wants: 1}, {Kind: "alert", Wants: 1}} {
		what := "a national alert"
		if j.RegionCode != nil {
			what = "an alert to " + *j.RegionCode
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
	}
}
