package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/mail"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/ratelimit"
	"github.com/jarimu/jarimu/textrule"
)

// ResetTTL is how long a password reset link works: 30 minutes.
const ResetTTL = 30 * time.Minute

// ResetConfig makes password reset by email possible.
type ResetConfig struct {
	// PublicURL is where people reach the console (JARIMU_PUBLIC_URL), the
	// base of reset links.
	PublicURL string
	// Kick wakes the mail worker once a reset mail is queued.
	Kick func()
	// MinDuration is the least time every reset request takes, whether an
	// account has the email or not, so that the time of the answer does
	// not tell: 400 ms by default.
	MinDuration time.Duration
	// Sealer keeps the link out of the queued mail (the outbox holds a
	// link to ask for a new one in its place, and the link sealed): the
	// outbox's, with the same key.
	Sealer *mail.Sealer
}

// DefaultResetRules are the reset throttles: per account (by email), 3
// mails then one per 20 minutes, so nobody can flood a mailbox (beyond it
// the answer is the same and no mail goes out); per client address, 20
// requests then one every 3 s (429).
var DefaultResetRules = struct{ Account, IP ratelimit.Rule }{
	Account: ratelimit.Rule{Burst: 3, Every: 20 * time.Minute},
	IP:      ratelimit.Rule{Burst: 20, Every: 3 * time.Second},
}

