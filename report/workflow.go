package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
)

// Who decides a transition.
const (
	byCoordinator = "coordinator"
	byOfficer     = "officer"
)

// transition is one allowed move of a report's status.
type transition struct {
	by   string
	from []string
	to   string
}

// transitions is the one table of the verification workflow, keyed by
// decision: coordinators of the report's org review submitted reports;
// officers of its region decide submitted or endorsed ones. Anything not
// here is refused.
var transitions = map[string]transition{
	"endorse":           {byCoordinator, []string{api.ReportSubmitted}, api.ReportEndorsed},
	"reject":            {byCoordinator, []string{api.ReportSubmitted}, api.ReportRejected},
	api.ReportVerified:  {byOfficer, []string{api.ReportSubmitted, api.ReportEndorsed}, api.ReportVerified},
	"officer-reject":    {byOfficer, []string{api.ReportSubmitted, api.ReportEndorsed}, api.ReportRejected},
	api.ReportDuplicate: {byOfficer, []string{api.ReportSubmitted, api.ReportEndorsed}, api.ReportDuplicate},
}

// decided tells the statuses that are decisions: those no transition leaves
// (verified, rejected, duplicate). A decided report changes no more, but for
// the takedown steps of a verified one.
var decided = func() map[string]bool {
	out := map[string]bool{}
	for _, tr := range transitions {
		out[tr.to] = true
	}
	for _, tr := range transitions {
		for _, from := range tr.from {
			delete(out, from)
		}
	}
	return out
}()

// checkUndecided refuses any change to a decided report (409 report-decided).
func checkUndecided(r *Report) error {
	if decided[r.Status] {
		return Decided.New("this report was decided (%s) and no longer changes", r.Status)
	}
	return nil
}

// takedownSteps is the table of the takedown history: the step before each
// status ("" = none yet). Takedowns follow verified reports only.
var takedownSteps = map[string]string{
	api.TakedownRequested: "",
	api.TakedownDone:      api.TakedownRequested,
	api.TakedownRefused:   api.TakedownRequested,
}

// Review is a coordinator's endorse or reject.
func (s *Service) Review(ctx context.Context, p auth.Principal, id string, req api.ReviewRequest) (api.Report, error) {
	return s.decide(ctx, p, id, decision{by: byCoordinator, req: &req,
		key: func() string { return req.Decision },
		set: func(r *Report) { r.ReviewNote = req.Note }})
}

// Verify is an officer's verified, rejected or duplicate. The report it
// duplicates must be another one the officer covers (one outside their
// region gets the same answer as one that does not exist) that stands for
// the case: submitted, endorsed or verified. A duplicate is not one (its
// own target is: mark it a duplicate of that), nor is a rejected report
// (reject this one too); so duplicates never form a cycle. Both reports are
// locked, in the order of their ids, so two decisions naming each other
// run one after the other and the second sees the first. A verification
// may give the public summary Bawaslu publishes instead of the reporter's
// summary, final as the decision is.
func (s *Service) Verify(ctx context.Context, p auth.Principal, id string, req api.VerificationRequest) (api.Report, error) {
	key := func() string {
		if req.Decision == api.ReportRejected {
			return "officer-reject"
		}
		return req.Decision
	}
	check := func(ctx context.Context, tx bun.Tx, r *Report) error {
		if req.DuplicateOf == nil {
			return nil
		}
		if *req.DuplicateOf == r.ID {
			return problem.Validation(api.FieldError{Field: "duplicate_of", Message: "a report cannot duplicate itself"})
		}
		dup, err := load(ctx, tx, *req.DuplicateOf) // locked by change
		if err != nil && problem.KindOf(err) != problem.NotFound {
			return err
		}
		if err != nil || !p.Covers(dup.Region()) {
			return problem.Validation(api.FieldError{Field: "duplicate_of", Message: "no such report in your region"})
		}
		switch dup.Status {
		case api.ReportDuplicate:
			msg := "that report is itself a duplicate"
			if dup.DuplicateOf != nil {
				msg += " of " + *dup.DuplicateOf + ": name that one"
			}
			return problem.Validation(api.FieldError{Field: "duplicate_of", Message: msg})
		case api.ReportRejected:
			return problem.Validation(api.FieldError{Field: "duplicate_of", Message: "that report was rejected: reject this one too"})
		}
		return nil
	}
	var other string
	if req.DuplicateOf != nil {
		other = *req.DuplicateOf
	}
	return s.decide(ctx, p, id, decision{by: byOfficer, req: &req, key: key, check: check, other: other,
		set: func(r *Report) {
			r.VerifyNote, r.DuplicateOf, r.PublicSummary = req.Note, req.DuplicateOf, req.PublicSummary
		}})
}

