package server_test

import (
	"strings"
	"testing"

	"github.com/jarimu/jarimu/apptest"
)

// /metrics serves the Prometheus text format with requests by route and
// status, problems by type, feed and pool figures and the Go runtime.
func TestMetrics(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	e.Do(t, "GET", "/v1/orgs", nil)
	e.Do(t, "GET", "/v1/me", nil)
	r := e.Do(t, "GET", "/metrics", nil)
	body := string(r.Body)
	for _, want := range []string{
		`jarimu_http_request_duration_seconds_count{method="GET",route="GET /v1/orgs",status="200"} 1`,
		`jarimu_problems_total{type="unauthenticated"} 1`,
		"jarimu_feed_connections 0",
		"jarimu_feed_events_delivered_total",
		`go_sql_max_open_connections{db_name="jarimu"}`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("got %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}
