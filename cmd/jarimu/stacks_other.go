//go:build !unix

package main

// smallStacks is a no-op where a process cannot replace itself: set
// GODEBUG=adaptivestackstart=0 in the environment instead (see stacks_unix.go).
func smallStacks() {}
