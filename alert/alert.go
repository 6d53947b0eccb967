// Package alert owns verified alerts: an officer broadcasts one to their
// region or a sub-region (national officers anywhere), it travels on the
// region's feed stream to every volunteer there, it can be retracted, the
// public reads them, and the issuing officer sees its reach from the feed's
// acknowledgements: how many it was meant for, how many clients confirmed
// receipt, and how fast.
package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
	"github.com/jarimu/jarimu/report"
)

// The events of an alert, on its region stream.
const (
	EventPublished = "alert.published"
	EventRetracted = "alert.retracted"
)

// Alert is an alert row.
type Alert struct {
	bun.BaseModel `bun:"table:alerts,alias:a"`

	ID               string     `bun:"id,pk"`
	Title            string     `bun:"title"`
	Body             string     `bun:"body"`
	Severity         string     `bun:"severity"`
	RegionCode       *string    `bun:"region_code"`
	Category         *string    `bun:"category"`
	ReportIDs        string     `bun:"report_ids"`
	Links            string     `bun:"links"`
	IssuedBy         string     `bun:"issued_by"`
	Stream           string     `bun:"stream"`
	PublishedAt      time.Time  `bun:"published_at"`
	RetractedAt      *time.Time `bun:"retracted_at"`
	RetractionReason string     `bun:"retraction_reason"`
}

// Region is the alert's region code, "" for national.
func (a *Alert) Region() string {
	if a.RegionCode == nil {
		return ""
	}
	return *a.RegionCode
}

// API is the alert as everyone sees it (never who issued it).
func (a *Alert) API() api.Alert {
	out := api.Alert{ID: a.ID, Title: a.Title, Body: a.Body, Severity: a.Severity, RegionCode: a.RegionCode, RegionName: region.NameOf(a.RegionCode),
		Category: a.Category, ReportIDs: []string{}, Links: []string{}, PublishedAt: a.PublishedAt.UTC(),
		RetractionReason: a.RetractionReason, Retracted: a.RetractedAt != nil}
	json.Unmarshal([]byte(a.ReportIDs), &out.ReportIDs)
	json.Unmarshal([]byte(a.Links), &out.Links)
	if a.RetractedAt != nil {
		t := a.RetractedAt.UTC()
		out.RetractedAt = &t
	}
	return out
}

// Notifier is told, inside the transaction that publishes it, of each
// alert event (EventPublished, EventRetracted) with the alert as it is
// now; Web Push queues its job there.
type Notifier func(ctx context.Context, q bun.IDB, name string, a api.Alert) error

// Service runs alerts.
type Service struct {
	db      *db.DB
	log     *event.Log
	users   *auth.Service
	reports *report.Service
	notify  Notifier
}

// NewService wires the service; notify may be nil.
func NewService(d *db.DB, log *event.Log, users *auth.Service, reports *report.Service, notify Notifier) *Service {
	return &Service{db: d, log: log, users: users, reports: reports, notify: notify}
}

// announce appends an alert event and tells the notifier, in tx.
func (s *Service) announce(ctx context.Context, tx bun.Tx, stream, name string, a api.Alert) error {
	if _, err := event.Append(ctx, tx, stream, name, a); err != nil {
		return err
	}
	if s.notify == nil {
		return nil
	}
	return s.notify(ctx, tx, name, a)
}

func notFound() error { return problem.Errorf(problem.NotFound, "no such alert") }

// Create publishes an alert to a region (national, a province or a regency:
// the levels volunteers' feeds listen to) within the officer's own. Who may
// broadcast there is decided before the fields are checked (a regional
// officer covers no code that is not a region code).
func (s *Service) Create(ctx context.Context, p auth.Principal, req api.CreateAlertRequest) (api.Alert, error) {
	if !p.IsOfficer() && !p.IsAdmin() {
		return api.Alert{}, problem.Errorf(problem.Forbidden, "only Bawaslu officers broadcast alerts")
	}
	code := ""
	if req.RegionCode != nil {
		code = *req.RegionCode
	}
	if !p.Covers(code) {
		return api.Alert{}, auth.OutsideRegion.New("you broadcast only to your region or below")
	}
	if err := problem.Validate(&req); err != nil {
		return api.Alert{}, err
	}
	if code != "" && (region.Validate(code) != nil || len(code) > 4) {
		return api.Alert{}, problem.Validation(api.FieldError{Field: "region_code", Message: region.Message(code, "must be a province or regency code, or absent for national")})
	}
	var out api.Alert
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.reports.CheckVerified(ctx, tx, p, req.ReportIDs); err != nil {
			return err
		}
		a, err := s.insert(ctx, tx, p, req)
		if err != nil {
			return err
		}
		out = a.API()
		if err := s.announce(ctx, tx, a.Stream, EventPublished, out); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Actor{ID: p.UserID, Role: p.Role}, "alert.publish", "alert", a.ID, nil, out)
	})
	if err != nil {
		return api.Alert{}, fmt.Errorf("create alert: %w", err)
	}
	return out, nil
}

