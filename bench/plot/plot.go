// Package plot draws the benchmarks' curves as SVG line charts: a few
// series of (x, y) points, linear axes with round ticks, a legend, and a
// title and description for screen readers. It is what docs/benchmarks.md
// embeds, drawn from `jarimu bench --json` output by cmd/benchplot; it
// needs nothing outside the standard library.
package plot

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// Point is one measurement.
type Point struct{ X, Y float64 }

// Series is one line: its points in any order (drawn sorted by X).
type Series struct {
	Name   string
	Points []Point
}

// Chart is what WriteSVG draws.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	Width, Height         int // 640 x 400 when zero
}

// palette holds colours that stay apart for the common colour
// deficiencies (Okabe-Ito).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"}

const (
	marginLeft, marginRight, marginTop, marginBottom = 72, 24, 40, 56
)

// WriteSVG draws c. Axes start at zero and end at the first round value at
// or past the largest point, so slopes read true (a line twice as high is
// twice the value).
func (c Chart) WriteSVG(w io.Writer) error {
	width, height := c.Width, c.Height
	if width == 0 {
		width, height = 640, 400
	}
	var maxX, maxY float64
	n := 0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) || p.X < 0 || p.Y < 0 {
				return fmt.Errorf("series %q: point (%v, %v): only finite values at or above zero are drawn", s.Name, p.X, p.Y)
			}
			maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("nothing to draw: no points")
	}
	xt, yt := Ticks(maxX), Ticks(maxY)
	x0, x1 := float64(marginLeft), float64(width-marginRight)
	y0, y1 := float64(height-marginBottom), float64(marginTop)
	sx := func(v float64) float64 { return x0 + (x1-x0)*v/xt[len(xt)-1] }
	sy := func(v float64) float64 { return y0 - (y0-y1)*v/yt[len(yt)-1] }

	b := bufio.NewWriter(w)
	esc := html.EscapeString
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(b, "<title>%s</title>\n<desc>%s</desc>\n", esc(c.Title), esc(c.describe()))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", width, height)
	fmt.Fprintf(b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", marginLeft, esc(c.Title))
	for _, v := range yt {
		y := sy(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x0, y, x1, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-6, y+4, tick(v, yt))
	}
	for _, v := range xt {
		x := sx(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`+"\n", x, y0, x, y0+5)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, y0+18, tick(v, xt))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", x0, y0, x1, y0)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", x0, y0, x0, y1)
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", (x0+x1)/2, height-12, esc(c.XLabel))
	fmt.Fprintf(b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (y0+y1)/2, esc(c.YLabel))
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		pts := sorted(s.Points)
		var coords []string
		for _, p := range pts {
			coords = append(coords, fmt.Sprintf("%.1f,%.1f", sx(p.X), sy(p.Y)))
		}
		fmt.Fprintf(b, `<polyline class="series" data-name="%s" fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", esc(s.Name), col, strings.Join(coords, " "))
		for _, p := range pts {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s, %s</title></circle>`+"\n",
				sx(p.X), sy(p.Y), col, esc(s.Name), Format(p.X), Format(p.Y))
		}
		ly := marginTop + 4 + 16*i
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="12" height="3" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n", x0+12, ly, col, x0+30, ly+5, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.Flush()
}

// describe says in words what the chart shows, for screen readers.
func (c Chart) describe() string {
	var parts []string
	for _, s := range c.Series {
		var ps []string
		for _, p := range sorted(s.Points) {
			ps = append(ps, Format(p.X)+": "+Format(p.Y))
		}
		parts = append(parts, s.Name+" ("+strings.Join(ps, ", ")+")")
	}
	return c.YLabel + " by " + c.XLabel + ": " + strings.Join(parts, "; ")
}

func sorted(ps []Point) []Point {
	out := append([]Point(nil), ps...)
	for i := 1; i < len(out); i++ { // insertion sort: a handful of points
		for j := i; j > 0 && out[j].X < out[j-1].X; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Ticks are the axis values from 0 to the first round value at or past
// max: steps of 1, 2 or 5 times a power of ten, four to ten of them.
func Ticks(max float64) []float64 {
	if max <= 0 {
		return []float64{0, 1}
	}
	mag := math.Pow(10, math.Floor(math.Log10(max)))
	var step float64
	for _, m := range []float64{0.1, 0.2, 0.5, 1, 2, 5} {
		step = m * mag
		if math.Ceil(max/step-1e-9) <= 10 {
			break
		}
	}
	n := int(math.Ceil(max/step - 1e-9))
	out := make([]float64, n+1)
	for i := range out {
		out[i] = round(float64(i) * step)
	}
	return out
}

// round drops the floating-point noise of step multiples (0.30000000000000004).
func round(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return f
}

// tick labels v on an axis with ticks: in thousands ("20k") when the axis
// reaches 10,000 and its steps are whole thousands, so one axis reads one
// way.
func tick(v float64, ticks []float64) string {
	if v != 0 && ticks[len(ticks)-1] >= 10000 && math.Mod(ticks[1], 1000) == 0 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return Format(v)
}

// Format writes a value for a label with no more decimals than its size
// needs (1234, 56.7, 0.25).
func Format(v float64) string {
	var out string
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		out = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		out = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if strings.Contains(out, ".") {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	return out
}
