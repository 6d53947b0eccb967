// Package org owns accredited civil society organisations (CSOs): the public
// registry, the accreditation lifecycle (suspend, revoke, renew, lapse),
// invite codes and memberships with their roles. Other capabilities ask it
// whether an org is accredited and what role a user holds there.
package org

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
)

// Org is an organisation row.
type Org struct {
	bun.BaseModel `bun:"table:orgs,alias:o"`

	ID                  string    `bun:"id,pk"`
	Name                string    `bun:"name"`
	AccreditationNumber string    `bun:"accreditation_number"`
	AccreditedUntil     time.Time `bun:"accredited_until"`
	Status              string    `bun:"status"`
	RegionCode          *string   `bun:"region_code"`
	LapseAnnounced      bool      `bun:"lapse_announced"`
	CreatedBy           *string   `bun:"created_by"`
	CreatedAt           time.Time `bun:"created_at"`
	UpdatedAt           time.Time `bun:"updated_at"`
	MemberCount         int       `bun:"member_count,scanonly"`
}

// StatusAt is the org's accreditation status at now: "expired" once an
// accredited org's validity has passed, whether or not anyone acted.
func (o *Org) StatusAt(now time.Time) string {
	if o.Status == api.OrgAccredited && now.After(o.AccreditedUntil) {
		return api.OrgExpired
	}
	return o.Status
}

// Region is the org's region code, "" for a national org.
func (o *Org) Region() string {
	if o.RegionCode == nil {
		return ""
	}
	return *o.RegionCode
}

// API is the registry view of the org at now.
func (o *Org) API(now time.Time) api.Org {
	return api.Org{ID: o.ID, Name: o.Name, AccreditationNumber: o.AccreditationNumber,
		AccreditedUntil: o.AccreditedUntil.UTC(), Status: o.StatusAt(now), RegionCode: o.RegionCode, RegionName: region.NameOf(o.RegionCode),
		MemberCount: o.MemberCount, CreatedAt: o.CreatedAt.UTC()}
}

// Service runs organisations and memberships.
type Service struct {
	db    *db.DB
	log   *event.Log
	users *auth.Service
	ender ClaimEnder
}

// ClaimEnder ends, inside tx, the active claims on orgID's tasks held by
// userID ("" for every holder), whose holder lost access for reason (one of
// api.ClaimEndReasons); now is the database time of the change. The task
// service provides it (task.EndClaims): task imports org, so org only
// declares what it needs.
type ClaimEnder func(ctx context.Context, tx bun.Tx, orgID, userID, reason string, now time.Time) error

// NewService wires the service. endClaims is called inside the transaction
// of every change that takes access to the org's tasks away (a membership
// removed, left or rejected; the org suspended, revoked or lapsed; the
// holder's account suspended, deleted or erased), so no claim outlives the
// access it was taken with; nil ends nothing.
func NewService(d *db.DB, log *event.Log, users *auth.Service, endClaims ClaimEnder) *Service {
	return &Service{db: d, log: log, users: users, ender: endClaims}
}

// endClaims ends the claims that a change of orgID takes away (userID "":
// every holder's), inside the change's transaction, after the org row is
// locked or updated: a concurrent change of the same org waits, and so do
// claims of that user (see task.EndClaims).
func (s *Service) endClaims(ctx context.Context, tx bun.Tx, orgID, userID, reason string, now time.Time) error {
	if s.ender == nil {
		return nil
	}
	if err := s.ender(ctx, tx, orgID, userID, reason, now); err != nil {
		return fmt.Errorf("end claims: %w", err)
	}
	return nil
}

// Streams of an org, as the feed names them.
func Stream(orgID string) string       { return "org:" + orgID }
func ReviewStream(orgID string) string { return "review:" + orgID }

// UserStream is a user's own stream.
func UserStream(userID string) string { return auth.UserStream(userID) }

func notFound() error { return problem.Errorf(problem.NotFound, "no such organisation") }

// load reads one org with its member count; lock takes its row lock on
// PostgreSQL (SQLite transactions already hold the write lock), so changes
// to one org's memberships happen one after the other.
func load(ctx context.Context, q bun.IDB, d *db.DB, id string, lock bool) (*Org, error) {
	o := new(Org)
	sel := q.NewSelect().Model(o).Where("o.id = ?", id)
	if lock {
		sel = d.ForUpdate(sel) // no member count: an aggregate cannot be locked
	} else {
		sel = sel.ColumnExpr("o.*").ColumnExpr(memberCount)
	}
	if err := sel.Scan(ctx); err != nil {
		if db.IsNoRows(err) {
			return nil, notFound()
		}
		return nil, fmt.Errorf("load org: %w", err)
	}
	return o, nil
}

