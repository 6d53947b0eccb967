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
)

// Claim is a claim row. Version rises with every change, so a client can
// make a change conditional on the claim it saw.
type Claim struct {
	bun.BaseModel `bun:"table:claims,alias:c"`

	ID             string     `bun:"id,pk"`
	TaskID         string     `bun:"task_id"`
	UserID         string     `bun:"user_id"`
	Status         string     `bun:"status"`
	LeaseExpiresAt time.Time  `bun:"lease_expires_at"`
	Warned         bool       `bun:"warned"`
	AssignedBy     *string    `bun:"assigned_by"`
	Outcome        *string    `bun:"outcome"`
	Note           string     `bun:"note"`
	Version        int        `bun:"version"`
	CreatedAt      time.Time  `bun:"created_at"`
	EndedAt        *time.Time `bun:"ended_at"`
	EndReason      *string    `bun:"end_reason"` // set when the holder lost access (api.ClaimEndReasons)
}

// apiAt is the claim as the API shows it at now: an active claim whose lease
// has passed shows as expired even before the sweeper marks it.
func (c *Claim) apiAt(now time.Time) api.Claim {
	out := api.Claim{ID: c.ID, TaskID: c.TaskID, UserID: c.UserID, Status: c.Status,
		LeaseExpiresAt: c.LeaseExpiresAt.UTC(), AssignedBy: c.AssignedBy, Outcome: c.Outcome, Note: c.Note,
		Version: c.Version, CreatedAt: c.CreatedAt.UTC(), EndedAt: utc(c.EndedAt), EndReason: c.EndReason}
	if c.Status == api.ClaimActive && !now.Before(c.LeaseExpiresAt) {
		out.Status = api.ClaimExpired
	}
	return out
}

// holder is who would hold a claim: their role and region decide what they
// may take.
type holder struct {
	id, role, region string
}

// Claim takes a free slot of a task for the caller.
func (s *Service) Claim(ctx context.Context, p auth.Principal, taskID string) (api.Claim, error) {
	return s.take(ctx, taskID, holder{p.UserID, p.Role, p.Region}, nil, false)
}

// Assign gives a slot of a task to an active member (the task's
// coordinators; covering officers for the national pool). The member is told
// on their stream (assignment.created). Whether the caller manages the task
// is decided before the assignee is looked up, so a caller who may not
// assign learns nothing about accounts (and take checks it again, with the
// rest, inside its transaction).
func (s *Service) Assign(ctx context.Context, p auth.Principal, taskID, userID string) (api.Claim, error) {
	if err := s.mayAssign(ctx, p, taskID); err != nil {
		return api.Claim{}, err
	}
	if !api.ValidID(userID) {
		return api.Claim{}, problem.Validation(api.FieldError{Field: "user_id", Message: "no such active user"})
	}
	u, err := s.users.UserByID(ctx, userID)
	if err != nil || u.Status != api.UserActive {
		return api.Claim{}, problem.Validation(api.FieldError{Field: "user_id", Message: "no such active user"})
	}
	return s.take(ctx, taskID, holder{u.ID, u.Role, u.Region()}, &p, true)
}

// mayAssign refuses a caller who may not manage the task: 404 when they
// cannot see it, 403 when they only see it.
func (s *Service) mayAssign(ctx context.Context, p auth.Principal, taskID string) error {
	t, err := s.load(ctx, s.db, taskID, false)
	if err != nil {
		return err
	}
	acc, err := s.accessOf(ctx, s.db, p, t)
	switch {
	case err != nil:
		return err
	case !acc.see:
		return notFound()
	case !acc.manage:
		return problem.Errorf(problem.Forbidden, "only the task's coordinators and covering officers assign it")
	}
	return nil
}

