package push

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"golang.org/x/time/rate"
)

// recordSize is the size of every encrypted push body: payloads are padded
// to it (so their length tells nothing) and must fit in it, with the
// content-coding header, the padding delimiter and the tag.
const recordSize = 1024

// maxWait is the longest a sender waits for a paused host before it
// leaves the device for a later round.
const maxWait = 2 * time.Second

// outcome is the result of one push to one device.
type outcome struct {
	state    string
	status   int // the push service's HTTP status; 0 when none came
	attempts int
	next     time.Time // for retry: when it is due again
}

// deliver sends j to one device and classifies the answer: 2xx sent;
// 404/410 gone; 429 and 5xx (and no answer) retried after Retry-After or
// an exponential backoff until the job's TTL, pausing the host on 429;
// other answers failed.
// skew is the database's clock less this instance's: a retry's time is the
// database's, as the job's expiry is.
func (s *Service) deliver(ctx context.Context, j *job, t target, skew time.Duration) outcome {
	o := outcome{attempts: t.Attempts + 1}
	u, err := url.Parse(t.Endpoint)
	if err != nil || !s.hostAllowed(t.Endpoint) {
		o.state = stateFailed
		s.stats.failed(0)
		return o
	}
	if wait, ok := s.gate.wait(ctx, u.Host); !ok {
		o.state, o.next, o.attempts = stateRetry, wait.Add(skew), t.Attempts
		return s.capRetry(j, o)
	}
	payload, err := s.payloadFor(j, t.ID, t.Lang)
	if err != nil {
		o.state = stateFailed
		s.stats.failed(0)
		return o
	}
	ttl := int(time.Until(j.ExpiresAt.Add(-skew)) / time.Second)
	if ttl <= 0 {
		o.state = stateDropped
		s.stats.dropped.Add(1)
		return o
	}
	resp, err := webpush.SendNotificationWithContext(ctx, payload,
		&webpush.Subscription{Endpoint: t.Endpoint, Keys: webpush.Keys{P256dh: t.P256dh, Auth: t.Auth}},
		&webpush.Options{HTTPClient: s.cfg.Client, RecordSize: recordSize, Subscriber: s.cfg.Subject,
			Topic: j.Topic, TTL: ttl, Urgency: webpush.Urgency(j.Urgency),
			VAPIDPublicKey: s.vapid.PublicKey(), VAPIDPrivateKey: s.vapid.privateKey()})
	if err != nil {
		if ctx.Err() != nil {
			o.state = stateRetry
			return o
		}
		if errors.Is(err, webpush.ErrMaxPadExceeded) { // a payload fit lets through: no retry makes it fit
			o.state = stateFailed
			s.stats.failed(0)
			return o
		}
		o.state, o.next = stateRetry, time.Now().Add(skew+backoff(o.attempts))
		s.stats.failed(0)
		return s.capRetry(j, o)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	o.status = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		o.state = stateSent
		s.stats.sent.Add(1)
		return o
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		o.state = stateGone
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		wait := backoff(o.attempts)
		if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			wait = ra
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			s.gate.pause(u.Host, time.Now().Add(wait))
		}
		o.state, o.next = stateRetry, time.Now().Add(skew+wait)
		s.stats.failed(resp.StatusCode)
		return s.capRetry(j, o)
	default:
		o.state = stateFailed
	}
	s.stats.failed(resp.StatusCode)
	return o
}

// capRetry turns a retry that would come after the job's TTL into a final
// outcome (dropped). Nothing else ends a retried push: a push service
// throttled or down for an hour on election day still gets the alerts
// queued meanwhile, as long as they matter (TTLs); a backoff of at most 10
// minutes bounds what a device that always fails costs.
func (s *Service) capRetry(j *job, o outcome) outcome {
	if !o.next.Before(j.ExpiresAt) {
		o.state = stateDropped
		s.stats.dropped.Add(1)
	}
	return o
}

// backoff is the wait before attempt n+1 without a Retry-After: 5 s
// doubling, at most 10 minutes.
func backoff(attempts int) time.Duration {
	d := 5 * time.Second << min(max(attempts-1, 0), 7)
	return min(d, 10*time.Minute)
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// gate bounds this instance's rate per push-service host and holds a host
// back while it asked us to wait (429 with Retry-After).
type gate struct {
	rate   float64
	mu     sync.Mutex
	hosts  map[string]*rate.Limiter
	paused map[string]time.Time
}

func newGate(perSecond float64) *gate {
	return &gate{rate: perSecond, hosts: map[string]*rate.Limiter{}, paused: map[string]time.Time{}}
}

// wait blocks until a push to host may go. A host paused for longer than
// maxWait is not waited for: ok is false and until says when it resumes.
func (g *gate) wait(ctx context.Context, host string) (until time.Time, ok bool) {
	g.mu.Lock()
	l := g.hosts[host]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(g.rate), max(int(g.rate/10), 1))
		g.hosts[host] = l
	}
	until = g.paused[host]
	g.mu.Unlock()
	if d := time.Until(until); d > 0 {
		if d > maxWait {
			return until, false
		}
		if !sleep(ctx, d, nil) {
			return until, false
		}
	}
	return time.Time{}, l.Wait(ctx) == nil
}

// pause holds host back until until (a later pause wins).
func (g *gate) pause(host string, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.paused[host]) {
		g.paused[host] = until
	}
}
