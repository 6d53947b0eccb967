// Package stats answers the aggregate questions of the console's charts
// for officers and coordinators: findings per day and category, the
// verification funnel, takedowns per platform, alert reach, findings per
// province. It only reads: each answer is one SQL statement (PostgreSQL and
// SQLite alike) over the tables of report, alert and push, scoped to what
// the caller may see. It is the one package that reads other capabilities'
// tables, read-only, because a chart needs counts across them that no
// single service holds; nothing here changes state.
package stats

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/problem"
)

// Roles tells a user's active role in an org (org.Service.Role).
type Roles func(ctx context.Context, q bun.IDB, orgID, userID string) (role string, ok bool, err error)

// Service answers the aggregates.
type Service struct {
	db    *db.DB
	roles Roles
}

// Now is the database's clock: periods end "today" by it, as the times
// they count are stamped by it (an instance whose clock lags would refuse
// today's date near midnight).
func (s *Service) Now(ctx context.Context) (time.Time, error) { return s.db.Now(ctx, s.db) }

// NewService wires the service.
func NewService(d *db.DB, roles Roles) *Service {
	return &Service{db: d, roles: roles}
}

// Query is what the caller asks for: a period and, optionally, one org.
type Query struct {
	Period Period
	OrgID  string
}

// scope is what a caller's aggregate counts: things of region (and below;
// "" everywhere) and, when org is set, of that org only.
type scope struct {
	region, org string
	period      Period
}

// scopeOf decides what p may count. Officers and admins count their region
// (admins and national officers everything), narrowed to one org when they
// ask; anyone else counts only an org they coordinate, and must name it.
func (s *Service) scopeOf(ctx context.Context, p auth.Principal, q Query) (scope, error) {
	sc := scope{org: q.OrgID, period: q.Period}
	if p.IsAdmin() || p.IsOfficer() {
		if p.IsOfficer() {
			sc.region = p.Region
		}
		return sc, nil
	}
	if q.OrgID == "" {
		return sc, problem.Errorf(problem.Forbidden, "statistics are for officers, and for coordinators of an org (give org_id)")
	}
	role, ok, err := s.roles(ctx, s.db, q.OrgID, p.UserID)
	if err != nil {
		return sc, err
	}
	if !ok || role != api.RoleCoordinator {
		return sc, problem.Errorf(problem.Forbidden, "only the org's coordinators see its statistics")
	}
	return sc, nil
}

// api is the scope as the answer states it.
func (sc scope) api() api.StatsScope {
	out := api.StatsScope{From: sc.period.From.Format(dayLayout), To: sc.period.To.Format(dayLayout)}
	if sc.region != "" {
		out.RegionCode = &sc.region
	}
	if sc.org != "" {
		out.OrgID = &sc.org
	}
	return out
}

// reports narrows a query over reports r to the scope, by filing time.
func (sc scope) reports(q *bun.SelectQuery) *bun.SelectQuery {
	q = q.Where("r.created_at >= ? AND r.created_at < ?", sc.period.From, sc.period.End())
	return sc.owners(q, "r")
}

// owners narrows a query over reports (alias) to the scope's region and org.
func (sc scope) owners(q *bun.SelectQuery, alias string) *bun.SelectQuery {
	if sc.region != "" {
		q = q.Where("(?.region_code = ? OR ?.region_code LIKE ?)", bun.Ident(alias), sc.region, bun.Ident(alias), sc.region+"%")
	}
	if sc.org != "" {
		q = q.Where("?.org_id = ?", bun.Ident(alias), sc.org)
	}
	return q
}
