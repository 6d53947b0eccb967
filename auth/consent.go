package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/problem"
)

// consentRow is one consent given to a version of the privacy notice.
type consentRow struct {
	bun.BaseModel `bun:"table:consents"`

	ID      string    `bun:"id,pk"`
	UserID  string    `bun:"user_id"`
	Version string    `bun:"version"`
	At      time.Time `bun:"at"`
}

// PrivacyVersion is the version of the notice in force ("" when none is
// asked for).
func (s *Service) PrivacyVersion() string { return s.cfg.PrivacyVersion }

// consentDue says whether an account that consented to version (nil:
// never) must consent again.
func (s *Service) consentDue(version *string) bool {
	return s.cfg.PrivacyVersion != "" && (version == nil || *version != s.cfg.PrivacyVersion)
}

// checkConsent checks that version, sent as field, names the notice in
// force: a stale or absent version is a 422 naming the current one.
func (s *Service) checkConsent(field, version string) error {
	if s.cfg.PrivacyVersion == "" || version == s.cfg.PrivacyVersion {
		return nil
	}
	msg := "is required: consent to the privacy notice by sending its version, " + s.cfg.PrivacyVersion + " (GET /v1/privacy)"
	if version != "" {
		msg = "is not the privacy notice in force; read it again (GET /v1/privacy) and consent to version " + s.cfg.PrivacyVersion
	}
	return problem.Validation(api.FieldError{Field: field, Message: msg})
}

// consent records u's consent to version inside tx.
func (s *Service) consent(ctx context.Context, tx bun.Tx, u *User, version string) error {
	if version == "" {
		return nil
	}
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return err
	}
	row := &consentRow{ID: NewID(), UserID: u.ID, Version: version, At: now}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	u.PrivacyVersion = &version
	_, err = tx.NewUpdate().Model((*User)(nil)).Set("privacy_version = ?", version).Where("id = ?", u.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	return nil
}

// Consent records that p's owner consents to the notice in force, naming
// its version (a stale one is a 422). Consenting again to the same version
// changes nothing.
func (s *Service) Consent(ctx context.Context, p Principal, req api.ConsentRequest) (api.User, error) {
	if err := s.checkConsent("version", req.Version); err != nil {
		return api.User{}, err
	}
	var u *User
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if u, err = s.lockUser(ctx, tx, p.UserID); err != nil {
			return err
		}
		if !s.consentDue(u.PrivacyVersion) {
			return nil
		}
		return s.consent(ctx, tx, u, req.Version)
	})
	if err != nil {
		return api.User{}, fmt.Errorf("consent: %w", err)
	}
	return u.API(), nil
}

// Consents lists the consents userID gave, oldest first.
func (s *Service) Consents(ctx context.Context, userID string) ([]api.Consent, error) {
	var rows []consentRow
	if err := s.db.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	out := make([]api.Consent, len(rows))
	for i, r := range rows {
		out[i] = api.Consent{Version: r.Version, At: r.At.UTC()}
	}
	return out, nil
}

// lockUser loads the account behind p inside tx, row-locked on PostgreSQL;
// one that is gone or not active is a 401, as its tokens are.
func (s *Service) lockUser(ctx context.Context, tx bun.Tx, userID string) (*User, error) {
	return LockActive(ctx, s.db, tx, userID)
}

// LockActive loads the account userID inside tx, row-locked on PostgreSQL
// (SQLite's write transaction holds the database already), and refuses one
// that is gone or no longer active with the 401 its tokens get: a write
// whose request passed the token check before an erasure, suspension or
// deletion committed is refused rather than slipped in after it.
func LockActive(ctx context.Context, d *db.DB, tx bun.Tx, userID string) (*User, error) {
	u := new(User)
	err := d.ForUpdate(tx.NewSelect().Model(u).Where("id = ?", userID)).Scan(ctx)
	if err := mayWrite(u.Status, err); err != nil {
		return nil, err
	}
	return u, nil
}

// CheckActive reads, inside q, whether the account userID is active, with
// no lock (the caller serialises with what ends accounts otherwise), and
// refuses one that is not as LockActive does.
func CheckActive(ctx context.Context, q bun.IDB, userID string) error {
	var status string
	err := q.NewSelect().Table("users").Column("status").Where("id = ?", userID).Scan(ctx, &status)
	return mayWrite(status, err)
}

// LockWork takes, until tx ends, the lock that serialises what an account
// takes on (a claim, a membership) with what ends the account's access:
// a claim or a join takes it before it reads the account (and inserts a
// row that refers to it); a suspension, deletion or erasure takes it before
// it locks the account's row and ends those, so the two never wait for
// each other in a cycle, and one that comes after an end is refused.
// SQLite's write transactions are serial already.
func LockWork(ctx context.Context, d *db.DB, tx bun.Tx, userID string) error {
	return d.XactLock(ctx, tx, "claims:"+userID)
}

// RefuseInactive is CheckActive's answer for a status the caller read
// itself ("" when there is no such account).
func RefuseInactive(status string) error { return mayWrite(status, nil) }

// mayWrite is the answer to a read (err) of an account's status: nil for
// an active one; the 401 its tokens get for one gone or no longer active.
func mayWrite(status string, err error) error {
	switch {
	case err == nil && status == api.UserActive:
		return nil
	case err != nil && !db.IsNoRows(err):
		return fmt.Errorf("load user: %w", err)
	}
	return InvalidToken.New("the account of this token is not active")
}
