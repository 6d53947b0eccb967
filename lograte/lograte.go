// Package lograte keeps a warning that may repeat often (a dependency down,
// a foreign site knocking) to one log line per interval, counting the ones
// left out, so that a flood of the same cause cannot flood the log.
package lograte

import (
	"sync/atomic"
	"time"
)

// Limiter lets one line through per Every; the zero Every lets every line
// through. Safe for concurrent use; the zero value is ready.
type Limiter struct {
	Every time.Duration

	last    atomic.Int64 // when a line was last let through (unix ns)
	skipped atomic.Int64 // lines held back since
}

// Allow reports whether a line may be logged now and, when it may, how many
// were held back since the previous one (to log with it).
func (l *Limiter) Allow() (ok bool, skipped int64) {
	return l.allowAt(time.Now())
}

func (l *Limiter) allowAt(now time.Time) (bool, int64) {
	t := now.UnixNano()
	last := l.last.Load()
	if last != 0 && t-last < int64(l.Every) || !l.last.CompareAndSwap(last, t) {
		l.skipped.Add(1)
		return false, 0
	}
	return true, l.skipped.Swap(0)
}
