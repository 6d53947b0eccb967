// Command benchplot draws a curve of `jarimu bench --json` results as an
// SVG chart, one point per result file: the x value and each y value are
// read from every file by a dotted path (figures.clients,
// stats.alert_to_each_client.p99_ms).
//
//	benchplot -title "Fan-out" -x figures.clients -xlabel clients \
//	  -y "p99=stats.alert_to_each_client.p99_ms" -ylabel ms -o fanout.svg runs/*.json
//
// -per divides every y value by another path of the same file, and
// -per-scale multiplies the result (server CPU per 1,000 deliveries:
// -per figures.deliveries_per_second -per-scale 1000).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jarimu/jarimu/bench/plot"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(2)
	}
}

// ys collects repeated -y flags.
type ys []string

func (y *ys) String() string     { return strings.Join(*y, ",") }
func (y *ys) Set(v string) error { *y = append(*y, v); return nil }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchplot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	title := fs.String("title", "", "the chart's title")
	x := fs.String("x", "figures.clients", "dotted `path` of the x value in each file")
	xlabel := fs.String("xlabel", "", "the x axis label (default: the x path)")
	ylabel := fs.String("ylabel", "", "the y axis label")
	per := fs.String("per", "", "divide every y value by the value at this dotted `path` of the same file")
	perScale := fs.Float64("per-scale", 1, "multiply every y value by this after -per (1000: per thousand)")
	out := fs.String("o", "", "write the SVG to this `file` (default: standard output)")
	var series ys
	fs.Var(&series, "y", "a series as `name=path` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(series) == 0 || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("need at least one -y name=path and one JSON file")
	}
	docs := make([]map[string]any, fs.NArg())
	for i, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &docs[i]); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	c := plot.Chart{Title: *title, XLabel: *xlabel, YLabel: *ylabel}
	if c.XLabel == "" {
		c.XLabel = *x
	}
	for _, s := range series {
		name, path, ok := strings.Cut(s, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("-y %q: want name=path", s)
		}
		ser := plot.Series{Name: name}
		for i, d := range docs {
			xv, err := lookup(d, *x)
			if err != nil {
				return fmt.Errorf("%s: %w", fs.Arg(i), err)
			}
			yv, err := lookup(d, path)
			if err != nil {
				return fmt.Errorf("%s: %w", fs.Arg(i), err)
			}
			if *per != "" {
				div, err := lookup(d, *per)
				if err != nil {
					return fmt.Errorf("%s: %w", fs.Arg(i), err)
				}
				if div == 0 {
					return fmt.Errorf("%s: %s is 0", fs.Arg(i), *per)
				}
				yv /= div
			}
			ser.Points = append(ser.Points, plot.Point{X: xv, Y: yv * *perScale})
		}
		c.Series = append(c.Series, ser)
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return c.WriteSVG(w)
}

// lookup reads the number at a dotted path of a decoded JSON document.
func lookup(doc map[string]any, path string) (float64, error) {
	var v any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("%s: %q is not an object", path, k)
		}
		if v, ok = m[k]; !ok {
			return 0, fmt.Errorf("%s: no %q", path, k)
		}
	}
	f, ok := v.(float64)
	if !ok {
		return 0, fmt.Errorf("%s: not a number", path)
	}
	return f, nil
}
