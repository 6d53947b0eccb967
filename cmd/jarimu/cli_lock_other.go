//go:build !unix

package main

import "context"

// dirLock stands in for the file lock of cli_lock_unix.go where there is no
// flock: it serializes the goroutines of this process only.
var dirLock = make(chan struct{}, 1)

// lockDir takes the lock of the config dir for this process only.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	select {
	case dirLock <- struct{}{}:
		return func() { <-dirLock }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
