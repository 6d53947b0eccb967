// Package task owns monitoring tasks and the claims volunteers hold on their
// slots: creation by coordinators (for their CSO) and officers (the national
// pool), listing what a volunteer may take, and claims that are atomic under
// any concurrency on both databases, with leases from the database clock, an
// expiry sweeper that several instances may run at once, warnings before
// expiry, assignments, release and completion.
package task

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
)

// Task is a task row. SlotsTaken counts active and completed claims; the
// claim path changes it only with a guarded update, so it never passes Slots.
type Task struct {
	bun.BaseModel `bun:"table:tasks,alias:t"`

	ID           string     `bun:"id,pk"`
	OrgID        *string    `bun:"org_id"`
	Title        string     `bun:"title"`
	Description  string     `bun:"description"`
	Kind         string     `bun:"kind"`
	Platform     *string    `bun:"platform"`
	Target       *string    `bun:"target"`
	RegionCode   *string    `bun:"region_code"`
	StartsAt     *time.Time `bun:"starts_at"`
	DueAt        *time.Time `bun:"due_at"`
	Slots        int        `bun:"slots"`
	SlotsTaken   int        `bun:"slots_taken"`
	LeaseMinutes int        `bun:"lease_minutes"`
	Status       string     `bun:"status"`
	CreatedBy    string     `bun:"created_by"`
	CreatedAt    time.Time  `bun:"created_at"`
	UpdatedAt    time.Time  `bun:"updated_at"`
}

// API is the task as the API shows it.
func (t *Task) API() api.Task {
	return api.Task{ID: t.ID, OrgID: t.OrgID, Title: t.Title, Description: t.Description, Kind: t.Kind,
		Platform: t.Platform, Target: t.Target, RegionCode: t.RegionCode, RegionName: region.NameOf(t.RegionCode), StartsAt: utc(t.StartsAt), DueAt: utc(t.DueAt),
		Slots: t.Slots, SlotsTaken: t.SlotsTaken, LeaseMinutes: t.LeaseMinutes, Status: t.Status,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Region is the task's region code, "" for national.
func (t *Task) Region() string {
	if t.RegionCode == nil {
		return ""
	}
	return *t.RegionCode
}

// Streams are where the task's events go: its org's stream, or for the
// national pool the stream of its region (region:national when national).
// Feeds listen down to regency level, so a district or village task goes to
// its regency's stream.
func (t *Task) Streams() []string {
	if t.OrgID != nil {
		return []string{org.Stream(*t.OrgID)}
	}
	code := t.Region()
	if len(code) > 4 {
		code = code[:4]
	}
	return []string{region.Stream(code)}
}

// Config tunes the task service.
type Config struct {
	// MaxActiveClaims is how many active claims one volunteer may hold (3).
	MaxActiveClaims int
	// WarnBefore is how long before expiry a holder is warned (10 min).
	WarnBefore time.Duration
	// OnAssigned, when set, is told of each assignment inside the
	// transaction that makes it (Web Push queues its job there).
	OnAssigned func(ctx context.Context, q bun.IDB, c api.Claim, t api.Task) error
}

// Service runs tasks and claims.
type Service struct {
	db    *db.DB
	log   *event.Log
	orgs  *org.Service
	users *auth.Service
	cfg   Config
}

// NewService wires the service; zero Config fields take their defaults.
func NewService(d *db.DB, log *event.Log, orgs *org.Service, users *auth.Service, cfg Config) *Service {
	if cfg.MaxActiveClaims == 0 {
		cfg.MaxActiveClaims = 3
	}
	if cfg.WarnBefore == 0 {
		cfg.WarnBefore = 10 * time.Minute
	}
	return &Service{db: d, log: log, orgs: orgs, users: users, cfg: cfg}
}

func notFound() error { return problem.Errorf(problem.NotFound, "no such task") }

// load reads a task; lock takes its row lock on PostgreSQL.
func (s *Service) load(ctx context.Context, q bun.IDB, id string, lock bool) (*Task, error) {
	return loadTask(ctx, q, s.db, id, lock)
}

// loadTask is load for code that runs without a Service (EndClaims).
func loadTask(ctx context.Context, q bun.IDB, d *db.DB, id string, lock bool) (*Task, error) {
	t := new(Task)
	sel := q.NewSelect().Model(t).Where("t.id = ?", id)
	if lock {
		sel = d.ForUpdate(sel)
	}
	if err := sel.Scan(ctx); err != nil {
		if db.IsNoRows(err) {
			return nil, notFound()
		}
		return nil, fmt.Errorf("load task: %w", err)
	}
	return t, nil
}

// loadClocked reads a task and the database clock, in one statement on
// PostgreSQL (the clock of every lease; see db.Now).
func (s *Service) loadClocked(ctx context.Context, q bun.IDB, id string) (*Task, time.Time, error) {
	var row struct {
		Task  `bun:",extend"`
		DBNow time.Time `bun:"db_now,scanonly"`
	}
	err := s.db.WithNow(q.NewSelect().Model(&row).ColumnExpr("t.*"), "db_now").
		Where("t.id = ?", id).Scan(ctx)
	if db.IsNoRows(err) {
		return nil, time.Time{}, notFound()
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("load task: %w", err)
	}
	return &row.Task, row.DBNow.UTC().Truncate(time.Microsecond), nil
}

// access is what a caller may do with a task.
type access struct {
	see, manage, member bool
}

// accessOf decides, inside q, what p may do with t. An org task is seen by
// the org's active members, managed by its coordinators; officers whose
// region covers the org (or the task) see and manage it, as do admins. A
// national-pool task is seen by everyone and managed by officers covering
// its region.
func (s *Service) accessOf(ctx context.Context, q bun.IDB, p auth.Principal, t *Task) (access, error) {
	if t.OrgID == nil {
		return access{see: true, manage: p.Covers(t.Region())}, nil
	}
	role, active, err := s.orgs.Role(ctx, q, *t.OrgID, p.UserID)
	if err != nil {
		return access{}, err
	}
	if active {
		return access{see: true, member: true, manage: role == api.RoleCoordinator}, nil
	}
	if p.IsAdmin() || p.IsOfficer() {
		o, err := s.orgs.Load(ctx, q, *t.OrgID)
		if err != nil {
			return access{}, err
		}
		if p.Covers(o.Region()) {
			return access{see: true, manage: true}, nil
		}
	}
	return access{}, nil
}

// publish appends name with the task's view to its streams.
func publish(ctx context.Context, tx bun.Tx, name string, t *Task) error {
	for _, s := range t.Streams() {
		if _, err := event.Append(ctx, tx, s, name, t.API()); err != nil {
			return err
		}
	}
	return nil
}