func (s *Service) insert(ctx context.Context, tx bun.Tx, p auth.Principal, req api.CreateAlertRequest) (*Alert, error) {
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return nil, err
	}
	code := ""
	if req.RegionCode != nil {
		code = *req.RegionCode
	}
	ids, _ := json.Marshal(nonNil(req.ReportIDs))
	links, _ := json.Marshal(nonNil(req.Links))
	a := &Alert{ID: auth.NewID(), Title: req.Title, Body: req.Body, Severity: req.Severity,
		RegionCode: req.RegionCode, Category: req.Category, ReportIDs: string(ids), Links: string(links), IssuedBy: p.UserID,
		Stream: region.Stream(code), PublishedAt: now}
	if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert alert: %w", err)
	}
	return a, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Retract withdraws an alert (officers covering its region); clients are
// told with alert.retracted, and lists flag it.
func (s *Service) Retract(ctx context.Context, p auth.Principal, id string, req api.RetractionRequest) (api.Alert, error) {
	var out api.Alert
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Locked: of two retractions at once, the second finds the first
		// (409), rather than both announcing, pushing and auditing, and the
		// second's reason replacing the first's.
		a, err := s.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !(p.IsOfficer() || p.IsAdmin()) || !p.Covers(a.Region()) {
			return problem.Errorf(problem.Forbidden, "only officers of the alert's region retract it")
		}
		if err := problem.Validate(&req); err != nil {
			return err
		}
		if a.RetractedAt != nil {
			return AlreadyRetracted.New("this alert was retracted already")
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		before := a.API()
		a.RetractedAt, a.RetractionReason = &now, req.Reason
		if _, err := tx.NewUpdate().Model(a).Column("retracted_at", "retraction_reason").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("retract alert: %w", err)
		}
		out = a.API()
		if err := s.announce(ctx, tx, a.Stream, EventRetracted, out); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Actor{ID: p.UserID, Role: p.Role}, "alert.retract", "alert", a.ID, before, out)
	})
	if err != nil {
		return api.Alert{}, fmt.Errorf("retract alert: %w", err)
	}
	return out, nil
}

// load reads one alert; lock takes its row lock (PostgreSQL; SQLite's
// write transaction holds the database already).
func (s *Service) load(ctx context.Context, q bun.IDB, id string, lock bool) (*Alert, error) {
	a := new(Alert)
	sel := q.NewSelect().Model(a).Where("a.id = ?", id)
	if lock {
		sel = s.db.ForUpdate(sel)
	}
	err := sel.Scan(ctx)
	if db.IsNoRows(err) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load alert: %w", err)
	}
	return a, nil
}

// Get reads one alert (public).
func (s *Service) Get(ctx context.Context, id string) (api.Alert, error) {
	a, err := s.load(ctx, s.db, id, false)
	if err != nil {
		return api.Alert{}, err
	}
	return a.API(), nil
}

// Filter narrows the public alert list.
type Filter struct {
	Region string    // alerts that concern this region: national, its ancestors, itself, below it
	Since  time.Time // published at or after
	Before string    // cursor: an alert id
	Limit  int
}

// List reads published alerts newest first, retracted ones flagged.
func (s *Service) List(ctx context.Context, f Filter) ([]api.Alert, error) {
	var as []Alert
	q := s.db.NewSelect().Model(&as).OrderExpr("a.id DESC").Limit(int64(f.Limit))
	if f.Region != "" {
		codes := append([]string{}, region.Ancestors(f.Region)...)
		q = q.Where("(a.region_code IS NULL OR a.region_code IN (?) OR a.region_code LIKE ?)", bun.In(codes), f.Region+"%")
	}
	if !f.Since.IsZero() {
		q = q.Where("a.published_at >= ?", f.Since)
	}
	if f.Before != "" {
		q = q.Where("a.id < ?", f.Before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	out := make([]api.Alert, len(as))
	for i := range as {
		out[i] = as[i].API()
	}
	return out, nil
}

// Reach tells how far an alert got (the issuer, officers covering it,
// admins): volunteers meant, volunteers whose client acknowledged it, and
// the p50/p90 of the delay from publication to acknowledgement.
func (s *Service) Reach(ctx context.Context, p auth.Principal, id string) (api.Reach, error) {
	a, err := s.load(ctx, s.db, id, false)
	if err != nil {
		return api.Reach{}, err
	}
	if a.IssuedBy != p.UserID && !((p.IsOfficer() || p.IsAdmin()) && p.Covers(a.Region())) {
		return api.Reach{}, problem.Errorf(problem.Forbidden, "only the issuing officer and officers of the region see the reach")
	}
	d, err := s.delivery(ctx, id)
	if err != nil {
		return api.Reach{}, fmt.Errorf("reach: %w", err)
	}
	meant, err := s.users.CountVolunteers(ctx, s.db, a.Region(), a.PublishedAt)
	if err != nil {
		return api.Reach{}, err
	}
	// A volunteer whose devices acknowledged on two instances counts on
	// each; nobody counts past everyone meant.
	r := api.Reach{AlertID: id, Meant: meant, Delivered: min(d.Delivered, meant)}
	if d.P50Ms != nil {
		p50, p90 := float64(*d.P50Ms), float64(*d.P90Ms)
		r.P50Ms, r.P90Ms = &p50, &p90
	}
	return r, nil
}
