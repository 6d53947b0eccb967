package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/ratelimit"
)

// Config tunes the account service.
type Config struct {
	// RefreshTTL is how long a refresh token lives: 30 days by default.
	RefreshTTL time.Duration
	// RefreshGrace is how long after a refresh token was spent it may be
	// presented again without counting as reuse (two tabs refreshing at
	// once): 10 s by default. Each such presentation gets its own new
	// token in the same family.
	RefreshGrace time.Duration
	// LoginPerAccountIP, LoginPerIP and LoginPerAccount throttle login
	// attempts without a valid device token: per account and client
	// address, per client address, and per account over every address.
	// LoginPerDevice throttles attempts with one, per device token. See
	// throttleLogin; nil ones take DefaultLoginRules, in memory.
	LoginPerAccountIP ratelimit.Limiter
	LoginPerIP        ratelimit.Limiter
	LoginPerAccount   ratelimit.Limiter
	LoginPerDevice    ratelimit.Limiter
	// OnStaffCreated, when set, runs inside the transaction that creates a
	// staff account (the audit trail hooks in here).
	OnStaffCreated func(ctx context.Context, q bun.IDB, actor Principal, u *User) error
	// OnDeleted, when set, runs inside the transaction that marks an
	// account deleted (Web Push forgets its devices there).
	OnDeleted func(ctx context.Context, q bun.IDB, userID string) error
	// OnDeactivated, when set, runs inside the transaction that makes an
	// active account suspended or deleted (status, the new one), before
	// anything is appended to a stream: the app ends the account's claims
	// and revokes its org streams (org.Service.Deactivated).
	OnDeactivated func(ctx context.Context, tx bun.Tx, userID, status string) error
	// RevokeKey names users in access.revoked events (api.RevokeToken);
	// the same on every instance, and the feed's (realtime.Options).
	RevokeKey []byte
	// ResetPerAccount throttles password reset mail per account (by email,
	// whether an account has it or not): beyond it a request is answered
	// alike and no mail goes out. ResetPerIP throttles the requests of one
	// client address (429). Nil ones take DefaultResetRules, in memory.
	ResetPerAccount ratelimit.Limiter
	ResetPerIP      ratelimit.Limiter
	// PrivacyVersion is the version of the privacy notice in force: signup
	// must consent to it, and an account that has not consented to it has
	// consent due (see Principal.ConsentDue). "" asks for no consent.
	PrivacyVersion string
	// Reset makes password reset by email possible; nil refuses it (no
	// SMTP server: an admin makes a reset link instead, see ResetLink).
	Reset *ResetConfig
}

// Service runs accounts, sign-in and sessions.
type Service struct {
	db     *db.DB
	events *event.Log
	hasher *Hasher
	tokens *Tokens
	cfg    Config
	log    *slog.Logger
}

// NewService wires the service; account changes are announced through
// events. Zero Config fields take their defaults.
func NewService(d *db.DB, events *event.Log, h *Hasher, t *Tokens, cfg Config, log *slog.Logger) *Service {
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.RefreshGrace == 0 {
		cfg.RefreshGrace = 10 * time.Second
	}
	for _, l := range []struct {
		l    *ratelimit.Limiter
		rule ratelimit.Rule
	}{
		{&cfg.LoginPerAccountIP, DefaultLoginRules.AccountIP}, {&cfg.LoginPerIP, DefaultLoginRules.IP},
		{&cfg.LoginPerAccount, DefaultLoginRules.Account}, {&cfg.LoginPerDevice, DefaultLoginRules.Device},
		{&cfg.ResetPerAccount, DefaultResetRules.Account}, {&cfg.ResetPerIP, DefaultResetRules.IP},
	} {
		if *l.l == nil {
			*l.l = ratelimit.NewMemory(l.rule, nil)
		}
	}
	return &Service{db: d, events: events, hasher: h, tokens: t, cfg: cfg, log: log}
}