// decision is one workflow call: who makes it, its request, the row of the
// transitions table it applies (read once the request is valid), what it
// sets and any check that needs the database; other names a report that
// check reads, to be locked with this one.
type decision struct {
	by    string
	req   interface{ Validate() []api.FieldError }
	key   func() string
	set   func(*Report)
	check func(context.Context, bun.Tx, *Report) error
	other string
}

// decide applies one row of the transitions table. Nobody decides on their
// own report; a report the caller cannot see is a 404; the caller's role
// is checked before the request's fields.
func (s *Service) decide(ctx context.Context, p auth.Principal, id string, d decision) (api.Report, error) {
	return s.changeWith(ctx, p, id, d.other, func(ctx context.Context, tx bun.Tx, r *Report, who role) (string, error) {
		if d.by == byCoordinator && !who.coordinator || d.by == byOfficer && !who.officer {
			return "", problem.Errorf(problem.Forbidden, "this decision is for the report's %s", d.by)
		}
		if err := problem.Validate(d.req); err != nil {
			return "", err
		}
		key := d.key()
		tr, ok := transitions[key]
		if !ok || tr.by != d.by {
			return "", problem.Validation(api.FieldError{Field: "decision", Message: "unknown decision"})
		}
		if err := checkUndecided(r); err != nil {
			return "", err
		}
		if !slices.Contains(tr.from, r.Status) {
			return "", Transition.New("a %s report cannot be %s", r.Status, tr.to)
		}
		if d.check != nil {
			if err := d.check(ctx, tx, r); err != nil {
				return "", err
			}
		}
		r.Status = tr.to
		if tr.to == api.ReportVerified {
			at := r.UpdatedAt
			r.VerifiedAt = &at
		}
		d.set(r)
		return "report." + key, nil
	})
}

// Takedown records the next step of a verified report's takedown: the one
// change a decided report still takes.
func (s *Service) Takedown(ctx context.Context, p auth.Principal, id string, req api.TakedownRequest) (api.Report, error) {
	return s.change(ctx, p, id, func(ctx context.Context, tx bun.Tx, r *Report, who role) (string, error) {
		if !who.officer {
			return "", problem.Errorf(problem.Forbidden, "takedowns are recorded by the report's officers")
		}
		if err := problem.Validate(&req); err != nil {
			return "", err
		}
		if r.Status != api.ReportVerified {
			if err := checkUndecided(r); err != nil {
				return "", err
			}
			return "", Transition.New("only a verified report goes to takedown; this one is %s", r.Status)
		}
		current := ""
		if r.TakedownStatus != nil {
			current = *r.TakedownStatus
		}
		if takedownSteps[req.Status] != current {
			return "", TakedownTransition.New("the takedown is %q; %s does not follow", current, req.Status)
		}
		r.TakedownStatus = &req.Status
		step := &takedown{ID: auth.NewID(), ReportID: r.ID, Status: req.Status, PlatformRef: req.PlatformRef,
			Note: req.Note, By: p.UserID, At: r.UpdatedAt}
		if _, err := tx.NewInsert().Model(step).Exec(ctx); err != nil {
			return "", fmt.Errorf("record takedown: %w", err)
		}
		return "report.takedown." + req.Status, nil
	})
}

