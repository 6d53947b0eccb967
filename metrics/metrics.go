// Package metrics exposes Jarimu's Prometheus metrics (client_golang): HTTP
// requests by route and status with latency histograms, problems by type
// (claim conflicts among them), feed connections and deliveries, healing,
// slow-client disconnects, broker reconnects, database pool statistics and
// the Go runtime. One Registry per process, no global state.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds the process's collectors.
type Registry struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	problems *prometheus.CounterVec
}

// New makes a registry with the Go runtime and process collectors.
func New() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r := &Registry{reg: reg}
	r.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "jarimu_http_request_duration_seconds",
		Help:    "HTTP requests by route pattern, method and status, with their duration.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "status"})
	r.problems = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jarimu_problems_total",
		Help: "Problem answers by type (task-full, already-claimed and claim-limit are claim conflicts).",
	}, []string{"type"})
	reg.MustRegister(r.requests, r.problems)
	return r
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records one HTTP request. route is the mux pattern ("" for
// unmatched paths, recorded as "unmatched" so labels stay bounded).
func (r *Registry) ObserveRequest(route, method string, status int, took time.Duration) {
	if r == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	r.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// Problem counts one problem answer of type typ.
func (r *Registry) Problem(typ string) {
	if r == nil {
		return
	}
	r.problems.WithLabelValues(typ).Inc()
}

// Counter registers a counter read from fn (an atomic of a component).
func (r *Registry) Counter(name, help string, fn func() float64) {
	r.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

// Gauge registers a gauge read from fn.
func (r *Registry) Gauge(name, help string, fn func() float64) {
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// DB registers the connection pool statistics of db.
func (r *Registry) DB(db *sql.DB) {
	r.reg.MustRegister(collectors.NewDBStatsCollector(db, "jarimu"))
}

// Counters registers a family of counters with one label, read from fn
// at each scrape (label value -> count), e.g. feed closes by code.
func (r *Registry) Counters(name, help, label string, fn func() map[string]float64) {
	r.reg.MustRegister(&labelled{desc: prometheus.NewDesc(name, help, []string{label}, nil), read: fn})
}

// labelled is a collector of counters whose values come from a function.
type labelled struct {
	desc *prometheus.Desc
	read func() map[string]float64
}

func (l *labelled) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *labelled) Collect(ch chan<- prometheus.Metric) {
	for v, n := range l.read() {
		ch <- prometheus.MustNewConstMetric(l.desc, prometheus.CounterValue, n, v)
	}
}