// Tokens is the access-token issuer and verifier the service uses.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Signup creates a volunteer account and signs it in. The person must
// consent to the privacy notice in force by naming its version; the
// consent is kept with its time.
func (s *Service) Signup(ctx context.Context, req api.SignupRequest) (api.AuthResponse, error) {
	if err := checkAccount(req.Password, req.RegionCode); err != nil {
		return api.AuthResponse{}, err
	}
	if err := s.checkConsent("privacy_version", req.PrivacyVersion); err != nil {
		return api.AuthResponse{}, err
	}
	hash, err := s.hash(ctx, req.Password)
	if err != nil {
		return api.AuthResponse{}, err
	}
	// The account and its first session commit together: an answer lost
	// to a failure never leaves an account behind that the retry would
	// find "taken".
	var out api.AuthResponse
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.createUser(ctx, tx, req.Email, hash, req.Name, api.RoleVolunteer, req.RegionCode, req.Language)
		if err != nil {
			return err
		}
		if err := s.consent(ctx, tx, u, req.PrivacyVersion); err != nil {
			return err
		}
		if err := s.seen(ctx, tx, u.ID); err != nil {
			return err
		}
		out = api.AuthResponse{User: u.API()}
		if out.Tokens, err = s.issue(ctx, tx, u, NewID()); err != nil {
			return err
		}
		out.DeviceToken, err = s.issueDevice(ctx, tx, u, nil)
		return err
	})
	if err != nil {
		return api.AuthResponse{}, fmt.Errorf("signup: %w", err)
	}
	return out, nil
}

// maxLoginPassword bounds the password bytes a login hashes; longer ones
// cannot be right (the policy allows 256 characters, at most 1024 bytes).
const maxLoginPassword = 1024

// invalidCredentials is the one answer to every failed login, whatever failed.
func invalidCredentials() error {
	return InvalidCredentials.New("the email or password is wrong")
}

// Login checks credentials. An unknown email costs the same hashing work as a
// wrong password, and the answer never tells which was wrong. The attempt is
// throttled first (see throttleLogin), in the trusted lane when it carries a
// valid device token of the account. A successful login answers a device
// token for the client's next login: the one it sent, rotated, or a new one.
func (s *Service) Login(ctx context.Context, req api.LoginRequest, clientIP string) (api.AuthResponse, error) {
	device, err := s.trustedDevice(ctx, req.Email, req.DeviceToken)
	if err != nil {
		return api.AuthResponse{}, err
	}
	email, ok := normalizeEmail(req.Email)
	if _, err := s.throttleLogin(ctx, loginEmail(req.Email), clientIP, device); err != nil {
		return api.AuthResponse{}, err
	}
	u, found := (*User)(nil), false
	if ok && len(req.Password) <= maxLoginPassword {
		var err error
		if u, found, err = s.userByEmail(ctx, email); err != nil {
			return api.AuthResponse{}, err
		}
	}
	if !found || u.Erased() {
		if err := s.hasher.VerifyDummy(ctx, req.Password); err != nil {
			return api.AuthResponse{}, busy(err)
		}
		return api.AuthResponse{}, invalidCredentials()
	}
	right, err := s.hasher.Verify(ctx, req.Password, u.PasswordHash)
	if err != nil {
		return api.AuthResponse{}, busy(err)
	}
	if !right || u.Status != api.UserActive {
		return api.AuthResponse{}, invalidCredentials()
	}
	s.rehash(ctx, u, req.Password)
	return s.signIn(ctx, u, device)
}

// rehash upgrades a stored hash made with weaker parameters; failure only
// costs the upgrade, so it is logged and not returned. Only the hash that
// was checked is replaced: a password changed or reset, or an account
// erased, meanwhile keeps what that change wrote.
func (s *Service) rehash(ctx context.Context, u *User, password string) {
	if !s.hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	h, err := s.hasher.Hash(ctx, password)
	if err == nil {
		_, err = s.db.NewUpdate().Model((*User)(nil)).Set("password_hash = ?", h).
			Where("id = ? AND password_hash = ? AND erased_at IS NULL", u.ID, u.PasswordHash).Exec(ctx)
	}
	if err != nil {
		s.log.WarnContext(ctx, "password rehash failed", slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
}

// signIn starts a new session family for u and gives its client a device
// token (device is the valid one it came with, if any). The answer says
// whether consent to the privacy notice is due.
func (s *Service) signIn(ctx context.Context, u *User, device *deviceToken) (api.AuthResponse, error) {
	out := api.AuthResponse{User: u.API(), ConsentDue: s.consentDue(u.PrivacyVersion)}
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if active, err := s.lockLive(ctx, tx, u.ID); err != nil {
			return err
		} else if !active {
			return invalidCredentials() // suspended, deleted or erased since its password was checked
		}
		var err error
		if out.Tokens, err = s.issue(ctx, tx, u, NewID()); err != nil {
			return err
		}
		if err := s.seen(ctx, tx, u.ID); err != nil {
			return err
		}
		out.DeviceToken, err = s.issueDevice(ctx, tx, u, device)
		return err
	})
	if err != nil {
		return api.AuthResponse{}, fmt.Errorf("sign in: %w", err)
	}
	return out, nil
}