// changeFunc mutates a loaded report and returns the audit action.
type changeFunc func(ctx context.Context, tx bun.Tx, r *Report, who role) (string, error)

// change runs one workflow step: load (locked), visibility, never on one's own
// report, the step, save, audit, tell the reporter (report.status_changed)
// and, when a coordinator endorses, the officers (report.submitted).
func (s *Service) change(ctx context.Context, p auth.Principal, id string, fn changeFunc) (api.Report, error) {
	return s.changeWith(ctx, p, id, "", fn)
}

// changeWith is change that also locks the report other (when it is an id
// and exists; fn reads it), the two in the order of their ids, the order
// in which every transaction that locks several reports takes them.
func (s *Service) changeWith(ctx context.Context, p auth.Principal, id, other string, fn changeFunc) (api.Report, error) {
	var out api.Report
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if other != "" && other < id && api.ValidID(other) {
			if _, err := s.loadLocked(ctx, tx, other); err != nil && problem.KindOf(err) != problem.NotFound {
				return err
			}
		}
		r, err := s.loadLocked(ctx, tx, id)
		if err != nil {
			return err
		}
		if other != "" && other > id && api.ValidID(other) {
			if _, err := s.loadLocked(ctx, tx, other); err != nil && problem.KindOf(err) != problem.NotFound {
				return err
			}
		}
		who, err := s.roleOf(ctx, tx, p, r)
		if err != nil {
			return err
		}
		if !who.sees() {
			return notFound()
		}
		if who.reporter {
			return OwnReport.New("nobody reviews, verifies or takes down their own report")
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		before, err := s.view(ctx, tx, r) // with its takedown history, as the after is
		if err != nil {
			return err
		}
		r.UpdatedAt = now
		action, err := fn(ctx, tx, r, who)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(r).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("save report: %w", err)
		}
		if out, err = s.view(ctx, tx, r); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Actor{ID: p.UserID, Role: p.Role}, action, "report", r.ID, statusOf(before), statusOf(out)); err != nil {
			return err
		}
		return s.tell(ctx, tx, r, out)
	})
	if err != nil {
		return api.Report{}, fmt.Errorf("report: %w", err)
	}
	return out, nil
}

// statusOf is the audit snapshot of a report's workflow state.
func statusOf(r api.Report) map[string]any {
	return map[string]any{"status": r.Status, "review_note": r.ReviewNote, "verification_note": r.VerifyNote,
		"public_summary": r.PublicSummary, "duplicate_of": r.DuplicateOf, "takedown": r.Takedown}
}

// tell sends the reporter the new state (with any rejection note) and, for
// an endorsement, puts the report before the region's officers.
func (s *Service) tell(ctx context.Context, tx bun.Tx, r *Report, view api.Report) error {
	change := map[string]any{"report_id": r.ID, "status": view.Status, "review_note": view.ReviewNote,
		"verification_note": view.VerifyNote, "takedown_status": r.TakedownStatus, "at": r.UpdatedAt.UTC()}
	if err := announce(ctx, tx, "report.status_changed", change, org.UserStream(r.ReporterID)); err != nil {
		return err
	}
	if r.Status == api.ReportEndorsed {
		return announce(ctx, tx, "report.submitted", view, officerStreams(r.Region())...)
	}
	return nil
}

// takedown is one row of a report's takedown history.
type takedown struct {
	bun.BaseModel `bun:"table:takedowns"`

	ID          string    `bun:"id,pk"`
	ReportID    string    `bun:"report_id"`
	Status      string    `bun:"status"`
	PlatformRef string    `bun:"platform_ref"`
	Note        string    `bun:"note"`
	By          string    `bun:"by_user"`
	At          time.Time `bun:"at"`
}
