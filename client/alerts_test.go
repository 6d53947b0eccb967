package client

import (
	"context"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

func TestAlertCalls(t *testing.T) {
	ctx := context.Background()
	since := time.Date(2029, 2, 14, 8, 0, 0, 500, time.FixedZone("WIB", 7*3600))
	alert := api.Alert{ID: "a1", Title: "Hoaks TPS", Severity: "critical", ReportIDs: []string{"r1"}, Links: []string{}}
	p50 := 120.5
	runCalls(t, []string{"/v1/alerts", "/v1/alerts/"}, func(c *Client) []callCase {
		return []callCase{
			{
				name: "CreateAlert",
				call: func() (any, error) {
					return c.CreateAlert(ctx, api.CreateAlertRequest{Title: "Hoaks TPS", Body: "Jangan disebar.", Severity: "critical",
						RegionCode: ptr("31"), ReportIDs: []string{"r1"}})
				},
				answer: alert, method: "POST", path: "/v1/alerts", key: "*",
				body: `{"title":"Hoaks TPS","body":"Jangan disebar.","severity":"critical","region_code":"31","report_ids":["r1"]}`,
			},
			{
				name: "Alerts is public",
				call: func() (any, error) {
					return c.Alerts(ctx, AlertFilter{Region: "31", Since: since, ListOptions: ListOptions{Limit: 3}})
				},
				answer: api.Page[api.Alert]{Items: []api.Alert{alert}},
				method: "GET", path: "/v1/alerts", query: "limit=3&region=31&since=2029-02-14T01%3A00%3A00.0000005Z", public: true,
			},
			{
				name:   "Alerts unfiltered",
				call:   func() (any, error) { return c.Alerts(ctx, AlertFilter{}) },
				answer: api.Page[api.Alert]{Items: []api.Alert{}},
				method: "GET", path: "/v1/alerts", public: true,
			},
			{
				name:   "Alert is public",
				call:   func() (any, error) { return c.Alert(ctx, "a1") },
				answer: alert, method: "GET", path: "/v1/alerts/a1", public: true,
			},
			{
				name:   "Retract",
				call:   func() (any, error) { return c.Retract(ctx, "a1", "salah wilayah") },
				answer: alert, method: "POST", path: "/v1/alerts/a1/retraction", key: "*",
				body: `{"reason":"salah wilayah"}`,
			},
			{
				name:   "Reach",
				call:   func() (any, error) { return c.Reach(ctx, "a1") },
				answer: api.Reach{AlertID: "a1", Meant: 10, Delivered: 7, P50Ms: &p50},
				method: "GET", path: "/v1/alerts/a1/reach",
			},
		}
	})
}

func TestOpenCalls(t *testing.T) {
	ctx := context.Background()
	runCalls(t, []string{"/v1/open", "/v1/open/"}, func(c *Client) []callCase {
		return []callCase{
			{
				name: "OpenIndex",
				call: func() (any, error) { return c.OpenIndex(ctx) },
				answer: OpenIndex{Licence: "CC BY 4.0", Datasets: []OpenDataset{{Name: "alerts", Formats: []string{"/v1/open/alerts.csv"},
					Fields: []OpenField{{Name: "id", Type: "string (UUID)", Description: "alert id"}}}}},
				method: "GET", path: "/v1/open", public: true,
			},
			{
				name:   "OpenStats",
				call:   func() (any, error) { return c.OpenStats(ctx, "day") },
				answer: OpenStats{GroupBy: "day", Items: []OpenStat{{Key: "2029-02-14", Reports: 4, Verified: 2, TakenDown: 1, TakedownRequests: 2}}},
				method: "GET", path: "/v1/open/stats.json", query: "group_by=day", public: true,
			},
		}
	})
}
