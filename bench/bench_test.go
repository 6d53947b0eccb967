package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/bench"
)

// The scenarios run end to end against a real server, small.
func TestScenarios(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		env := &bench.Env{URLs: []string{e.URL}, Minter: e.App.Auth.Tokens(), Seeder: e.App.Auth}
		ctx := context.Background()
		r, err := bench.Feed(ctx, env, bench.FeedOptions{Clients: 40, Alerts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if r.Figures["failed_connections"] != 0 || r.Stats["alert_to_each_client"].N != 120 || len(r.Notes) > 0 {
			t.Fatalf("feed: got %+v, want 40 clients x 3 alerts delivered", r)
		}
		// The rate mode with clients acking every event: every alert reaches
		// every client, and the acks are written (the reach counts them).
		r, err = bench.Feed(ctx, env, bench.FeedOptions{Clients: 20, Rate: 10, Duration: 1500 * time.Millisecond, Ack: true})
		if err != nil {
			t.Fatal(err)
		}
		published, _ := r.Figures["alerts_published"].(int)
		sustained, _ := r.Figures["sustained_deliveries_per_second"].(float64)
		if published < 10 || r.Figures["deliveries"] != 20*published || r.Figures["deliveries_missing"] != 0 || r.Figures["kept_up"] != true ||
			sustained <= 0 || sustained > float64(20*published)/1.5+0.01 || // the figure is rounded to 0.01
			r.Stats["alert_to_last_client"].N != published || r.Stats["alert_to_last_client"].P50 < r.Stats["alert_to_each_client"].P50 {
			t.Fatalf("feed --rate: got %+v %+v, want at least 10 alerts, each to 20 clients, and a last client per alert", r.Figures, r.Stats)
		}
		// The clients' last acks may still be on their way to the server's
		// readers when the run returns (it counts receipts): flush until
		// they are all in, or 10 s.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			e.App.Acks.Flush(ctx)
			if e.App.Acks.Stats().Counted >= int64(20*published) || time.Now().After(deadline) {
				break
			}
		}
		if st := e.App.Acks.Stats(); st.Counted != int64(20*published) || st.Rows == 0 || st.Rows >= st.Counted {
			t.Fatalf("acks written: %+v, want %d counted (every client acked every alert, once) in fewer rows (a row per alert and delay bucket per flush)", st, 20*published)
		}
		r, err = bench.Storm(ctx, env, bench.FeedOptions{Clients: 30, Alerts: 2})
		if err != nil {
			t.Fatal(err)
		}
		if r.Figures["clients_missing_an_alert"] != 0 || r.Figures["failed_reconnects"] != 0 {
			t.Fatalf("storm: got %+v, want every client to get every missed alert", r)
		}
		r, err = bench.Latency(ctx, env, bench.FeedOptions{Alerts: 5})
		if err != nil {
			t.Fatal(err)
		}
		if r.Stats["write_to_receipt"].N != 5 {
			t.Fatalf("latency: got %+v, want 5 samples", r)
		}
		r, err = bench.Claims(ctx, env, bench.ClaimOptions{Volunteers: 12, Tasks: 3, Slots: 2, Duration: 700 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if r.Figures["tasks_over_their_slots"] != 0 || r.Figures["answers_created"] == nil || r.Figures["answers_error"] != nil {
			t.Fatalf("claims: got %+v, want created claims, no errors and no task over its slots", r)
		}
		r, err = bench.WithServerMetrics([]string{e.URL + "/metrics"}, func() (*bench.Result, error) {
			return bench.Mixed(ctx, env, bench.MixedOptions{Feed: bench.FeedOptions{Clients: 20}, Duration: time.Second,
				Claims: bench.ClaimOptions{Volunteers: 8, Tasks: 2, Slots: 2}, Reports: 10, AlertEvery: 300 * time.Millisecond})
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Figures["alert_deliveries_missing"] != 0 || r.Figures["report_errors"] != int64(0) ||
			r.Figures["reports_filed"] == int64(0) || r.Figures["server1_rss_mib"] == nil || r.Figures["claims_tasks_over_their_slots"] != 0 {
			t.Fatalf("mixed: got %+v, want reports, alerts to everyone, claims within slots and the server's figures", r.Figures)
		}
	})
}

// Clients whose connection the server ends during a run (here their
// tokens expire after 2 s and they do not renew: 4401) are reported as
// lost, what they miss counts as missing, and the run does not wait for
// them: without that it waited the whole --wait for every later alert.
func TestLostClientsAreReportedNotWaitedFor(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		for _, procs := range []int{1, 2} { // in this process, and in two worker processes
			env := &bench.Env{URLs: []string{e.URL}, Minter: e.App.Auth.Tokens(), Seeder: e.App.Auth, Worker: worker(t, "1")}
			start := time.Now()
			r, err := bench.Feed(context.Background(), env, bench.FeedOptions{Clients: 6, Procs: procs, Rate: 4, Duration: 4 * time.Second, Wait: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			published, _ := r.Figures["alerts_published"].(int)
			missing, _ := r.Figures["deliveries_missing"].(int)
			if r.Figures["connections_lost"] != int64(6) || missing == 0 || missing >= 6*published || r.Figures["kept_up"] != false {
				t.Fatalf("%d procs: got %+v, notes %q; want 6 clients lost, the alerts after it missing, not kept up", procs, r.Figures, r.Notes)
			}
			if took > 30*time.Second {
				t.Fatalf("%d procs: the run took %v: it waited for clients that were gone", procs, took)
			}
			t.Logf("%d procs: %v; %q", procs, took, r.Notes)
		}
	}, func(o *app.Options) { o.AccessTokenTTL = 2 * time.Second })
}

// A run where no client could connect (the wrong server, say) fails with
// the likely reason, rather than reporting figures of nothing (it reported
// 0 connects a second and a negative rate).
func TestNoClientConnectedFails(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		other := httptest.NewServer(http.NotFoundHandler())
		defer other.Close()
		env := &bench.Env{URLs: []string{other.URL}, Minter: e.App.Auth.Tokens(), Seeder: e.App.Auth}
		for _, o := range []bench.FeedOptions{{Clients: 3, Alerts: 1}, {Clients: 3, Rate: 1, Duration: time.Second}} {
			r, err := bench.Feed(context.Background(), env, o)
			if err == nil || !strings.Contains(err.Error(), "none of the 3 feed clients could connect") {
				t.Fatalf("%+v: got %v, %v; want the run refused", o, r, err)
			}
		}
	})
}
