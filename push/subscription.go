package push

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/problem"
)

// MaxDevices is how many subscriptions one account may hold.
const MaxDevices = 10

// The bits of a subscription's events column.
const (
	wantAlerts      = 1
	wantAssignments = 2
	wantAll         = wantAlerts | wantAssignments
)

func wantBit(event string) int {
	switch event {
	case api.PushAlerts:
		return wantAlerts
	case api.PushAssignments:
		return wantAssignments
	}
	return 0
}

// Subscription is a device of an account: where its push service takes
// its pushes, and the keys they are encrypted to.
type Subscription struct {
	bun.BaseModel `bun:"table:push_subscriptions,alias:s"`

	ID        string    `bun:"id,pk"`
	UserID    string    `bun:"user_id"`
	Endpoint  string    `bun:"endpoint"`
	P256dh    string    `bun:"p256dh"`
	Auth      string    `bun:"auth"`
	Events    int       `bun:"events"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// API is the subscription as its owner sees it.
func (s *Subscription) API() api.PushSubscription {
	out := api.PushSubscription{ID: s.ID, Endpoint: s.Endpoint, Events: []string{}, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
	for _, e := range api.PushEvents {
		if s.Events&wantBit(e) != 0 {
			out.Events = append(out.Events, e)
		}
	}
	return out
}

// hostAllowed reports whether endpoint's host is one of the push services
// allowed (exactly, or under a "*." pattern).
func (s *Service) hostAllowed(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if u.Port() != "" && u.Port() != "443" {
		host += ":" + u.Port()
	}
	for _, h := range s.cfg.Hosts {
		h = strings.ToLower(h)
		if suffix, ok := strings.CutPrefix(h, "*"); ok && strings.HasPrefix(suffix, ".") {
			if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return true
			}
		} else if host == h {
			return true
		}
	}
	return false
}

// Subscribe records a device of userID, or updates it when its endpoint is
// known: the caller's own device gets its new keys and events (created
// false); a device last subscribed by another account moves to the caller
// (a browser serves one account at a time). Refused: a bad shape (422), an
// endpoint outside the allowed push services (422), an 11th device (409
// push-device-limit), an account no longer active when the transaction
// runs (401 invalid-token: erased, suspended or deleted meanwhile).
func (s *Service) Subscribe(ctx context.Context, userID string, req api.SubscribeRequest) (api.PushSubscription, bool, error) {
	if err := problem.Validate(&req); err != nil {
		return api.PushSubscription{}, false, err
	}
	if !s.hostAllowed(req.Endpoint) {
		return api.PushSubscription{}, false, problem.Validation(api.FieldError{Field: "endpoint",
			Message: "must be on a known push service (the server's JARIMU_PUSH_HOSTS)"})
	}
	events := wantAll
	if req.Events != nil {
		events = 0
		for _, e := range *req.Events {
			events |= wantBit(e)
		}
	}
	var out *Subscription
	created := false
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockAccount(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := auth.LockActive(ctx, s.db, tx, userID); err != nil {
			return err
		}
		// Two accounts registering one browser at once (a shared phone):
		// the second moves the first's row instead of failing on the
		// endpoint's unique index.
		if err := s.db.XactLock(ctx, tx, "push-endpoint:"+req.Endpoint); err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		old := new(Subscription)
		err = tx.NewSelect().Model(old).Where("endpoint = ?", req.Endpoint).Scan(ctx)
		switch {
		case err == nil && old.UserID == userID:
			old.P256dh, old.Auth, old.Events, old.UpdatedAt = req.Keys.P256dh, req.Keys.Auth, events, now
			_, err = tx.NewUpdate().Model(old).Column("p256dh", "auth", "events", "updated_at").WherePK().Exec(ctx)
			out = old
			return err
		case err == nil:
			if _, err := tx.NewDelete().Model(old).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("move subscription: %w", err)
			}
		case !db.IsNoRows(err):
			return fmt.Errorf("read subscription: %w", err)
		}
		n, err := tx.NewSelect().Model((*Subscription)(nil)).Where("user_id = ?", userID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count devices: %w", err)
		}
		if n >= MaxDevices {
			return DeviceLimit.New(
				"an account receives notifications on at most %d devices; remove one first", MaxDevices)
		}
		out = &Subscription{ID: uuid.Must(uuid.NewV7()).String(), UserID: userID, Endpoint: req.Endpoint,
			P256dh: req.Keys.P256dh, Auth: req.Keys.Auth, Events: events, CreatedAt: now, UpdatedAt: now}
		created = true
		_, err = tx.NewInsert().Model(out).Exec(ctx)
		return err
	})
	if err != nil {
		return api.PushSubscription{}, false, fmt.Errorf("subscribe: %w", err)
	}
	return out.API(), created, nil
}

// lockAccount serialises the subscription changes of one account on
// PostgreSQL, so the device limit holds under concurrency (SQLite's write
// transactions are serial already). The key is not db.TxLock's: it is
// the one instances of earlier releases take, which run beside these
// during a rolling upgrade.
func (s *Service) lockAccount(ctx context.Context, tx bun.Tx, userID string) error {
	if !s.db.Postgres() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", "push:"+userID); err != nil {
		return fmt.Errorf("lock account: %w", err)
	}
	return nil
}

// List reads userID's devices, oldest first.
func (s *Service) List(ctx context.Context, userID string) ([]api.PushSubscription, error) {
	return Devices(ctx, s.db, userID)
}

// Devices reads userID's devices from q, oldest first, as their owner sees
// them (without the keys): at most MaxDevices.
func Devices(ctx context.Context, q bun.IDB, userID string) ([]api.PushSubscription, error) {
	var subs []Subscription
	if err := q.NewSelect().Model(&subs).Where("user_id = ?", userID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	out := make([]api.PushSubscription, len(subs))
	for i := range subs {
		out[i] = subs[i].API()
	}
	return out, nil
}

// Unsubscribe deletes one of userID's devices; another account's, or none,
// is a 404.
func (s *Service) Unsubscribe(ctx context.Context, userID, id string) error {
	res, err := s.db.NewDelete().Model((*Subscription)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.Errorf(problem.NotFound, "no such subscription")
	}
	return nil
}

// DeleteAccount deletes every device of an account (a deleted account
// keeps no way to reach a phone). It runs in the caller's transaction.
func DeleteAccount(ctx context.Context, q bun.IDB, userID string) error {
	_, err := Forget(ctx, q, userID)
	return err
}

// Forget deletes, inside q, every device of an erased account (endpoint
// and keys) and answers how many there were.
func Forget(ctx context.Context, q bun.IDB, userID string) (int64, error) {
	res, err := q.NewDelete().Model((*Subscription)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete subscriptions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
