package report

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
	"github.com/jarimu/jarimu/task"
	"github.com/jarimu/jarimu/urlnorm"
)

// Create files a report, for an account still active when its
// transaction runs (an erasure or suspension committed since the request
// was let in refuses it: 401). Under a claim, the claim must be the reporter's and
// still active (or completed): a volunteer whose lease expired cannot report
// under a claim that is gone. The report belongs to the claim's org, or to
// the org given (the reporter must be an active member), or to none (a
// report straight to Bawaslu). A non-accredited org takes no reports. Who
// may report for the org is decided before the fields are checked.
func (s *Service) Create(ctx context.Context, p auth.Principal, req api.CreateReportRequest) (api.Report, error) {
	var out api.Report
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := auth.LockActive(ctx, s.db, tx, p.UserID); err != nil {
			return err
		}
		orgID, claim, err := s.owner(ctx, tx, p, req)
		if err != nil {
			return err
		}
		norm, err := checkReport(&req)
		if err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkObserved(req.ObservedAt, now); err != nil {
			return err
		}
		if err := s.checkOwnerState(ctx, tx, orgID, claim, now); err != nil {
			return err
		}
		r := &Report{ID: auth.NewID(), ReporterID: p.UserID, OrgID: orgID, ClaimID: req.ClaimID, URL: req.URL,
			NormalizedURL: norm, ClusterID: urlnorm.Cluster(norm), Platform: req.Platform, Category: req.Category,
			Summary: req.Summary, RegionCode: req.RegionCode, ObservedAt: req.ObservedAt.UTC().Truncate(time.Microsecond),
			Status: api.ReportSubmitted, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return fmt.Errorf("insert report: %w", err)
		}
		r, err = load(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		out = r.API()
		streams := officerStreams(r.Region())
		if r.OrgID != nil {
			streams = []string{"review:" + *r.OrgID}
		}
		return announce(ctx, tx, "report.submitted", out, streams...)
	})
	if err != nil {
		return api.Report{}, fmt.Errorf("create report: %w", err)
	}
	return out, nil
}

// checkReport checks the request's fields and answers its normalised URL.
func checkReport(req *api.CreateReportRequest) (string, error) {
	if err := problem.Validate(req); err != nil {
		return "", err
	}
	norm, err := urlnorm.Normalize(req.URL)
	if err != nil {
		return "", problem.Validation(api.FieldError{Field: "url", Message: "must be an absolute http(s) URL without spaces or credentials"})
	}
	if req.RegionCode != nil && region.Validate(*req.RegionCode) != nil {
		return "", problem.Validation(api.FieldError{Field: "region_code", Message: region.Message(*req.RegionCode, "must be a Kemendagri region code")})
	}
	return norm, nil
}

// checkObserved accepts an observation time up to 5 minutes ahead (phone
// clocks drift) and at most a year back.
func checkObserved(t, now time.Time) error {
	if t.After(now.Add(5*time.Minute)) || t.Before(now.AddDate(-1, 0, 0)) {
		return problem.Validation(api.FieldError{Field: "observed_at", Message: "must be within the last year and not in the future"})
	}
	return nil
}

// owner decides the report's org from its claim or the request, and
// whether the caller may report for it: the claim must be theirs (an
// unknown claim and another's get the same answer), and they must be an
// active member of the org.
func (s *Service) owner(ctx context.Context, tx bun.Tx, p auth.Principal, req api.CreateReportRequest) (*string, *task.Claim, error) {
	orgID := req.OrgID
	var claim *task.Claim
	// An id that is not one names nothing: the answer of an unknown one,
	// before any query.
	if req.ClaimID != nil && !api.ValidID(*req.ClaimID) {
		return nil, nil, problem.Validation(api.FieldError{Field: "claim_id", Message: "no such claim of yours"})
	}
	if orgID != nil && !api.ValidID(*orgID) {
		return nil, nil, problem.Validation(api.FieldError{Field: "org_id", Message: "no such organisation"})
	}
	if req.ClaimID != nil {
		c, t, err := s.tasks.ClaimOf(ctx, tx, *req.ClaimID)
		if err != nil || c.UserID != p.UserID {
			return nil, nil, problem.Validation(api.FieldError{Field: "claim_id", Message: "no such claim of yours"})
		}
		if c.EndReason != nil { // the server ended it: its holder lost access
			return nil, nil, task.ClaimNotActive.New("this claim was ended (%s); a report cannot be filed under it", *c.EndReason)
		}
		if orgID != nil && (t.OrgID == nil || *t.OrgID != *orgID) {
			return nil, nil, problem.Validation(api.FieldError{Field: "org_id", Message: "must be the claim's organisation, or absent"})
		}
		orgID, claim = t.OrgID, c
	}
	if orgID == nil {
		return nil, claim, nil
	}
	if _, err := s.orgs.Load(ctx, tx, *orgID); err != nil {
		return nil, nil, problem.Validation(api.FieldError{Field: "org_id", Message: "no such organisation"})
	}
	if _, active, err := s.orgs.Role(ctx, tx, *orgID, p.UserID); err != nil || !active {
		return nil, nil, firstErr(err, org.NotAMember.New("only active members report for this organisation"))
	}
	return orgID, claim, nil
}

// checkOwnerState refuses a claim that has ended (released, or its lease
// passed) and an org that is not accredited.
func (s *Service) checkOwnerState(ctx context.Context, tx bun.Tx, orgID *string, c *task.Claim, now time.Time) error {
	if c != nil {
		expired := c.Status == api.ClaimActive && !now.Before(c.LeaseExpiresAt)
		if c.Status != api.ClaimActive && c.Status != api.ClaimCompleted || expired {
			return task.ClaimNotActive.New("this claim has ended; a report cannot be filed under it")
		}
	}
	if orgID != nil {
		if _, err := s.orgs.Accredited(ctx, tx, *orgID); err != nil {
			return err
		}
	}
	return nil
}

func firstErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
