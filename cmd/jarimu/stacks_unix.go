//go:build unix

package main

import (
	"os"
	"slices"
	"strings"
	"syscall"
)

// smallStacks restarts the process (same pid, same arguments) with
// GODEBUG=adaptivestackstart=0 unless GODEBUG already decides it: new
// goroutines then start at the minimum stack (2 KiB) instead of at the
// average size of those seen so far. The average is pulled up by request
// handlers and database work, and an idle feed connection's reader, which
// needs less than 2 KiB, would otherwise keep a 4 KiB stack for its whole
// life (a stack shrinks only while three quarters of it are unused): at
// 10,000 connections that is 20 MiB. The runtime reads the setting only at
// start, and `//go:debug` does not accept it, hence the restart. It fails
// quietly (serving on with the default) if the executable cannot be found.
func smallStacks() {
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "adaptivestackstart=") {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	if godebug != "" {
		godebug += ","
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
	env = append(env, "GODEBUG="+godebug+"adaptivestackstart=0")
	syscall.Exec(exe, os.Args, env) // returns only when it failed
}
