package client

import (
	"context"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

func TestStatsCalls(t *testing.T) {
	ctx := context.Background()
	// 05:00 in Jakarta on the 2nd is still the 1st in UTC: the date sent is UTC's.
	from := time.Date(2029, 2, 2, 5, 0, 0, 0, time.FixedZone("WIB", 7*3600))
	to := time.Date(2029, 2, 14, 12, 0, 0, 0, time.UTC)
	q := StatsQuery{From: from, To: to, OrgID: "o1"}
	scope := api.StatsScope{From: "2029-02-01", To: "2029-02-14"}
	med := 5.5
	runCalls(t, []string{"/v1/stats/"}, func(c *Client) []callCase {
		return []callCase{
			{
				name:   "StatsFindings",
				call:   func() (any, error) { return c.StatsFindings(ctx, q) },
				answer: api.FindingsStats{Scope: scope, Items: []api.FindingDay{{Day: "2029-02-03", Category: "sara", Reports: 2}}},
				method: "GET", path: "/v1/stats/findings", query: "from=2029-02-01&org_id=o1&to=2029-02-14",
			},
			{
				name:   "StatsFunnel with the server's period",
				call:   func() (any, error) { return c.StatsFunnel(ctx, StatsQuery{}) },
				answer: api.FunnelStats{Scope: scope, Filed: 3, Verified: 1, Submitted: 2},
				method: "GET", path: "/v1/stats/funnel",
			},
			{
				name:   "StatsTakedowns",
				call:   func() (any, error) { return c.StatsTakedowns(ctx, StatsQuery{To: to}) },
				answer: api.TakedownStats{Scope: scope, Items: []api.PlatformTakedown{{Platform: "x", Requested: 2, TakenDown: 1, Pending: 1, MedianHours: &med, P90Hours: &med}}},
				method: "GET", path: "/v1/stats/takedowns", query: "to=2029-02-14",
			},
			{
				name: "StatsAlerts",
				call: func() (any, error) {
					return c.StatsAlerts(ctx, StatsQuery{From: from}, ListOptions{Limit: 2, Cursor: "YWJj"})
				},
				answer: api.AlertStats{Scope: scope, Items: []api.AlertStat{{AlertID: "a1", Title: "Hoaks", Severity: "info", Meant: 4, Pushed: 3, Delivered: 2, Displayed: 1, PublishedAt: to}}, NextCursor: "ZGVm"},
				method: "GET", path: "/v1/stats/alerts", query: "cursor=YWJj&from=2029-02-01&limit=2",
			},
			{
				name:   "StatsProvinces",
				call:   func() (any, error) { return c.StatsProvinces(ctx, StatsQuery{OrgID: "o1"}) },
				answer: api.ProvinceStats{Scope: scope, Items: []api.ProvinceStat{{ProvinceCode: "31", ProvinceName: "DKI Jakarta", Reports: 4, Verified: 1}}},
				method: "GET", path: "/v1/stats/provinces", query: "org_id=o1",
			},
		}
	})
}
