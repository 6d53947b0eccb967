package client

import (
	"context"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

func TestReportCalls(t *testing.T) {
	ctx := context.Background()
	seen := time.Date(2029, 2, 14, 7, 30, 0, 0, time.UTC)
	rep := api.Report{ID: "r1", URL: "https://x.com/a/status/1", Platform: "x", Category: "disinformation", Status: api.ReportSubmitted,
		Takedown: []api.Takedown{}, Evidence: []api.Evidence{{SHA256: "ab", Size: 3, ContentType: "image/png"}}}
	runCalls(t, []string{"/v1/reports", "/v1/reports/"}, func(c *Client) []callCase {
		return []callCase{
			{
				name: "CreateReport",
				call: func() (any, error) {
					return c.CreateReport(ctx, api.CreateReportRequest{ClaimID: ptr("c1"), URL: "https://x.com/a/status/1", Platform: "x",
						Category: "disinformation", Summary: "Hoaks soal TPS", ObservedAt: seen}, IdempotencyKey("rep-1"))
				},
				answer: rep, method: "POST", path: "/v1/reports", key: "rep-1",
				body: `{"claim_id":"c1","url":"https://x.com/a/status/1","platform":"x","category":"disinformation","summary":"Hoaks soal TPS","observed_at":"2029-02-14T07:30:00Z"}`,
			},
			{
				name: "Reports filtered",
				call: func() (any, error) {
					return c.Reports(ctx, ReportFilter{Status: api.ReportEndorsed, OrgID: "o1", Category: "sara", Region: "3171", ListOptions: ListOptions{Limit: 2}})
				},
				answer: api.Page[api.Report]{Items: []api.Report{rep}},
				method: "GET", path: "/v1/reports", query: "category=sara&limit=2&org_id=o1&region=3171&status=endorsed",
			},
			{
				name:   "Report",
				call:   func() (any, error) { return c.Report(ctx, "r1") },
				answer: rep, method: "GET", path: "/v1/reports/r1",
			},
			{
				name: "Review",
				call: func() (any, error) {
					return c.Review(ctx, "r1", api.ReviewRequest{Decision: "reject", Note: "bukan pelanggaran"})
				},
				answer: rep, method: "POST", path: "/v1/reports/r1/review", key: "*",
				body: `{"decision":"reject","note":"bukan pelanggaran"}`,
			},
			{
				name: "Verify",
				call: func() (any, error) {
					return c.Verify(ctx, "r1", api.VerificationRequest{Decision: api.ReportDuplicate, DuplicateOf: ptr("r0")})
				},
				answer: rep, method: "POST", path: "/v1/reports/r1/verification", key: "*",
				body: `{"decision":"duplicate","duplicate_of":"r0"}`,
			},
			{
				name: "Takedown",
				call: func() (any, error) {
					return c.Takedown(ctx, "r1", api.TakedownRequest{Status: api.TakedownRequested, PlatformRef: "X-123"})
				},
				answer: rep, method: "POST", path: "/v1/reports/r1/takedown", key: "*",
				body: `{"status":"requested","platform_ref":"X-123"}`,
			},
		}
	})
}
