package server_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
)

// latencies collects per-request durations from parallel workers.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// report adds requests per second and p50/p99 in milliseconds to b.
func (l *latencies) report(b *testing.B, start time.Time) {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return
	}
	b.ReportMetric(float64(len(l.d))/time.Since(start).Seconds(), "req/s")
	b.ReportMetric(float64(l.d[len(l.d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkMe measures GET /v1/me with a valid token over real HTTP
// (loopback), 8 concurrent clients per core, on each database.
func BenchmarkMe(b *testing.B) {
	for _, backend := range dbtest.Backends(b) {
		b.Run(string(backend), func(b *testing.B) {
			e := apptest.Start(b, backend)
			u := e.User(b, "volunteer", "bench", "31")
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var l latencies
			b.ReportAllocs()
			b.SetParallelism(8)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", e.URL+"/v1/me", nil)
					req.Header.Set("Authorization", "Bearer "+u.Tokens.AccessToken)
					t0 := time.Now()
					resp, err := hc.Do(req)
					if err != nil || resp.StatusCode != 200 {
						b.Errorf("me: %v %v", err, resp)
						return
					}
					resp.Body.Close()
					l.add(time.Since(t0))
				}
			})
			b.StopTimer()
			l.report(b, start)
		})
	}
}

// BenchmarkLogin measures POST /v1/auth/login with the production argon2id
// parameters (OWASP minimum: 19 MiB, t=2, p=1), concurrent clients.
func BenchmarkLogin(b *testing.B) {
	for _, backend := range dbtest.Backends(b) {
		b.Run(string(backend), func(b *testing.B) {
			params := auth.DefaultHashParams()
			e := apptest.Start(b, backend, func(o *app.Options) {
				o.HashParams = &params
				o.Login = auth.Config{LoginPerAccountIP: unlimited{}, LoginPerIP: unlimited{}, LoginPerAccount: unlimited{}, LoginPerDevice: unlimited{}}
			})
			u := e.User(b, "volunteer", "bench", "31")
			body := api.LoginRequest{Email: u.User.Email, Password: apptest.Password}
			var l latencies
			b.ReportAllocs()
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t0 := time.Now()
					r := e.Do(b, "POST", "/v1/auth/login", body)
					if r.Status != 200 {
						b.Errorf("login: %d %s", r.Status, r.Body)
						return
					}
					l.add(time.Since(t0))
				}
			})
			b.StopTimer()
			l.report(b, start)
		})
	}
}

// unlimited lets every attempt through, to measure hashing, not throttling.
type unlimited struct{}

func (unlimited) Allow(context.Context, string) (bool, time.Duration, error) { return true, 0, nil }

// BenchmarkOpenTransparency measures GET /v1/open/transparency.json (the
// three aggregates, each over a whole table) with 500 verified findings
// taken down, built for every request and with the instance's cache
// (JARIMU_OPEN_CACHE's default), 8 concurrent clients per core.
func BenchmarkOpenTransparency(b *testing.B) {
	for _, backend := range dbtest.Backends(b) {
		for _, ttl := range []time.Duration{0, 10 * time.Second} {
			b.Run(string(backend)+"/cache="+ttl.String(), func(b *testing.B) {
				e := apptest.Start(b, backend, func(o *app.Options) { o.OpenCache = ttl })
				off := e.User(b, "officer", "pusat", "")
				vol := e.User(b, "volunteer", "relawan", "31")
				for range 500 {
					rep := submitReport(b, e, tok(vol), reportBody("", "3171", ""))
					must(b, "verify", call(b, e, tok(off), "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "verified"}), http.StatusOK, "")
					must(b, "takedown", call(b, e, tok(off), "POST", reportPath(rep.ID, "/takedown"), map[string]any{"status": "requested"}), http.StatusOK, "")
				}
				hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				var l latencies
				b.SetParallelism(8)
				start := time.Now()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						t0 := time.Now()
						resp, err := hc.Get(e.URL + "/v1/open/transparency.json")
						if err != nil || resp.StatusCode != 200 {
							b.Errorf("transparency: %v %v", err, resp)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						l.add(time.Since(t0))
					}
				})
				b.StopTimer()
				l.report(b, start)
			})
		}
	}
}
