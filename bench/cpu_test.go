package bench

import (
	"os"
	"testing"
	"time"
)

// utime and stime are fields 14 and 15 of /proc/PID/stat, counted after
// the command name, which may hold spaces and parentheses.
func TestParseCPUTime(t *testing.T) {
	line := "4242 (jarimu (serve) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 250 125 0 0 20 0 12 0 100 0 0"
	got, err := parseCPUTime(line)
	if err != nil || got != 3750*time.Millisecond {
		t.Errorf("got %v, %v; want 3.75 s (250 + 125 ticks)", got, err)
	}
	for _, bad := range []string{"", "4242 jarimu S 1", "4242 (jarimu) S 1 2 3", "4242 (j) S 1 4242 4242 0 -1 4194560 5000 0 0 0 x 125 0"} {
		if _, err := parseCPUTime(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The process's own CPU time grows as it works.
func TestCPUTimeOfSelf(t *testing.T) {
	before, err := cpuTime(os.Getpid())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no /proc in CI:", err)
		}
		t.Skip("no /proc here:", err)
	}
	// Spin until 100 ms more are counted: on a machine busy with other
	// tests this process may get a small part of the wall time it spins.
	after := before
	for end := time.Now().Add(20 * time.Second); err == nil && after-before < 100*time.Millisecond && time.Now().Before(end); {
		for spin := time.Now().Add(50 * time.Millisecond); time.Now().Before(spin); {
		}
		after, err = cpuTime(os.Getpid())
	}
	if err != nil || after-before < 100*time.Millisecond {
		t.Errorf("CPU time %v then %v (%v): want at least 100 ms more after spinning 20 s", before, after, err)
	}
}