// take is claim and assignment: every check, then the slot is taken with a
// guarded update, so whatever the concurrency and whichever instance serves
// the request, active+completed claims never exceed the slots and one user
// never holds two active claims on one task (a unique index too).
func (s *Service) take(ctx context.Context, taskID string, h holder, by *auth.Principal, assign bool) (api.Claim, error) {
	var out api.Claim
	err := s.log.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := lockHolder(ctx, tx, s.db, h.id); err != nil {
			return err
		}
		t, now, err := s.loadClocked(ctx, tx, taskID)
		if err != nil {
			return err
		}
		if err := s.mayTake(ctx, tx, t, h, by, now); err != nil {
			return err
		}
		if err := s.checkClaims(ctx, tx, t.ID, h.id, now); err != nil {
			return err
		}
		c, err := s.takeSlot(ctx, tx, t, h.id, by, now)
		if err != nil {
			return err
		}
		out = c.apiAt(now)
		return s.announceTake(ctx, tx, t, c, out, assign)
	})
	if err != nil {
		return api.Claim{}, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

// lockHolder serialises the claims of one user on PostgreSQL, so the
// active-claim limit holds when one volunteer claims several tasks at once,
// and a claim taken while the user's membership ends is either seen and
// ended by that change or refused after it (SQLite transactions are serial
// already).
func lockHolder(ctx context.Context, tx bun.Tx, d *db.DB, userID string) error {
	return auth.LockWork(ctx, d, tx, userID)
}

// mayTake applies the typed refusals: not visible (404), org not accredited,
// not a member, outside the region, closed, not started.
func (s *Service) mayTake(ctx context.Context, tx bun.Tx, t *Task, h holder, by *auth.Principal, now time.Time) error {
	viewer := auth.Principal{UserID: h.id, Role: h.role, Region: h.region}
	if by != nil {
		viewer = *by
	}
	var o *org.Org // read with the claimant's membership when it can be
	var acc access
	var err error
	if t.OrgID != nil && by == nil {
		o, acc, err = s.claimantAccess(ctx, tx, viewer, *t.OrgID)
	} else {
		acc, err = s.accessOf(ctx, tx, viewer, t)
	}
	if err != nil {
		return err
	}
	switch {
	case !acc.see:
		return notFound()
	case by != nil && !acc.manage:
		return problem.Errorf(problem.Forbidden, "only the task's coordinators and covering officers assign it")
	}
	if t.OrgID != nil {
		if o == nil {
			if o, err = s.orgs.AccreditedAt(ctx, tx, *t.OrgID, now); err != nil {
				return err
			}
		} else if err := org.CheckAccredited(o, now); err != nil {
			return err
		}
		active := acc.member // the claimant's own membership, already read
		if by != nil {
			if _, active, err = s.orgs.Role(ctx, tx, *t.OrgID, h.id); err != nil {
				return err
			}
		}
		if !active {
			return org.NotAMember.New("only active members of this organisation take its tasks")
		}
	} else if h.role != api.RoleVolunteer {
		return org.NotAMember.New("national-pool tasks are taken by volunteers")
	}
	// The holder's account is read again inside the claims' lock
	// (lockHolder), which a suspension, deletion or erasure takes too
	// before it ends the account's claims: it has committed, and the claim
	// is refused, or it ends this claim after it. A claimant's own read of
	// an org task's membership read it already (claimantAccess).
	if t.OrgID == nil || by != nil {
		if err := auth.CheckActive(ctx, tx, h.id); err != nil {
			if by != nil && problem.Is(err, "invalid-token") {
				return problem.Validation(api.FieldError{Field: "user_id", Message: "no such active user"})
			}
			return err
		}
	}
	if t.RegionCode != nil && !(h.region == t.Region() || len(h.region) > len(t.Region()) && h.region[:len(t.Region())] == t.Region()) {
		return auth.OutsideRegion.New("this task is for volunteers of region %s", t.Region())
	}
	return checkOpen(t, now)
}

func checkOpen(t *Task, now time.Time) error {
	switch {
	case t.Status != api.TaskOpen:
		return Closed.New("this task is closed")
	case t.DueAt != nil && !now.Before(*t.DueAt):
		return Closed.New("this task was due at %s", t.DueAt.UTC().Format(time.RFC3339))
	case t.StartsAt != nil && now.Before(*t.StartsAt):
		return NotStarted.New("this task opens at %s", t.StartsAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func firstErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// claimantAccess is accessOf for a claimant of an org task, with the org
// read in the same statement as the membership (one round trip).
func (s *Service) claimantAccess(ctx context.Context, tx bun.Tx, p auth.Principal, orgID string) (*org.Org, access, error) {
	o, role, active, err := s.orgs.MemberAndOrg(ctx, tx, orgID, p.UserID)
	if err != nil {
		if problem.KindOf(err) == problem.NotFound {
			return nil, access{}, notFound()
		}
		return nil, access{}, err
	}
	switch {
	case active:
		return o, access{see: true, member: true, manage: role == api.RoleCoordinator}, nil
	case (p.IsAdmin() || p.IsOfficer()) && p.Covers(o.Region()):
		return o, access{see: true, manage: true}, nil
	}
	return o, access{}, nil
}

// checkClaims reads in one statement the task's overdue active claims and
// the claimant's active ones. Overdue claims are expired first (locked, see
// expireOverdue), so that a slot is never held by a sweeper that is late;
// then a second active claim on the task and a claim beyond the holder's
// limit are refused.
func (s *Service) checkClaims(ctx context.Context, tx bun.Tx, taskID, userID string, now time.Time) error {
	var rows []struct {
		TaskID         string    `bun:"task_id"`
		UserID         string    `bun:"user_id"`
		LeaseExpiresAt time.Time `bun:"lease_expires_at"`
	}
	err := tx.NewSelect().Table("claims").Column("task_id", "user_id", "lease_expires_at").
		Where("status = 'active'").
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("task_id = ? AND lease_expires_at <= ?", taskID, now).
				WhereOr("user_id = ? AND lease_expires_at > ?", userID, now)
		}).Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("active claims: %w", err)
	}
	held := 0
	for _, r := range rows {
		if !r.LeaseExpiresAt.After(now) {
			if r.TaskID == taskID {
				if err := s.expireOverdue(ctx, tx, taskID, now); err != nil {
					return err
				}
				break
			}
		}
	}
	for _, r := range rows {
		if r.UserID != userID || !r.LeaseExpiresAt.After(now) {
			continue
		}
		if r.TaskID == taskID {
			return AlreadyClaimed.New("you already hold a claim on this task")
		}
		held++
	}
	if held >= s.cfg.MaxActiveClaims {
		return ClaimLimit.New("a volunteer holds at most %d active claims; complete or release one first", s.cfg.MaxActiveClaims)
	}
	return nil
}

// takeSlot is the compare-and-set: the slot counter rises only while below
// the slots, and the claim row is written in the same transaction.
func (s *Service) takeSlot(ctx context.Context, tx bun.Tx, t *Task, userID string, by *auth.Principal, now time.Time) (*Claim, error) {
	// RETURNING: t was read before other claims changed the counter, and
	// the task.updated event must tell the count this claim made.
	err := tx.NewUpdate().Model((*Task)(nil)).Set("slots_taken = slots_taken + 1").Set("updated_at = ?", now).
		Where("id = ? AND status = 'open' AND slots_taken < slots", t.ID).Returning("slots_taken").Scan(ctx, &t.SlotsTaken)
	if db.IsNoRows(err) {
		return nil, s.slotRefusal(ctx, tx, t.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("take slot: %w", err)
	}
	t.UpdatedAt = now
	c := &Claim{ID: auth.NewID(), TaskID: t.ID, UserID: userID, Status: api.ClaimActive,
		LeaseExpiresAt: now.Add(time.Duration(t.LeaseMinutes) * time.Minute), Version: 1, CreatedAt: now}
	if by != nil {
		c.AssignedBy = &by.UserID
	}
	if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, AlreadyClaimed.New("you already hold a claim on this task")
		}
		return nil, fmt.Errorf("insert claim: %w", err)
	}
	return c, nil
}

