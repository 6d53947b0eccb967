package privacy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/mail"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/report"
	"github.com/jarimu/jarimu/task"
)

// Erasure is what an erasure did, as the audit trail keeps it (counts only:
// nothing of what was erased).
type Erasure struct {
	UserID            string `json:"user_id"`
	By                string `json:"by"` // "self", "admin" or "retention"
	Reason            string `json:"reason,omitempty"`
	MembershipsEnded  int    `json:"memberships_ended"`
	ReportsDeleted    int    `json:"reports_deleted"`
	ReportsKept       int    `json:"reports_kept"`
	EvidenceFiles     int    `json:"evidence_files_deleted"`
	MailForgotten     int64  `json:"mail_forgotten"`
	PushDevices       int64  `json:"push_subscriptions_deleted"`
	ClaimNotes        int64  `json:"claim_notes_emptied"`
	AnswersForgotten  int64  `json:"stored_answers_forgotten"`
	AuditEntriesFixed int    `json:"audit_entries_scrubbed"`
	EventsRedacted    int    `json:"events_redacted"`
}

// EraseSelf erases the caller's own account, who re-enters their password
// (throttled as logins are). Irreversible.
func (s *Service) EraseSelf(ctx context.Context, p auth.Principal, password, clientIP string) (Erasure, error) {
	if password == "" {
		return Erasure{}, problem.Validation(api.FieldError{Field: "password", Message: "is required: re-enter your password"})
	}
	if err := s.auth.VerifyPassword(ctx, p.UserID, password, clientIP); err != nil {
		return Erasure{}, err
	}
	return s.erase(ctx, audit.Actor{ID: p.UserID, Role: p.Role}, p.UserID, "self", "", nil)
}

// EraseByAdmin erases another account at an admin's hand (a data subject
// request received by Bawaslu, say), with a reason kept in the trail.
// Admins erase their own account with EraseSelf.
func (s *Service) EraseByAdmin(ctx context.Context, p auth.Principal, userID string, req api.EraseUserRequest) (Erasure, error) {
	if !p.IsAdmin() {
		return Erasure{}, problem.Errorf(problem.Forbidden, "only admins erase other accounts")
	}
	if err := problem.Validate(&req); err != nil {
		return Erasure{}, err
	}
	if userID == p.UserID {
		return Erasure{}, auth.SelfSuspension.New("erase your own account with DELETE /v1/me")
	}
	return s.erase(ctx, audit.Actor{ID: p.UserID, Role: p.Role}, userID, "admin", req.Reason, nil)
}

// errKept is an erasure's answer when the account, read under its lock,
// no longer meets the condition it was listed by.
var errKept = errors.New("account kept")

// erase runs one erasure in one transaction: every capability forgets the
// person, then the account row is emptied and the erasure audited; the
// evidence files left unused are deleted after it commits. only, when
// given, is asked of the account once it is locked: false keeps it
// (errKept).
func (s *Service) erase(ctx context.Context, actor audit.Actor, userID, by, reason string, only func(*auth.User) bool) (Erasure, error) {
	out := Erasure{UserID: userID, By: by, Reason: reason}
	var files []string
	err := s.events.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.auth.LockForErasure(ctx, tx, userID)
		if err != nil {
			return err
		}
		if only != nil && !only(u) {
			return errKept
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if out.MembershipsEnded, err = s.orgs.EndAll(ctx, tx, userID, now); err != nil {
			return err
		}
		f, err := report.ForgetReporter(ctx, tx, userID)
		if err != nil {
			return err
		}
		out.ReportsDeleted, out.ReportsKept, files = f.Deleted, f.Kept, f.Files
		if err := s.forget(ctx, tx, u, f, &out); err != nil {
			return err
		}
		if err := s.auth.Erase(ctx, tx, u, now); err != nil {
			return err
		}
		out.EvidenceFiles = f.Unused
		return audit.Record(ctx, tx, actor, "user.erase", "user", userID, nil, out)
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("erase: %w", err)
	}
	if _, err := s.reports.DeleteFiles(ctx, files); err != nil {
		// The rows are gone; a file left behind stays queued in
		// evidence_deletions, and the delete_evidence chore tries it
		// again.
		s.log.WarnContext(ctx, "erasure: evidence files not deleted", slog.String("user_id", userID), slog.String("error", err.Error()))
	}
	return out, nil
}

// forget removes the person's devices, what they wrote completing claims,
// and their name and email from where others' records carry them: queued
// mail, stored answers, the audit trail, the events of
// membership requests; and what their deleted reports said from the
// reviewers' events and stored answers (f: what ForgetReporter did).
// (Alert acks are stored as counts, naming nobody, so every alert's reach
// reads as before.)
func (s *Service) forget(ctx context.Context, tx bun.Tx, u *auth.User, f report.Forgotten, out *Erasure) error {
	var err error
	if out.MailForgotten, err = mail.Forget(ctx, tx, u.ID); err != nil {
		return err
	}
	if out.PushDevices, err = push.Forget(ctx, tx, u.ID); err != nil {
		return err
	}
	if out.ClaimNotes, err = task.ForgetNotes(ctx, tx, u.ID); err != nil {
		return err
	}
	// A stored answer naming a deleted report (a reviewer's decision on it,
	// say) holds the report: forgotten, a retry of that request is served
	// anew (and finds the report gone).
	if out.AnswersForgotten, err = s.idem.Forget(ctx, tx, u.ID, append([]string{u.Name, u.Email}, f.DeletedIDs...)...); err != nil {
		return err
	}
	if out.AuditEntriesFixed, err = audit.Scrub(ctx, tx, u.ID, []string{u.Name}, []string{u.Email}); err != nil {
		return err
	}
	blank := func(data map[string]any) bool {
		if data["user_name"] == nil || data["user_name"] == "" {
			return false
		}
		data["user_name"] = ""
		return true
	}
	if out.EventsRedacted, err = event.Redact(ctx, tx, "membership.requested", "user_id", u.ID, blank); err != nil {
		return err
	}
	n, err := report.RedactEvents(ctx, tx, u.ID, f.KeptIDs)
	out.EventsRedacted += n
	return err
}
