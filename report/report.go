// Package report owns findings: submission (optionally under a claim), URL
// normalisation into clusters, evidence files, the verification workflow as
// one table of allowed transitions (coordinators endorse or reject, officers
// verify, reject or mark duplicates), and the takedown history.
package report

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
	"github.com/jarimu/jarimu/task"
)

// Report is a report row.
type Report struct {
	bun.BaseModel `bun:"table:reports,alias:r"`

	ID             string     `bun:"id,pk"`
	ReporterID     string     `bun:"reporter_id"`
	OrgID          *string    `bun:"org_id"`
	ClaimID        *string    `bun:"claim_id"`
	URL            string     `bun:"url"`
	NormalizedURL  string     `bun:"normalized_url"`
	ClusterID      string     `bun:"cluster_id"`
	Platform       string     `bun:"platform"`
	Category       string     `bun:"category"`
	Summary        string     `bun:"summary"`
	RegionCode     *string    `bun:"region_code"`
	ObservedAt     time.Time  `bun:"observed_at"`
	Status         string     `bun:"status"`
	DuplicateOf    *string    `bun:"duplicate_of"`
	ReviewNote     string     `bun:"review_note"`
	VerifyNote     string     `bun:"verification_note"`
	PublicSummary  *string    `bun:"public_summary"`
	TakedownStatus *string    `bun:"takedown_status"`
	VerifiedAt     *time.Time `bun:"verified_at"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
	ClusterSize    int        `bun:"cluster_size,scanonly"`
	ReporterErased bool       `bun:"reporter_erased,scanonly"`
}

// Region is the report's region code, "" for national.
func (r *Report) Region() string {
	if r.RegionCode == nil {
		return ""
	}
	return *r.RegionCode
}

// API is the report as the API shows it (history and evidence are added by
// the caller that loads them).
func (r *Report) API() api.Report {
	return api.Report{ID: r.ID, ReporterID: r.ReporterID, OrgID: r.OrgID, ClaimID: r.ClaimID, URL: r.URL,
		NormalizedURL: r.NormalizedURL, ClusterID: r.ClusterID, ClusterSize: r.ClusterSize, Platform: r.Platform,
		Category: r.Category, Summary: r.Summary, RegionCode: r.RegionCode, RegionName: region.NameOf(r.RegionCode), ObservedAt: r.ObservedAt.UTC(),
		Status: r.Status, DuplicateOf: r.DuplicateOf, ReviewNote: r.ReviewNote, VerifyNote: r.VerifyNote, PublicSummary: r.PublicSummary,
		Takedown: []api.Takedown{}, Evidence: []api.Evidence{}, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		ReporterErased: r.ReporterErased}
}

// Files keeps evidence files: an evidence.Dir (a directory) or an
// evidence.Bucket (S3-compatible object storage), with the same rules.
type Files interface {
	// Stage checks, hashes and spools at most max bytes of r; refusals are
	// problems. The caller closes what it returns.
	Stage(ctx context.Context, r io.Reader, max int64) (*evidence.Staged, error)
	// Store stores a staged file under its sha, unless it is there
	// already; again after a deletion, as often as needed.
	Store(ctx context.Context, st *evidence.Staged) error
	// Open reads n bytes (n < 0: the rest) of a stored file from byte off.
	Open(ctx context.Context, sha string, off, n int64) (io.ReadCloser, error)
	// Delete removes a stored file (no error when it is missing).
	Delete(ctx context.Context, sha string) error
}

var (
	_ Files = (*evidence.Dir)(nil)
	_ Files = (*evidence.Bucket)(nil)
)

// Service runs reports.
type Service struct {
	db    *db.DB
	log   *event.Log
	orgs  *org.Service
	tasks *task.Service
	files Files
	// fileLocks are the evidence files' locks on SQLite (withFile).
	fileLocks fileLocks
}

// NewService wires the service.
func NewService(d *db.DB, log *event.Log, orgs *org.Service, tasks *task.Service, files Files) *Service {
	return &Service{db: d, log: log, orgs: orgs, tasks: tasks, files: files}
}

func notFound() error { return problem.Errorf(problem.NotFound, "no such report") }

const clusterSize = "(SELECT count(*) FROM reports r2 WHERE r2.cluster_id = r.cluster_id) AS cluster_size, " +
	"EXISTS (SELECT 1 FROM users u WHERE u.id = r.reporter_id AND u.erased_at IS NOT NULL) AS reporter_erased"

// load reads a report with its cluster size.
func load(ctx context.Context, q bun.IDB, id string) (*Report, error) {
	return loadReport(ctx, q, id, nil)
}

// loadLocked is load inside tx with the report's row lock on PostgreSQL
// (SQLite's write transactions are serial already): two changes of one
// report run one after the other, so the second sees the first's decision.
func (s *Service) loadLocked(ctx context.Context, tx bun.Tx, id string) (*Report, error) {
	return loadReport(ctx, tx, id, s.db)
}

// loadReport reads a report; with d, its row is locked (PostgreSQL).
func loadReport(ctx context.Context, q bun.IDB, id string, d *db.DB) (*Report, error) {
	r := new(Report)
	sel := q.NewSelect().Model(r).ColumnExpr("r.*").ColumnExpr(clusterSize).Where("r.id = ?", id)
	if d != nil {
		sel = d.ForUpdateOf(sel, "r")
	}
	err := sel.Scan(ctx)
	if db.IsNoRows(err) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load report: %w", err)
	}
	return r, nil
}

// role is how the caller stands to a report.
type role struct {
	reporter, coordinator, officer bool
}

func (r role) sees() bool { return r.reporter || r.coordinator || r.officer }

// roleOf decides inside q: the reporter; an active coordinator of the
// report's org; an officer whose region covers the report's (a report
// without a region: national officers), or an admin.
func (s *Service) roleOf(ctx context.Context, q bun.IDB, p auth.Principal, r *Report) (role, error) {
	var out role
	out.reporter = r.ReporterID == p.UserID
	out.officer = (p.IsOfficer() || p.IsAdmin()) && p.Covers(r.Region())
	if r.OrgID != nil {
		orgRole, active, err := s.orgs.Role(ctx, q, *r.OrgID, p.UserID)
		if err != nil {
			return role{}, err
		}
		out.coordinator = active && orgRole == api.RoleCoordinator
	}
	return out, nil
}

// officerStreams are the review streams of every officer whose region covers
// code: review:national and review:<ancestor> for each level.
func officerStreams(code string) []string {
	streams := []string{auth.ReviewStream("")}
	for _, a := range region.Ancestors(code) {
		streams = append(streams, auth.ReviewStream(a))
	}
	return streams
}

// announce appends name with the report's view to each stream.
func announce(ctx context.Context, tx bun.Tx, name string, view any, streams ...string) error {
	for _, s := range streams {
		if _, err := event.Append(ctx, tx, s, name, view); err != nil {
			return err
		}
	}
	return nil
}