// slotRefusal says why the guarded update took no slot: every slot is
// taken, or the task was closed meanwhile (on PostgreSQL the claim read the
// task before a close committed while it waited for the row; on SQLite it
// cannot happen, and the read costs only the refusal).
func (s *Service) slotRefusal(ctx context.Context, tx bun.Tx, taskID string) error {
	var status string
	if err := tx.NewSelect().Model((*Task)(nil)).Column("status").Where("id = ?", taskID).Scan(ctx, &status); err != nil {
		return fmt.Errorf("read task status: %w", err)
	}
	if status != api.TaskOpen {
		return Closed.New("this task is closed")
	}
	return Full.New("every slot of this task is taken")
}

// announceTake tells viewers the slot count and an assignee their task.
func (s *Service) announceTake(ctx context.Context, tx bun.Tx, t *Task, c *Claim, view api.Claim, assign bool) error {
	if err := publish(ctx, tx, "task.updated", t); err != nil {
		return err
	}
	if !assign {
		return nil
	}
	_, err := event.Append(ctx, tx, org.UserStream(c.UserID), "assignment.created",
		map[string]any{"claim": view, "task": t.API()})
	if err != nil || s.cfg.OnAssigned == nil {
		return err
	}
	return s.cfg.OnAssigned(ctx, tx, view, t.API())
}

// expireOverdue ends the task's active claims whose lease has passed, so a
// slot is never held by a sweeper that is late. On PostgreSQL it first locks
// them all, in id order, before it touches the task: an expiry running
// beside it (a sweeper) locks one claim and then the task, and would
// deadlock with a transaction that held the task while waiting for that
// claim.
func (s *Service) expireOverdue(ctx context.Context, tx bun.Tx, taskID string, now time.Time) error {
	var ids []string
	q := tx.NewSelect().Model((*Claim)(nil)).Column("id").
		Where("task_id = ? AND status = 'active' AND lease_expires_at <= ?", taskID, now).OrderExpr("id")
	err := s.db.ForUpdate(q).Scan(ctx, &ids)
	if err != nil {
		return fmt.Errorf("overdue claims: %w", err)
	}
	for _, id := range ids {
		if _, err := expire(ctx, tx, s.db, id, now); err != nil {
			return err
		}
	}
	return nil
}

// ForgetNotes empties, inside q, the notes userID wrote completing claims
// (an erasure: free text may say anything about them); the outcomes stay,
// as the tasks' record. It answers how many notes it emptied.
func ForgetNotes(ctx context.Context, q bun.IDB, userID string) (int64, error) {
	res, err := q.NewUpdate().Model((*Claim)(nil)).Set("note = ''").Where("user_id = ? AND note <> ''", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("forget claim notes: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
