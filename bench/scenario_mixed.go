package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jarimu/jarimu/api"
)

// MixedOptions size the election-day mix.
type MixedOptions struct {
	Feed       FeedOptions   // Clients: phones on the feed
	Claims     ClaimOptions  // Volunteers racing for tasks (their own org)
	Duration   time.Duration // how long the mix runs
	Reports    int           // reports per second, filed by the phones' owners
	AlertEvery time.Duration // an alert to the phones' province this often
}

// Mixed plays an election-day mix for a fixed time: phones on the feed,
// volunteers racing for tasks, findings reported and alerts broadcast, all at
// once; it reports each part's rate and latency and the alerts' fan-out.
func Mixed(ctx context.Context, e *Env, o MixedOptions) (_ *Result, err error) {
	o.Feed.defaults()
	o.Claims.Duration = o.Duration
	r := newResult("mixed")
	f, officer, err := e.crowd(ctx, o.Feed)
	if err != nil {
		return nil, err
	}
	defer closeFleet(f, &err)
	_, failed, err := f.connect(ctx, o.Feed.Parallel, newProgress(e.Progress, "connecting", len(f.clients)))
	if err != nil {
		return nil, err
	}
	clients := f.clients
	r.set("feed_clients", len(clients))
	r.set("failed_connections", failed)
	var wg sync.WaitGroup
	var claims *Result
	var claimErr error
	wg.Go(func() { claims, claimErr = Claims(ctx, e, o.Claims) })
	var reportLat []time.Duration
	var reports, reportErrs atomic.Int64
	var mu sync.Mutex
	stop := time.Now().Add(o.Duration)
	wg.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(max(o.Reports, 1)))
		defer tick.Stop()
		for n := 0; time.Now().Before(stop) && ctx.Err() == nil; n++ {
			<-tick.C
			c := clients[n%len(clients)]
			req := api.CreateReportRequest{URL: fmt.Sprintf("https://x.com/akun/status/%d", n%50), Platform: "x",
				Category: "disinformation", Summary: "Uji beban: temuan hoaks", ObservedAt: time.Now()}
			t0 := time.Now()
			st, _, err := e.call(ctx, "POST", "/v1/reports", c.token, req, nil, n)
			mu.Lock()
			reportLat = append(reportLat, time.Since(t0))
			mu.Unlock()
			if err != nil || st != 201 {
				reportErrs.Add(1)
			} else {
				reports.Add(1)
			}
		}
	})
	var lasts, all []time.Duration
	missing := 0
	for n := 0; time.Now().Before(stop) && ctx.Err() == nil; n++ {
		id, at, err := e.publishAlert(ctx, officer, o.Feed.Region[:2], n)
		if err != nil {
			return nil, err
		}
		last, each, m, err := awaitAlert(ctx, f, id, at, o.Feed.Wait)
		if err != nil {
			return nil, err
		}
		lasts, all, missing = append(lasts, last), append(all, each...), missing+m
		time.Sleep(time.Until(at.Add(o.AlertEvery)))
	}
	wg.Wait()
	if claimErr != nil {
		return nil, claimErr
	}
	for _, k := range claims.order {
		r.set("claims_"+k, claims.Figures[k])
	}
	r.Stats["claim_request"] = claims.Stats["claim_request"]
	r.set("reports_filed", reports.Load())
	r.set("report_errors", reportErrs.Load())
	r.set("alerts", len(lasts))
	r.set("alert_deliveries_missing", missing)
	r.stat("report_request", reportLat)
	r.stat("alert_to_last_client", lasts)
	r.stat("alert_to_each_client", all)
	noteLost(r, f)
	return r, nil
}
