package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
	"github.com/jarimu/jarimu/urlnorm"
)

// Create files a report. Under a claim, the claim must be the reporter's and
// still active (or completed): a volunteer whose lease expired cannot report
// under a claim that is gone. The report belongs to the claim's org, or to
// the org given (the reporter must be an active member), or to none (a
// report straight to Bawaslu). A non-accredited org takes no reports.
func (s *Service) Create(ctx context.Context, p auth.Principal, req api.CreateReportRequest) (api.Report, error) {
	norm, err := urlnorm.Normalize(req.URL)
	if err != nil {
		return api.Report{}, problem.Validation(api.FieldError{Field: "url", Message: "must be an absolute http(s) URL without spaces or credentials"})
	}
	if req.RegionCode != nil && region.Validate(*req.RegionCode) != nil {
		return api.Report{}, problem.Validation(api.FieldError{Field: "region_code", Message: "must be a Kemendagri region code"})
	}
	var out api.Report
	err = s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkObserved(req.ObservedAt, now); err != nil {
			return err
		}
		orgID, err := s.owner(ctx, tx, p, req, now)
		if err != nil {
			return err
		}
		r := &Report{ID: auth.NewID(), ReporterID: p.UserID, OrgID: orgID, ClaimID: req.ClaimID, URL: req.URL,
			NormalizedURL: norm, ClusterID: urlnorm.Cluster(norm), Platform: req.Platform, Category: req.Category,
			Summary: strings.TrimSpace(req.Summary), RegionCode: req.RegionCode, ObservedAt: req.ObservedAt.UTC().Truncate(time.Microsecond),
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

// checkObserved accepts an observation time up to 5 minutes ahead (phone
// clocks drift) and at most a year back.
func checkObserved(t, now time.Time) error {
	if t.After(now.Add(5*time.Minute)) || t.Before(now.AddDate(-1, 0, 0)) {
		return problem.Validation(api.FieldError{Field: "observed_at", Message: "must be within the last year and not in the future"})
	}
	return nil
}

// owner decides the report's org from its claim or the request.
func (s *Service) owner(ctx context.Context, tx bun.Tx, p auth.Principal, req api.CreateReportRequest, now time.Time) (*string, error) {
	orgID := req.OrgID
	if req.ClaimID != nil {
		c, t, err := s.tasks.ClaimOf(ctx, tx, *req.ClaimID)
		if err != nil || c.UserID != p.UserID {
			return nil, problem.Validation(api.FieldError{Field: "claim_id", Message: "no such claim of yours"})
		}
		expired := c.Status == api.ClaimActive && !now.Before(c.LeaseExpiresAt)
		if c.EndReason != nil {
			return nil, problem.New(problem.Conflict, "claim-not-active", "this claim was ended (%s); a report cannot be filed under it", *c.EndReason)
		}
		if c.Status != api.ClaimActive && c.Status != api.ClaimCompleted || expired {
			return nil, problem.New(problem.Conflict, "claim-not-active", "this claim has ended; a report cannot be filed under it")
		}
		if orgID != nil && (t.OrgID == nil || *t.OrgID != *orgID) {
			return nil, problem.Validation(api.FieldError{Field: "org_id", Message: "must be the claim's organisation, or absent"})
		}
		orgID = t.OrgID
	}
	if orgID == nil {
		return nil, nil
	}
	if _, err := s.orgs.Load(ctx, tx, *orgID); err != nil {
		return nil, problem.Validation(api.FieldError{Field: "org_id", Message: "no such organisation"})
	}
	if _, active, err := s.orgs.Role(ctx, tx, *orgID, p.UserID); err != nil || !active {
		return nil, firstErr(err, problem.New(problem.Forbidden, "not-a-member", "only active members report for this organisation"))
	}
	if _, err := s.orgs.Accredited(ctx, tx, *orgID); err != nil {
		return nil, err
	}
	return orgID, nil
}

func firstErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
