// Package push sends Web Push notifications (RFC 8030 delivery, RFC 8291
// message encryption, RFC 8292 VAPID) so that alerts and assignments reach
// phones whose app is closed, each device once, from any number of
// instances.
//
// Devices subscribe with the browser's PushSubscription; the service that
// publishes an event queues ONE job for it in the event's own transaction
// (Queue). Instances expand jobs to devices in batches along a cursor of
// subscription ids (expand.go), and work the batches with FOR UPDATE SKIP
// LOCKED on PostgreSQL, one worker on SQLite (send.go): each device's
// outcome is recorded as it comes, so a batch taken over after a crash
// resends only what had no recorded outcome. Encryption and VAPID signing
// are github.com/SherClockHolmes/webpush-go's.
package push

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
)

// Accounts selects the ids of active accounts: of role ("" any), with a
// region at or below region ("" everywhere), or the one account userID
// when it is not "". Package auth provides it; push reads no account
// table of its own.
type Accounts func(q bun.IDB, role, region, userID string) *bun.SelectQuery

// Config tunes the service; zero fields take their defaults.
type Config struct {
	// Hosts are the push services endpoints may point at: exact host names
	// or "*.example.com" for any subdomain (DefaultHosts by default).
	Hosts []string
	// Subject is the VAPID "sub" claim: a mailto: or https: contact for the
	// push services' operators (default "mailto:push@jarimu.invalid").
	Subject string
	// Client sends the pushes (default: a client with a 30 s timeout).
	Client *http.Client
	// RatePerHost bounds the pushes per second this instance sends to one
	// push-service host (default 5000).
	RatePerHost float64
	// Workers is how many batches this instance works at once on
	// PostgreSQL (default 4, at most a quarter of the database pool;
	// SQLite: 1).
	Workers int
	// Concurrency is how many pushes of one batch are in flight at once
	// (default 64 / Workers: 16 on PostgreSQL, 64 on SQLite's one worker).
	Concurrency int
	// BatchSize is how many devices one batch holds (default 200).
	BatchSize int
	// ExpandRound is how many devices one expansion step (one statement)
	// cuts into batches (default 50,000).
	ExpandRound int
	// Poll is how often an idle worker looks for work that another
	// instance queued (default 250 ms).
	Poll time.Duration
}

// DefaultHosts are the push services of the common browsers: Chrome and
// other Chromium browsers (FCM), Firefox (Mozilla autopush), Edge (WNS) and
// Safari (Apple).
var DefaultHosts = []string{"fcm.googleapis.com", "updates.push.services.mozilla.com",
	"*.notify.windows.com", "web.push.apple.com", "*.push.apple.com"}

// Service runs subscriptions, the outbox and its workers.
type Service struct {
	db       *db.DB
	vapid    *VAPID
	accounts Accounts
	cfg      Config
	log      *slog.Logger
	gate     *gate
	stats    stats
	bell     chan struct{}

	mu   sync.Mutex
	jobs map[string]*job // jobs being worked, by id (their payloads)
}

// NewService wires the service.
func NewService(d *db.DB, vapid *VAPID, accounts Accounts, cfg Config, log *slog.Logger) *Service {
	if len(cfg.Hosts) == 0 {
		cfg.Hosts = DefaultHosts
	}
	if cfg.Subject == "" {
		cfg.Subject = "mailto:push@jarimu.invalid"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}}
	}
	// A push service answers; it never sends the server elsewhere (a
	// redirect could aim it past the allow-list).
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &client
	if cfg.RatePerHost <= 0 {
		cfg.RatePerHost = 5000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if !d.Postgres() {
		cfg.Workers = 1
	}
	// A sender holds a connection for its batch's lock while it needs
	// others (the devices, the outcomes): at most a quarter of the pool,
	// as the chores that hold a lock (chore.Runner), so that senders and
	// chores together can never hold every connection while each waits
	// for another.
	if pool := d.PoolSize(); pool > 0 {
		cfg.Workers = min(cfg.Workers, max(pool/4, 1))
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = max(64/cfg.Workers, 1)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 200
	}
	if cfg.ExpandRound <= 0 {
		cfg.ExpandRound = 50000
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, vapid: vapid, accounts: accounts, cfg: cfg, log: log, gate: newGate(cfg.RatePerHost),
		stats: newStats(), bell: make(chan struct{}, 1), jobs: map[string]*job{}}
}

// PublicKey is the VAPID public key browsers subscribe with.
func (s *Service) PublicKey() string { return s.vapid.PublicKey() }

// ring wakes this instance's workers (a job was queued here).
func (s *Service) ring() {
	select {
	case s.bell <- struct{}{}:
	default:
	}
}

// Run expands and sends until ctx ends: one expander and Workers senders.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wake := make([]chan struct{}, s.cfg.Workers)
	for i := range wake {
		wake[i] = make(chan struct{}, 1)
		wg.Go(func() { s.sendLoop(ctx, wake[i]) })
	}
	s.expandLoop(ctx, func() {
		for _, w := range wake {
			select {
			case w <- struct{}{}:
			default:
			}
		}
	})
	wg.Wait()
}

// sleep waits d or until ctx ends or wake rings; false when ctx ended.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-wake:
	}
	return true
}
