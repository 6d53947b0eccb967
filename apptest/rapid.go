package apptest

import (
	"flag"
	"runtime/debug"
	"strconv"
)

// RaceEnabled reports whether the test binary runs with the race detector.
func RaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// RapidFlags sets rapid's number of checks to n and of steps to 50, and
// keeps it from writing fail files into the package (the seed it prints
// reproduces a failure), unless those flags were given; the returned func
// restores them.
func RapidFlags(n int) func() {
	var undo []func()
	for name, value := range map[string]string{"rapid.checks": strconv.Itoa(n), "rapid.steps": "50", "rapid.nofailfile": "true"} {
		given := false
		flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
		f := flag.Lookup(name)
		if given || f == nil {
			continue
		}
		old := f.Value.String()
		f.Value.Set(value)
		undo = append(undo, func() { f.Value.Set(old) })
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}
