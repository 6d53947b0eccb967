package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// `jarimu serve` replaces itself (same pid) with GODEBUG naming
// adaptivestackstart=0, keeping what GODEBUG held; a GODEBUG that already
// decides adaptivestackstart is left alone.
func TestServeRestartsWithSmallStacks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/<pid>/environ (Linux); the restart itself is for every unix")
	}
	t.Setenv("GODEBUG", "") // restored after the test
	os.Unsetenv("GODEBUG")
	for _, c := range []struct{ given, want string }{
		{"", "GODEBUG=adaptivestackstart=0"},
		{"madvdontneed=1", "GODEBUG=madvdontneed=1,adaptivestackstart=0"},
		{"adaptivestackstart=1", "GODEBUG=adaptivestackstart=1"},
	} {
		t.Run(c.given, func(t *testing.T) {
			env := map[string]string{"JARIMU_DATA_DIR": t.TempDir()}
			if c.given != "" {
				env["GODEBUG"] = c.given
			}
			p := startServe(t, env, freeAddr(t))
			b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/environ")
			if err != nil {
				t.Fatal(err)
			}
			var godebug []string
			for _, kv := range strings.Split(string(b), "\x00") {
				if strings.HasPrefix(kv, "GODEBUG=") {
					godebug = append(godebug, kv)
				}
			}
			if len(godebug) != 1 || godebug[0] != c.want {
				t.Fatalf("serve runs with %q, want [%s]", godebug, c.want)
			}
		})
	}
}
