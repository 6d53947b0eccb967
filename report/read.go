package report

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/problem"
)

// evidenceRow links a stored file to a report.
type evidenceRow struct {
	bun.BaseModel `bun:"table:evidence"`

	ReportID    string    `bun:"report_id,pk"`
	SHA256      string    `bun:"sha256,pk"`
	Size        int64     `bun:"size"`
	ContentType string    `bun:"content_type"`
	CreatedAt   time.Time `bun:"created_at"`
}

// view adds the takedown history and the evidence list to a report.
func (s *Service) view(ctx context.Context, q bun.IDB, r *Report) (api.Report, error) {
	out := r.API()
	var steps []takedown
	if err := q.NewSelect().Model(&steps).Where("report_id = ?", r.ID).OrderExpr("id ASC").Scan(ctx); err != nil {
		return api.Report{}, fmt.Errorf("takedown history: %w", err)
	}
	for _, st := range steps {
		out.Takedown = append(out.Takedown, api.Takedown{Status: st.Status, PlatformRef: st.PlatformRef, Note: st.Note, At: st.At.UTC()})
	}
	var files []evidenceRow
	if err := q.NewSelect().Model(&files).Where("report_id = ?", r.ID).OrderExpr("created_at ASC").Scan(ctx); err != nil {
		return api.Report{}, fmt.Errorf("evidence: %w", err)
	}
	for _, f := range files {
		out.Evidence = append(out.Evidence, api.Evidence{SHA256: f.SHA256, Size: f.Size, ContentType: f.ContentType, CreatedAt: f.CreatedAt.UTC()})
	}
	return out, nil
}

// visible loads a report the caller may see, else a 404.
func (s *Service) visible(ctx context.Context, p auth.Principal, id string) (*Report, role, error) {
	r, err := load(ctx, s.db, id)
	if err != nil {
		return nil, role{}, err
	}
	who, err := s.roleOf(ctx, s.db, p, r)
	if err != nil {
		return nil, role{}, err
	}
	if !who.sees() {
		return nil, role{}, notFound()
	}
	return r, who, nil
}

// Get reads one report: its reporter, the coordinators of its org, the
// officers of its region.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (api.Report, error) {
	r, _, err := s.visible(ctx, p, id)
	if err != nil {
		return api.Report{}, err
	}
	return s.view(ctx, s.db, r)
}

// Filter narrows a report list.
type Filter struct {
	Status, OrgID, Category, Region string
	Before                          string // cursor: a report id
	Limit                           int
}

