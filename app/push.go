package app

import (
	"context"
	"sync"
	"time"

	"github.com/jarimu/jarimu/push"
)

// registerPushMetrics exposes the Web Push outbox: this instance's
// counters, and the backlog every instance shares (read from the database
// at most once a second, whatever the number of gauges scraped).
func (a *App) registerPushMetrics() {
	stat := func(f func(push.Stats) int64) func() float64 {
		return func() float64 { return float64(f(a.Push.Stats())) }
	}
	a.Metrics.Counter("jarimu_push_jobs_queued_total", "Push jobs queued by this instance (one per alert, retraction, assignment or test).", stat(func(s push.Stats) int64 { return s.Queued }))
	a.Metrics.Counter("jarimu_push_sent_total", "Pushes a push service accepted, sent by this instance.", stat(func(s push.Stats) int64 { return s.Sent }))
	a.Metrics.Counter("jarimu_push_gone_total", "Subscriptions deleted because their push service answered 404 or 410.", stat(func(s push.Stats) int64 { return s.Gone }))
	a.Metrics.Counter("jarimu_push_dropped_total", "Pushes dropped because their TTL passed before a push service accepted them.", stat(func(s push.Stats) int64 { return s.Dropped }))
	a.Metrics.Counters("jarimu_push_failed_total", "Push attempts not accepted, by HTTP status of the push service (0: no answer; 429 and 5xx are retried).", "status", func() map[string]float64 {
		out := map[string]float64{}
		for k, n := range a.Push.Stats().Failed {
			out[k] = float64(n)
		}
		return out
	})
	var mu sync.Mutex
	var last time.Time
	var b push.Backlog
	backlog := func(f func(push.Backlog) float64) func() float64 {
		return func() float64 {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(last) > time.Second {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if nb, err := a.Push.Backlog(ctx); err == nil {
					b, last = nb, time.Now()
				}
				cancel()
			}
			return f(b)
		}
	}
	a.Metrics.Gauge("jarimu_push_queued_devices", "Devices in push batches not yet finished (all instances).", backlog(func(b push.Backlog) float64 { return float64(b.Devices) }))
	a.Metrics.Gauge("jarimu_push_queued_jobs", "Push jobs not yet cut into batches (all instances).", backlog(func(b push.Backlog) float64 { return float64(b.Jobs) }))
	a.Metrics.Gauge("jarimu_push_oldest_queued_seconds", "Age of the oldest push job with work left (all instances).", backlog(func(b push.Backlog) float64 { return b.Oldest.Seconds() }))
}
