// Package bench is Jarimu's load generator (`jarimu bench`): it drives a
// running Jarimu (embedded or scaled, one or several URLs) through the Go
// client and raw feed connections, and measures what volunteers feel: how
// fast an alert reaches every phone, how fast a crowd reconnects, how claims
// hold under contention. Every loop is bounded in count and time. Accounts
// are seeded in bulk and their access tokens minted from the key file, so
// ten thousand volunteers cost one password hash.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Stats summarises durations.
type Stats struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// summarize computes percentiles in milliseconds.
func summarize(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	at := func(q float64) float64 { return ms(s[min(len(s)-1, int(q*float64(len(s))))]) }
	return Stats{N: len(s), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(s[len(s)-1])}
}

// Result is what a scenario measured: named figures and distributions.
type Result struct {
	Scenario string            `json:"scenario"`
	Started  time.Time         `json:"started"`
	Figures  map[string]any    `json:"figures"`
	Stats    map[string]Stats  `json:"stats"`
	Notes    []string          `json:"notes,omitempty"`
	mu       sync.Mutex        `json:"-"`
	order    []string          `json:"-"`
	labels   map[string]string `json:"-"`
}

func newResult(scenario string) *Result {
	return &Result{Scenario: scenario, Started: time.Now().UTC(), Figures: map[string]any{}, Stats: map[string]Stats{}, labels: map[string]string{}}
}

// set records a figure.
func (r *Result) set(key string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.Figures[key]; !ok {
		r.order = append(r.order, key)
	}
	r.Figures[key] = v
}

// stat records a distribution.
func (r *Result) stat(key string, ds []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Stats[key] = summarize(ds)
}

func (r *Result) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// WriteTable prints the result as an aligned table.
func (r *Result) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", r.Scenario)
	for _, k := range r.order {
		fmt.Fprintf(tw, "%s\t%v\n", k, r.Figures[k])
	}
	keys := make([]string, 0, len(r.Stats))
	for k := range r.Stats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		fmt.Fprintf(tw, "\n%s\tn\tp50 ms\tp90 ms\tp99 ms\tmax ms\n", "distribution")
	}
	for _, k := range keys {
		s := r.Stats[k]
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\n", k, s.N, s.P50, s.P90, s.P99, s.Max)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "note\t%s\n", n)
	}
	tw.Flush()
}

// WriteJSON writes the result to path.
func (r *Result) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// progress draws a progress bar on a terminal (and nothing otherwise).
type progress struct {
	w     io.Writer
	on    bool
	label string
	total int
	mu    sync.Mutex
	last  time.Time
}

func newProgress(w io.Writer, label string, total int) *progress {
	on := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progress{w: w, on: on, label: label, total: total}
}

// show redraws at most ten times a second.
func (p *progress) show(done int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && done < p.total {
		return
	}
	p.last = time.Now()
	width := 30
	filled := width * done / max(p.total, 1)
	fmt.Fprintf(p.w, "\r%-14s [%s%s] %d/%d", p.label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, p.total)
	if done >= p.total {
		fmt.Fprintln(p.w)
	}
}

// rss reads a process's resident set size in bytes from /proc (Linux).
// cpuTime is the CPU time (user and system) process pid has used, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPUTime(string(b))
}

// parseCPUTime reads utime and stime from a /proc/PID/stat line; the
// command name (field 2) is in parentheses and may hold spaces.
func parseCPUTime(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat line without a command: %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // from field 3 (state) on
	if len(f) < 13 {
		return 0, fmt.Errorf("stat line too short: %q", stat)
	}
	var ticks int64
	for _, s := range f[11:13] { // fields 14 (utime) and 15 (stime)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat line: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