// resetRow is a password reset link: only the SHA-256 of its token is kept.
type resetRow struct {
	bun.BaseModel `bun:"table:password_resets"`

	ID        string     `bun:"id,pk"`
	UserID    string     `bun:"user_id"`
	TokenHash string     `bun:"token_hash"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

// resetAccepted is the one answer to every reset request that is served.
var resetAccepted = api.PasswordResetAccepted{Status: "accepted",
	Detail: "if an account has this email, a link to choose a new password is on its way; it works for 30 minutes, once"}

// ResetEnabled says whether reset by email is served (an SMTP server is set).
func (s *Service) ResetEnabled() bool { return s.cfg.Reset != nil }

// RequestReset mails a password reset link to the account with email, if
// there is an active one, and answers alike either way, in about the same
// time (at least MinDuration). Without an SMTP server it is refused for
// every email alike. A malformed email is a 422; too many requests from
// one address a 429; too many for one account go unanswered by mail.
func (s *Service) RequestReset(ctx context.Context, email, clientIP string) (api.PasswordResetAccepted, error) {
	if s.cfg.Reset == nil {
		return api.PasswordResetAccepted{}, ResetByAdmin.New("this server sends no mail; ask an administrator of this Jarimu for a password reset link")
	}
	stored, err := textrule.Email(email)
	if err != nil {
		return api.PasswordResetAccepted{}, problem.Validation(api.FieldError{Field: "email", Message: err.Error()})
	}
	if err := s.allowReset(ctx, s.cfg.ResetPerIP, addressKey(clientIP)); err != nil {
		return api.PasswordResetAccepted{}, err
	}
	start := time.Now()
	defer s.pad(ctx, start)
	if err := s.allowReset(ctx, s.cfg.ResetPerAccount, accountKey(stored)); err != nil {
		s.log.InfoContext(ctx, "password reset mail throttled", slog.String("account_key", accountKey(stored)))
		return resetAccepted, nil
	}
	u, found, err := s.userByEmail(ctx, stored)
	if err != nil {
		return api.PasswordResetAccepted{}, err
	}
	if !found || u.Status != api.UserActive || u.Erased() {
		return resetAccepted, nil
	}
	errInactive := errors.New("account no longer active")
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The account's row, locked: a password change or a suspension
		// (which end the links and withdraw their mail) comes wholly
		// before this link or wholly after it.
		locked := new(User)
		if err := s.db.ForUpdate(tx.NewSelect().Model(locked).Column("status").Where("id = ?", u.ID)).Scan(ctx); err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		if locked.Status != api.UserActive {
			return errInactive
		}
		token, err := s.newReset(ctx, tx, u)
		if err != nil {
			return err
		}
		// The mail is queued with a link to ask again in place of the
		// reset link, which is sealed: the outbox holds no working link.
		askAgain := strings.TrimRight(s.cfg.Reset.PublicURL, "/") + "/#/forgot"
		m, err := mail.PasswordReset(u.Language, u.Name, askAgain, int(ResetTTL/time.Minute))
		if err != nil {
			return err
		}
		m.To, m.UserID = u.Email, u.ID
		if err := s.cfg.Reset.Sealer.Seal(&m, askAgain, ResetLink(s.cfg.Reset.PublicURL, token)); err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		return mail.Enqueue(ctx, tx, m, now, ResetTTL)
	})
	if errors.Is(err, errInactive) {
		return resetAccepted, nil
	}
	if err != nil {
		return api.PasswordResetAccepted{}, fmt.Errorf("password reset: %w", err)
	}
	if s.cfg.Reset.Kick != nil {
		s.cfg.Reset.Kick()
	}
	return resetAccepted, nil
}

// pad waits until MinDuration has passed since start (or ctx ends).
func (s *Service) pad(ctx context.Context, start time.Time) {
	d := s.cfg.Reset.MinDuration
	if d == 0 {
		d = 400 * time.Millisecond
	}
	t := time.NewTimer(d - time.Since(start))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// allowReset takes one request from l's bucket for key: a 429 when it is
// empty. A throttle that cannot be reached lets the request through.
func (s *Service) allowReset(ctx context.Context, l ratelimit.Limiter, key string) error {
	ok, retry, err := l.Allow(ctx, "reset:"+key)
	if err != nil {
		s.log.WarnContext(ctx, "reset throttle unavailable; allowing the request", slog.String("error", err.Error()))
		return nil
	}
	if !ok {
		p := problem.Errorf(problem.RateLimited, "too many password reset requests; wait before trying again")
		p.RetryAfter = retry
		return p
	}
	return nil
}

// newReset stores a new reset link for u inside tx and returns its token.
func (s *Service) newReset(ctx context.Context, tx bun.Tx, u *User) (string, error) {
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return "", err
	}
	token := newOpaqueToken()
	row := &resetRow{ID: NewID(), UserID: u.ID, TokenHash: hashToken(token), CreatedAt: now, ExpiresAt: now.Add(ResetTTL)}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return "", fmt.Errorf("store reset link: %w", err)
	}
	return token, nil
}

// ResetLink is the console link that carries token as its token query
// parameter: the console opens its reset screen, takes the token and
// removes it from the address bar.
func ResetLink(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/?token=" + url.QueryEscape(token) + "#/reset-password"
}

func invalidReset() error {
	return InvalidResetToken.New("the reset link is unknown, expired or used already; ask for a new one")
}

// ConfirmReset sets the password of the account whose reset link token is,
// once: the link is spent, and every session, trusted device and other
// reset link of the account ends. A token unknown, spent or past its 30
// minutes, or of an account no longer active, is a 401 invalid-reset-token
// (the same for all).
func (s *Service) ConfirmReset(ctx context.Context, req api.PasswordResetConfirm) error {
	if err := problem.Validate(&req); err != nil {
		return err
	}
	if err := CheckPassword(req.Password); err != nil {
		return problem.Validation(api.FieldError{Field: "password", Message: passwordMessage(err)})
	}
	if len(req.Token) > 256 {
		return invalidReset()
	}
	hash, err := s.hash(ctx, req.Password)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The account's row is locked before the link's, in the order of a
		// suspension, erasure or password change, which lock the account
		// and then end its links: the other order deadlocked with them.
		find := func(lock bool) (*resetRow, error) {
			row := new(resetRow)
			q := tx.NewSelect().Model(row).Where("token_hash = ?", hashToken(req.Token))
			if lock {
				q = s.db.ForUpdate(q)
			}
			err := q.Scan(ctx)
			if db.IsNoRows(err) {
				return nil, invalidReset()
			}
			if err != nil {
				return nil, fmt.Errorf("load reset link: %w", err)
			}
			return row, nil
		}
		row, err := find(false)
		if err != nil {
			return err
		}
		u, err := s.lockUser(ctx, tx, row.UserID)
		switch {
		case problem.Is(err, "invalid-token"):
			return invalidReset() // suspended, deleted or erased
		case err != nil:
			return err
		case u.Erased():
			return invalidReset()
		}
		if row, err = find(true); err != nil {
			return err
		}
		now, err := s.db.Now(ctx, tx)
		if err != nil {
			return err
		}
		if row.UsedAt != nil || !now.Before(row.ExpiresAt) || row.UserID != u.ID {
			return invalidReset()
		}
		if err := s.setPassword(ctx, tx, u, hash); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Actor{ID: u.ID, Role: u.Role}, "user.password_reset", "user", u.ID, nil, nil)
	})
	if err != nil {
		return fmt.Errorf("password reset: %w", err)
	}
	return nil
}

// AdminResetLink makes a reset link for the active account with email,
// for an administrator to hand over when the server sends no mail (`jarimu
// admin reset-password`): the link is returned once and only its hash is
// kept. It is audited as the system's act.
func (s *Service) AdminResetLink(ctx context.Context, email, publicURL string) (string, error) {
	u, found, err := s.userByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	if !found || u.Erased() {
		return "", problem.Errorf(problem.NotFound, "no account has this email")
	}
	if u.Status != api.UserActive {
		return "", AccountNotActive.New("the account is %s; reactivate it first", u.Status)
	}
	var link string
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Read again under the account's lock: a link made as a
		// suspension commits would outlive it (a suspension ends the links
		// it finds) and work again after a reactivation.
		if _, err := s.lockUser(ctx, tx, u.ID); problem.Is(err, "invalid-token") {
			return AccountNotActive.New("the account is no longer active; reactivate it first")
		} else if err != nil {
			return err
		}
		token, err := s.newReset(ctx, tx, u)
		if err != nil {
			return err
		}
		link = ResetLink(publicURL, token)
		return audit.Record(ctx, tx, audit.System, "user.reset_link", "user", u.ID, nil, nil)
	})
	if err != nil {
		return "", fmt.Errorf("reset link: %w", err)
	}
	return link, nil
}
