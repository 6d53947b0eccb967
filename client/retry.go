package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"
)

const (
	// maxRetries is how many times a call is repeated after its first attempt.
	maxRetries = 2
	// maxRetryAfter is the longest Retry-After the Client waits out by itself;
	// a longer one is returned to the caller as *Error.RetryAfter.
	maxRetryAfter = 10 * time.Second
)

// backoffs are the waits before each retry when the server named none.
var backoffs = [maxRetries]time.Duration{200 * time.Millisecond, 800 * time.Millisecond}

// retryDelay reports whether r should be sent again after its attempt n
// (from 0) failed with err, and after how long. Only calls safe to repeat are
// retried: a network error may hide an answer that was never read.
func retryDelay(ctx context.Context, r *request, err error, n int) (time.Duration, bool) {
	if err == nil || !r.retry || n >= maxRetries || ctx.Err() != nil {
		return 0, false
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Status != http.StatusServiceUnavailable && e.Status != http.StatusTooManyRequests || e.RetryAfter > maxRetryAfter {
			return 0, false
		}
		if e.RetryAfter > 0 {
			return e.RetryAfter, true
		}
		return jitter(backoffs[n]), true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return jitter(backoffs[n]), true
	}
	return 0, false
}

// jitter spreads d over [d/2, 3d/2) so that clients cut off together do not
// come back together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