// List reads the reports the caller may see, newest first: their own, those
// of orgs they coordinate, and (officers) those of their region.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) ([]api.Report, error) {
	var rs []Report
	q := s.db.NewSelect().Model(&rs).ColumnExpr("r.*").ColumnExpr(clusterSize).OrderExpr("r.id DESC").Limit(int64(f.Limit))
	q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("r.reporter_id = ?", p.UserID).
			WhereOr("r.org_id IN (SELECT org_id FROM memberships WHERE user_id = ? AND status = 'active' AND role = 'coordinator')", p.UserID)
		switch {
		case p.IsAdmin() || p.IsOfficer() && p.Region == "":
			q = q.WhereOr("TRUE")
		case p.IsOfficer():
			q = q.WhereOr("(r.region_code = ? OR r.region_code LIKE ?)", p.Region, p.Region+"%")
		}
		return q
	})
	for col, v := range map[string]string{"r.status": f.Status, "r.org_id": f.OrgID, "r.category": f.Category} {
		if v != "" {
			q = q.Where("? = ?", bun.Ident(col), v)
		}
	}
	if f.Region != "" {
		q = q.Where("(r.region_code = ? OR r.region_code LIKE ?)", f.Region, f.Region+"%")
	}
	if f.Before != "" {
		q = q.Where("r.id < ?", f.Before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	out := make([]api.Report, len(rs))
	for i := range rs {
		v, err := s.view(ctx, s.db, &rs[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// MaxEvidence is the largest evidence file accepted (10 MiB).
const MaxEvidence = 10 << 20

// AddEvidence stores a file for a report (its reporter only, until the
// report is decided), streamed to the store (a directory or a bucket); the
// type comes from the content, and the same file is kept once; a store that
// is down is a problem of kind Unavailable. open reaches the file in the
// request; it is called only once the caller may add evidence to this
// report, so
// whatever the request holds, a caller who may not gets the 403, 404 or
// 409 report-decided first. The account and the decision are checked
// again, under their locks, before the file is attached: a suspension,
// erasure or decision that lands during the upload wins (401 invalid-token,
// 409 report-decided).
func (s *Service) AddEvidence(ctx context.Context, p auth.Principal, id string, open func() (io.Reader, error)) (api.Evidence, error) {
	r, who, err := s.visible(ctx, p, id)
	if err != nil {
		return api.Evidence{}, err
	}
	if !who.reporter {
		return api.Evidence{}, problem.Errorf(problem.Forbidden, "only the reporter adds evidence")
	}
	if err := checkUndecided(r); err != nil {
		return api.Evidence{}, err
	}
	file, err := open()
	if err != nil {
		return api.Evidence{}, err
	}
	st, err := s.files.Stage(ctx, file, MaxEvidence)
	if err != nil {
		return api.Evidence{}, err
	}
	defer st.Close()
	obj := st.Object
	// From here the upload takes at most storeTimeout (the chore's
	// uploadHold is far longer).
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	// Recorded as under way until a report refers to the file, or the
	// file is queued for deletion: an upload whose transaction fails (the
	// report deleted or decided meanwhile, the client gone) or whose
	// instance dies leaves no file behind that no report refers to, even
	// if a deletion of the same file runs meanwhile (files.go).
	up, err := s.beginUpload(ctx, obj.SHA256)
	if err != nil {
		return api.Evidence{}, err
	}
	// Stored before the transaction, so that a slow store holds no lock;
	// then, holding the file's lock, stored again if a deletion took it
	// meanwhile, before the row that makes it in use.
	err = s.files.Store(ctx, st)
	if err == nil {
		err = s.withFile(ctx, obj.SHA256, true, func(ctx context.Context, _ bun.IDB) error {
			return s.files.Store(ctx, st)
		}, func(ctx context.Context, tx bun.Tx) error {
			// The account first, as Create: a suspension or erasure
			// that committed during the upload refuses it (401).
			if _, err := auth.LockActive(ctx, s.db, tx, p.UserID); err != nil {
				return err
			}
			r, err := s.loadLocked(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := checkUndecided(r); err != nil {
				return err
			}
			now, err := s.db.Now(ctx, tx)
			if err != nil {
				return err
			}
			row := &evidenceRow{ReportID: r.ID, SHA256: obj.SHA256, Size: obj.Size, ContentType: obj.ContentType, CreatedAt: now}
			if _, err := tx.NewInsert().Model(row).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("record evidence: %w", err)
			}
			// In use now: whoever queued it, it is not to be deleted.
			if _, err := tx.NewDelete().Model((*evidenceDeletion)(nil)).Where("sha256 = ?", obj.SHA256).Exec(ctx); err != nil {
				return fmt.Errorf("record evidence: %w", err)
			}
			return endUpload(ctx, tx, up)
		})
	}
	if err != nil {
		if ctx.Err() != nil && parent.Err() == nil {
			err = storeSlow(err)
		}
		// Queued for deletion in the upload's place, then deleted now
		// unless a report refers to it; what fails stays queued for the
		// delete_evidence chore, and so does everything while the store
		// is down (the answer does not wait for it). With the database
		// down, the upload's row stays, for the chore too.
		bg := context.WithoutCancel(ctx)
		if s.abandonUpload(bg, up) == nil && problem.KindOf(err) != problem.Unavailable {
			s.DeleteFiles(bg, []string{obj.SHA256})
		}
		return api.Evidence{}, fmt.Errorf("add evidence: %w", err)
	}
	return api.Evidence{SHA256: obj.SHA256, Size: obj.Size, ContentType: obj.ContentType}, nil
}

// storeSlow is the refusal of an upload that was not stored and recorded
// within storeTimeout: the store or the database is too slow (503).
func storeSlow(err error) error {
	p := problem.Errorf(problem.Unavailable, "storing the evidence file took too long; retry shortly")
	p.RetryAfter = 2 * time.Second
	return fmt.Errorf("%w: %w", p, err)
}

// OpenEvidence opens a report's evidence file for whoever may see the
// report, as a reader that seeks (for Range requests); ctx serves every
// read. A store that is down is a problem of kind Unavailable.
func (s *Service) OpenEvidence(ctx context.Context, p auth.Principal, id, sha string) (*evidence.Reader, api.Evidence, error) {
	r, _, err := s.visible(ctx, p, id)
	if err != nil {
		return nil, api.Evidence{}, err
	}
	row := new(evidenceRow)
	if err := s.db.NewSelect().Model(row).Where("report_id = ? AND sha256 = ?", r.ID, sha).Scan(ctx); err != nil {
		return nil, api.Evidence{}, problem.Errorf(problem.NotFound, "no such evidence on this report")
	}
	f, err := evidence.NewReader(ctx, row.Size, func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
		return s.files.Open(ctx, row.SHA256, off, n)
	})
	if err != nil {
		return nil, api.Evidence{}, fmt.Errorf("open evidence: %w", err)
	}
	return f, api.Evidence{SHA256: row.SHA256, Size: row.Size, ContentType: row.ContentType}, nil
}

// CheckVerified confirms, inside q, that every id is a report the officer p
// covers and that it is verified: alerts may only cite verified findings. A
// report outside p's region gets the same answer as one that does not
// exist, so the answer tells nothing about other regions.
func (s *Service) CheckVerified(ctx context.Context, q bun.IDB, p auth.Principal, ids []string) error {
	for _, id := range ids {
		if !api.ValidID(id) {
			return problem.Validation(api.FieldError{Field: "report_ids", Message: "no such report in your region: " + id})
		}
		r, err := load(ctx, q, id)
		if err != nil && problem.KindOf(err) != problem.NotFound {
			return err
		}
		if err != nil || !p.Covers(r.Region()) {
			return problem.Validation(api.FieldError{Field: "report_ids", Message: "no such report in your region: " + id})
		}
		if r.Status != api.ReportVerified {
			return problem.Validation(api.FieldError{Field: "report_ids", Message: "report " + id + " is " + r.Status + ", not verified"})
		}
	}
	return nil
}
