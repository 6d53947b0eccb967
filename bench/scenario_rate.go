package bench

import (
	"context"
	"sync"
	"time"
)

// rateWindow is the width of the windows the rate mode reports latency in.
const rateWindow = 5 * time.Second

// published is one alert of the rate mode: its id, the database time of
// its commit, and how long its POST took.
type published struct {
	id   string
	at   time.Time
	took time.Duration
	sent time.Time
}

// Window is the latency of the deliveries of the alerts published in one
// window of the rate mode.
type Window struct {
	StartS     float64 `json:"start_s"`
	Alerts     int     `json:"alerts"`
	Deliveries int     `json:"deliveries"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	PublishP99 float64 `json:"publish_p99_ms"`
	// ReceivedPerS is how many deliveries the clients received in the
	// window (by when they received them, whichever alert), per second.
	ReceivedPerS float64 `json:"received_per_s"`
}

// steady publishes alerts at o.Rate per second for o.Duration (each POST on
// its own, so a slow one does not slow the rate), then waits until every
// client had every alert, and reports deliveries per second, the latency
// from commit to each client per 5-second window and to each alert's last
// client over the run, the POST latency, whether
// the server kept up, and with e.Transactions the database transactions per
// second over the run.
func (e *Env) steady(ctx context.Context, o FeedOptions, f *fleet, officer string, r *Result) error {
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	interval := time.Duration(float64(time.Second) / o.Rate)
	var tx0 int64
	if e.Transactions != nil {
		tx0, _ = e.Transactions(ctx)
	}
	cpu0, cpuErr := e.serverCPU()
	gen0, genErr := f.cpu()
	var mu sync.Mutex
	var pubs []published
	var failed int
	var wg sync.WaitGroup
	start := time.Now()
	tick := time.NewTicker(interval)
	for n := 0; time.Since(start) < o.Duration && ctx.Err() == nil; n++ {
		wg.Go(func() {
			sent := time.Now()
			id, at, err := e.publishAlert(ctx, officer, o.Region[:2], n)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			pubs = append(pubs, published{id: id, at: at, took: time.Since(sent), sent: sent})
		})
		<-tick.C
	}
	tick.Stop()
	wg.Wait()
	publishing := time.Since(start)
	var txs int64
	if e.Transactions != nil {
		if tx1, err := e.Transactions(ctx); err == nil {
			txs = tx1 - tx0
		}
	}

	var all, took, lasts []time.Duration
	windows := make([]Window, int(o.Duration/rateWindow)+1)
	perWindow := make([][]time.Duration, len(windows))
	pubPerWindow := make([][]time.Duration, len(windows))
	missing := 0
	lastReceipt := start
	received := make([]int, len(windows))
	inRun := 0 // deliveries received while publishing (the first o.Duration)
	for _, p := range pubs {
		last, each, miss, err := awaitAlert(ctx, f, p.id, p.at, o.Wait)
		if err != nil {
			return err
		}
		missing += miss
		if len(each) > 0 {
			lasts = append(lasts, last)
		}
		w := min(int(p.sent.Sub(start)/rateWindow), len(windows)-1)
		windows[w].Alerts++
		windows[w].Deliveries += len(each)
		perWindow[w] = append(perWindow[w], each...)
		pubPerWindow[w] = append(pubPerWindow[w], p.took)
		all = append(all, each...)
		took = append(took, p.took)
		for _, d := range each {
			t := p.at.Add(d)
			if t.After(lastReceipt) {
				lastReceipt = t
			}
			if since := t.Sub(start); since >= 0 && since < o.Duration {
				inRun++
				received[min(int(since/rateWindow), len(windows)-1)]++
			}
		}
	}
	for i := range windows {
		s, ps := summarize(perWindow[i]), summarize(pubPerWindow[i])
		windows[i].StartS = (time.Duration(i) * rateWindow).Seconds()
		windows[i].P50Ms, windows[i].P99Ms, windows[i].PublishP99 = s.P50, s.P99, ps.P99
		if width := min(rateWindow, o.Duration-time.Duration(i)*rateWindow); width > 0 {
			windows[i].ReceivedPerS = round(float64(received[i]) / width.Seconds())
		}
	}
	for len(windows) > 0 && windows[len(windows)-1].Alerts == 0 {
		windows = windows[:len(windows)-1]
	}
	span := lastReceipt.Sub(start)
	waitForAcks(o)
	if cpu1, err := e.serverCPU(); cpuErr == nil && err == nil && len(all) > 0 {
		r.set("server_cpu_ms_per_1000_deliveries", round(float64((cpu1-cpu0).Milliseconds())*1000/float64(len(all))))
	}
	if gen1, err := f.cpu(); genErr == nil && err == nil && len(all) > 0 {
		r.set("load_generator_cpu_ms_per_1000_deliveries", round(float64((gen1-gen0).Milliseconds())*1000/float64(len(all))))
	}
	r.set("rate_alerts_per_second", o.Rate)
	r.set("duration_seconds", round(publishing.Seconds()))
	r.set("alerts_published", len(pubs))
	r.set("alerts_failed", failed)
	r.set("deliveries", len(all))
	r.set("deliveries_missing", missing)
	r.set("deliveries_per_second", round(float64(len(all))/span.Seconds()))
	// What the clients received while alerts were being published: the
	// rate sustained over --duration. deliveries_per_second also counts
	// the last alerts' fan-out after it, so it cannot exceed what was
	// offered (rate x clients) even when the server keeps up.
	r.set("sustained_deliveries_per_second", round(float64(inRun)/o.Duration.Seconds()))
	if e.Transactions != nil {
		r.set("db_transactions_per_second", round(float64(txs)/publishing.Seconds()))
	}
	kept := keptUp(windows, missing, failed)
	r.set("kept_up", kept)
	r.set("windows", windows)
	r.stat("alert_to_each_client", all)
	r.stat("alert_to_last_client", lasts)
	r.stat("publish_latency", took)
	if !kept {
		r.note("the server did not keep up: %d deliveries missing, %d publishes failed, or the last window's p99 more than twice the first's plus 100 ms", missing, failed)
	}
	noteLost(r, f)
	for _, w := range windows {
		r.note("t=%3.0fs alerts %d deliveries %d p50 %.1f ms p99 %.1f ms publish p99 %.1f ms received %.0f/s",
			w.StartS, w.Alerts, w.Deliveries, w.P50Ms, w.P99Ms, w.PublishP99, w.ReceivedPerS)
	}
	return nil
}

// keptUp says whether the server kept pace: nothing missing, no publish
// failed, and latency did not grow over the run (the last window's p99 at
// most twice the first's plus 100 ms).
func keptUp(windows []Window, missing, failed int) bool {
	if missing > 0 || failed > 0 || len(windows) == 0 {
		return false
	}
	first, last := windows[0].P99Ms, windows[len(windows)-1].P99Ms
	return last <= 2*first+100
}
