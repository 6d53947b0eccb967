package plot_test

import (
	"bytes"
	"encoding/xml"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/bench/plot"
)

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		max  float64
		want []float64
	}{
		{38000, []float64{0, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000}},
		{10000, []float64{0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000}},
		{0.37, []float64{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4}},
		{1728, []float64{0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800}},
		{64, []float64{0, 10, 20, 30, 40, 50, 60, 70}},
		{0, []float64{0, 1}},
	} {
		if got := plot.Ticks(tc.max); !slices.Equal(got, tc.want) {
			t.Errorf("Ticks(%v) = %v, want %v", tc.max, got, tc.want)
		}
	}
	// Whatever the maximum, the last tick covers it, and there are 2 to 11.
	for _, m := range []float64{0.001, 0.9, 1, 1.01, 7, 99, 101, 999, 12345, 3.8e4, 1e9} {
		ts := plot.Ticks(m)
		if ts[len(ts)-1] < m || len(ts) < 2 || len(ts) > 11 {
			t.Errorf("Ticks(%v) = %v", m, ts)
		}
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{20000: "20000", 1234: "1234", 150: "150", 56.74: "56.7",
		0.25: "0.25", 0.1: "0.1", 0: "0", 5: "5", 999.6: "1000"} {
		if got := plot.Format(v); got != want {
			t.Errorf("Format(%v) = %q, want %q", v, got, want)
		}
	}
}

// svgDoc is the part of the SVG the tests read.
type svgDoc struct {
	Title     string `xml:"title"`
	Desc      string `xml:"desc"`
	Polylines []struct {
		Name   string `xml:"data-name,attr"`
		Points string `xml:"points,attr"`
	} `xml:"polyline"`
	Circles []struct {
		CX float64 `xml:"cx,attr"`
		CY float64 `xml:"cy,attr"`
	} `xml:"circle"`
}

// The chart is well-formed SVG; each series is a line through its points
// in x order, a larger y drawn higher, both scaled from zero.
func TestWriteSVG(t *testing.T) {
	c := plot.Chart{Title: "Fan-out <to all>", XLabel: "clients", YLabel: "ms", Series: []plot.Series{
		{Name: "p99", Points: []plot.Point{{10000, 150}, {1000, 20}, {5000, 80}}},
		{Name: "p50 & co", Points: []plot.Point{{1000, 10}, {10000, 75}}},
	}}
	var b bytes.Buffer
	if err := c.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	var d svgDoc
	if err := xml.Unmarshal(b.Bytes(), &d); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, b.String())
	}
	if d.Title != "Fan-out <to all>" || !strings.Contains(d.Desc, "p99 (1000: 20, 5000: 80, 10000: 150)") {
		t.Errorf("title %q, desc %q", d.Title, d.Desc)
	}
	// The x axis reaches 10,000 in steps of 1,000: labelled in thousands.
	if !strings.Contains(b.String(), ">10k</text>") || !strings.Contains(b.String(), ">5k</text>") || strings.Contains(b.String(), ">5000</text>") || strings.Contains(b.String(), ">0k</text>") {
		t.Errorf("x ticks not in thousands:\n%s", b.String())
	}
	if len(d.Polylines) != 2 || d.Polylines[1].Name != "p50 & co" || len(d.Circles) != 5 {
		t.Fatalf("%d lines, %d points: %+v", len(d.Polylines), len(d.Circles), d.Polylines)
	}
	var xs, ys []float64
	for _, pt := range strings.Fields(d.Polylines[0].Points) {
		x, y, _ := strings.Cut(pt, ",")
		xf, _ := strconv.ParseFloat(x, 64)
		yf, _ := strconv.ParseFloat(y, 64)
		xs, ys = append(xs, xf), append(ys, yf)
	}
	if len(xs) != 3 || !slices.IsSorted(xs) || !(ys[0] > ys[1] && ys[1] > ys[2]) {
		t.Errorf("p99 line %v / %v: want x rising and y drawn higher as it grows", xs, ys)
	}
	// Linear from zero: where x = 0 falls (from the points at 1000 and
	// 10000), x 5000 is half as far from it as x 10000.
	axisX := xs[0] - (xs[2]-xs[0])*1000/9000
	if math.Abs((xs[1]-axisX)/(xs[2]-axisX)-0.5) > 0.01 {
		t.Errorf("x 5000 at %v, 10000 at %v, axis at %v: not linear from zero", xs[1], xs[2], axisX)
	}
}

func TestWriteSVGRefuses(t *testing.T) {
	for name, c := range map[string]plot.Chart{
		"no points": {Series: []plot.Series{{Name: "a"}}},
		"negative":  {Series: []plot.Series{{Name: "a", Points: []plot.Point{{1, -1}}}}},
		"NaN":       {Series: []plot.Series{{Name: "a", Points: []plot.Point{{math.NaN(), 1}}}}},
		"infinite":  {Series: []plot.Series{{Name: "a", Points: []plot.Point{{1, math.Inf(1)}}}}},
	} {
		if err := c.WriteSVG(&bytes.Buffer{}); err == nil {
			t.Errorf("%s: drawn", name)
		}
	}
}