// Authenticate verifies an access token and loads its user, who must still
// be active: a suspended or deleted account's tokens stop at once. The role
// and region come from the database, the truth, not from the token.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	p, _, err := s.AuthenticateToken(ctx, token)
	return p, err
}

// AuthenticateToken is Authenticate that also tells when the token expires
// (the feed closes a connection then unless it gets a fresh token).
func (s *Service) AuthenticateToken(ctx context.Context, token string) (Principal, time.Time, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return Principal{}, time.Time{}, InvalidToken.New("the access token is missing, invalid or expired")
	}
	p, err := s.principal(ctx, claims.Subject)
	return p, claims.ExpiresAt.Time, err
}

// VerifyToken checks an access token's signature and expiry only, without
// the database: the caller must check the account behind it (active, its
// role and region) before serving anything. The feed's hello does, in the
// one statement that also reads the user's streams. A refused token is an
// InvalidToken problem.
func (s *Service) VerifyToken(token string) (userID string, expires time.Time, err error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return "", time.Time{}, InvalidToken.New("the access token is missing, invalid or expired")
	}
	return claims.Subject, claims.ExpiresAt.Time, nil
}

// AccountQuery selects the columns status, role and region_code (NULL for
// national accounts) of userID's account: no row when there is none. It
// lets a caller read the account within a larger statement of its own (the
// feed's hello reads it with the memberships and the user's own stream
// head, in one snapshot); whether the account may be served is the
// caller's to check (status api.UserActive), as principal does.
func AccountQuery(q bun.IDB, userID string) *bun.SelectQuery {
	return q.NewSelect().Model((*User)(nil)).Column("status", "role", "region_code").Where("id = ?", userID)
}

// principal loads the active account behind a token's subject.
func (s *Service) principal(ctx context.Context, userID string) (Principal, error) {
	u := new(User)
	err := s.db.NewSelect().Model(u).Column("id", "role", "region_code", "status", "privacy_version").Where("id = ?", userID).Scan(ctx)
	if db.IsNoRows(err) || err == nil && u.Status != api.UserActive {
		return Principal{}, InvalidToken.New("the account of this token is not active")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	return Principal{UserID: u.ID, Role: u.Role, Region: u.Region(), ConsentDue: s.consentDue(u.PrivacyVersion)}, nil
}

// lockLive locks userID's row inside tx first, as a sign-in's own update
// of it (seen) would, and says whether the account is active. A
// suspension, deletion or erasure locks the row and then the account's
// tokens; a sign-in or refresh that took the token rows first and the
// account's row last waited for it in a cycle (PostgreSQL ended one of the
// two with a deadlock). Now one runs wholly before the other, and a
// sign-in after one is refused: no session outlives the change.
func (s *Service) lockLive(ctx context.Context, tx bun.Tx, userID string) (bool, error) {
	var status string
	err := s.db.ForNoKeyUpdate(tx.NewSelect().Model((*User)(nil)).Column("status").Where("id = ?", userID)).Scan(ctx, &status)
	if err != nil && !db.IsNoRows(err) {
		return false, fmt.Errorf("lock user: %w", err)
	}
	return err == nil && status == api.UserActive, nil
}

// seen records that userID signed in or refreshed now (the inactive-account
// retention counts from it).
func (s *Service) seen(ctx context.Context, tx bun.Tx, userID string) error {
	now, err := s.db.Now(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := tx.NewUpdate().Model((*User)(nil)).Set("last_seen_at = ?", now).Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("record sign-in: %w", err)
	}
	return nil
}
