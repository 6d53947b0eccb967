//go:build !unix

package main

import "context"

// dirLock stands in for the file lock of cli_lock_unix.go where there is no
// flock (Windows, say): it serializes the goroutines of this process only, for
// every config dir. Other jarimu processes do not wait for it; docs/cli.md
// ("The lock, by platform") says what that means for the session.
var dirLock = make(chan struct{}, 1)

// lockDir takes the lock of the config dir for this process only: two
// jarimu processes of one config dir do not exclude each other here.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	select {
	case dirLock <- struct{}{}:
		return func() { <-dirLock }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
