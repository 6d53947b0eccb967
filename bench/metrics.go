package bench

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serverSample is what a server's /metrics says about its process.
type serverSample struct {
	cpu, rss float64
	at       time.Time
}

// scrape reads process CPU seconds and resident memory from a Prometheus text endpoint (GET /metrics).
func scrape(url string) (serverSample, error) {
	resp, err := http.Get(url)
	if err != nil {
		return serverSample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return serverSample{}, fmt.Errorf("metrics: %s answered %d", url, resp.StatusCode)
	}
	s := serverSample{at: time.Now()}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			s.cpu = v
		case "process_resident_memory_bytes":
			s.rss = v
		}
	}
	return s, sc.Err()
}

// WithServerMetrics runs a scenario between two scrapes of each metrics URL
// and adds the servers' CPU use and memory to its result.
func WithServerMetrics(urls []string, run func() (*Result, error)) (*Result, error) {
	before := make([]serverSample, len(urls))
	for i, u := range urls {
		s, err := scrape(u)
		if err != nil {
			return nil, err
		}
		before[i] = s
	}
	r, err := run()
	if err != nil || r == nil {
		return r, err
	}
	for i, u := range urls {
		after, err := scrape(u)
		if err != nil {
			return nil, err
		}
		secs := after.at.Sub(before[i].at).Seconds()
		r.set(fmt.Sprintf("server%d_cpu_cores_busy", i+1), round((after.cpu-before[i].cpu)/secs))
		r.set(fmt.Sprintf("server%d_rss_mib", i+1), round(after.rss/(1<<20)))
	}
	return r, nil
}