const memberCount = "(SELECT count(*) FROM memberships m WHERE m.org_id = o.id AND m.status = 'active') AS member_count"

// notAccredited is the 409 that says why an org takes no new work.
func notAccredited(o *Org, now time.Time) error {
	return NotAccredited.New(
		"%s is %s and takes no new members, tasks or reports", o.Name, o.StatusAt(now))
}

// Accredited loads an org inside q and checks that it is accredited now:
// a 404 when it does not exist, a 409 org-not-accredited otherwise. Tasks and
// reports call it before taking new work.
func (s *Service) Accredited(ctx context.Context, q bun.IDB, orgID string) (*Org, error) {
	now, err := s.db.Now(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.AccreditedAt(ctx, q, orgID, now)
}

// AccreditedAt is Accredited at a time the caller already read from the
// database clock (one query less on a hot path such as claims).
func (s *Service) AccreditedAt(ctx context.Context, q bun.IDB, orgID string, now time.Time) (*Org, error) {
	o, err := s.loadBare(ctx, q, orgID)
	if err != nil {
		return nil, err
	}
	if o.StatusAt(now) != api.OrgAccredited {
		return nil, notAccredited(o, now)
	}
	return o, nil
}

// MemberAndOrg reads, in one statement, an org, userID's membership of it
// (role and whether it is active; false without one) and userID's account
// status. A 404 when the org does not exist; the 401 of auth.CheckActive
// when the account is not active (suspended, deleted or erased since its
// request was let in). Claims call it on every request, inside userID's
// work lock (auth.LockWork), which ending the account's claims takes too.
func (s *Service) MemberAndOrg(ctx context.Context, q bun.IDB, orgID, userID string) (o *Org, role string, active bool, err error) {
	var row struct {
		Org           `bun:",extend"`
		MemberRole    *string `bun:"member_role,scanonly"`
		MemberStatus  *string `bun:"member_status,scanonly"`
		AccountStatus *string `bun:"account_status,scanonly"`
	}
	err = q.NewSelect().Model(&row).ColumnExpr("o.*").
		ColumnExpr("m.role AS member_role, m.status AS member_status").
		ColumnExpr("(SELECT u.status FROM users AS u WHERE u.id = ?) AS account_status", userID).
		Join("LEFT JOIN memberships AS m ON m.org_id = o.id AND m.user_id = ?", userID).
		Where("o.id = ?", orgID).Scan(ctx)
	if db.IsNoRows(err) {
		return nil, "", false, notFound()
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("load org and membership: %w", err)
	}
	status := ""
	if row.AccountStatus != nil {
		status = *row.AccountStatus
	}
	if err := auth.RefuseInactive(status); err != nil {
		return nil, "", false, err
	}
	if row.MemberStatus != nil && *row.MemberStatus == api.MembershipActive && row.MemberRole != nil {
		role, active = *row.MemberRole, true
	}
	return &row.Org, role, active, nil
}

// CheckAccredited is AccreditedAt for an org already read.
func CheckAccredited(o *Org, now time.Time) error {
	if o.StatusAt(now) != api.OrgAccredited {
		return notAccredited(o, now)
	}
	return nil
}

// Get reads an org.
func (s *Service) Get(ctx context.Context, orgID string) (*Org, error) {
	return load(ctx, s.db, s.db, orgID, false)
}

// Load reads an org inside q (a transaction of the caller).
func (s *Service) Load(ctx context.Context, q bun.IDB, orgID string) (*Org, error) {
	return load(ctx, q, s.db, orgID, false)
}

// loadBare reads an org without its member count (no subquery).
func (s *Service) loadBare(ctx context.Context, q bun.IDB, id string) (*Org, error) {
	o := new(Org)
	if err := q.NewSelect().Model(o).Where("o.id = ?", id).Scan(ctx); err != nil {
		if db.IsNoRows(err) {
			return nil, notFound()
		}
		return nil, fmt.Errorf("load org: %w", err)
	}
	return o, nil
}
