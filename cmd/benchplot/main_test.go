package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRun(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// One point per file, x and y read by path; -per divides by another path.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	a := writeRun(t, dir, "a.json", `{"figures":{"clients":1000,"cpu":0.2,"dps":10000},"stats":{"fan":{"p99_ms":20}}}`)
	b := writeRun(t, dir, "b.json", `{"figures":{"clients":5000,"cpu":0.5,"dps":50000},"stats":{"fan":{"p99_ms":70}}}`)
	out := filepath.Join(dir, "c.svg")
	var stderr bytes.Buffer
	err := run([]string{"-title", "T", "-y", "p99=stats.fan.p99_ms", "-o", out, b, a}, &bytes.Buffer{}, &stderr)
	if err != nil {
		t.Fatalf("run: %v (%s)", err, stderr.String())
	}
	svg, _ := os.ReadFile(out)
	var d struct {
		Desc string `xml:"desc"`
	}
	if err := xml.Unmarshal(svg, &d); err != nil || !strings.Contains(d.Desc, "p99 (1000: 20, 5000: 70)") {
		t.Errorf("desc %q (%v)", d.Desc, err)
	}
	var so bytes.Buffer
	if err := run([]string{"-y", "cpu=figures.cpu", "-per", "figures.dps", "-per-scale", "1000", a, b}, &so, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(so.String(), "cpu (1000: 0.02, 5000: 0.01)") {
		t.Errorf("per thousand deliveries: %s", so.String())
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	a := writeRun(t, dir, "a.json", `{"figures":{"clients":1000,"name":"x","zero":0}}`)
	bad := writeRun(t, dir, "bad.json", `{"figures":`)
	for name, args := range map[string][]string{
		"no series":      {a},
		"no files":       {"-y", "a=figures.clients"},
		"missing path":   {"-y", "a=figures.nope", a},
		"not a number":   {"-y", "a=figures.name", a},
		"through a leaf": {"-y", "a=figures.clients.x", a},
		"bad series":     {"-y", "=figures.clients", a},
		"bad JSON":       {"-y", "a=figures.clients", bad},
		"divide by zero": {"-y", "a=figures.clients", "-per", "figures.zero", a},
	} {
		if err := run(args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := run([]string{"-h"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp (exit 0)", err)
	}
}
