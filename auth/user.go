package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
	"github.com/jarimu/jarimu/textrule"
)

// User is an account row.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           string    `bun:"id,pk"`
	Email        string    `bun:"email"`
	Name         string    `bun:"name"`
	PasswordHash string    `bun:"password_hash"`
	Role         string    `bun:"role"`
	RegionCode   *string   `bun:"region_code"`
	Status       string    `bun:"status"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
	// Language is "id" or "en" (mail and the console).
	Language string `bun:"language"`
	// PrivacyVersion is the notice version last consented to (nil: never).
	PrivacyVersion *string `bun:"privacy_version"`
	// LastSeenAt is the last sign-in or refresh (nil: none since it was
	// kept); the inactive-account retention reads it.
	LastSeenAt *time.Time `bun:"last_seen_at"`
	// ErasedAt is set once the account is erased (see Erase).
	ErasedAt *time.Time `bun:"erased_at"`
}

// API is the user as the API shows it (never the password hash). An erased
// account shows status "erased".
func (u *User) API() api.User {
	out := api.User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role,
		RegionCode: u.RegionCode, RegionName: region.NameOf(u.RegionCode), Status: u.Status, Language: u.Language, PrivacyVersion: u.PrivacyVersion,
		CreatedAt: u.CreatedAt.UTC()}
	if out.Language == "" {
		out.Language = api.Languages[0]
	}
	if u.ErasedAt != nil {
		out.Status = api.UserErased
	}
	return out
}

// Erased reports whether the account was erased.
func (u *User) Erased() bool { return u.ErasedAt != nil }

// Region is the user's region code, "" for national.
func (u *User) Region() string {
	if u.RegionCode == nil {
		return ""
	}
	return *u.RegionCode
}

// normalizeEmail is the form an address is stored and looked up in
// (textrule.Email: lower-cased, the domain in its IDNA ASCII form), so
// "Ana@Example.org" and "ana@example.org" are one account, and so are
// "ana@bücher.example" and "ana@xn--bcher-kva.example". ok is false for an
// address no account can have.
func normalizeEmail(s string) (email string, ok bool) {
	email, err := textrule.Email(s)
	return email, err == nil
}

// loginEmail is the form of an email a login is throttled and looked up
// by: as stored when it is a valid address, else lower case (an invalid
// one names no account, but is throttled all the same).
func loginEmail(s string) string {
	if email, ok := normalizeEmail(s); ok {
		return email
	}
	return strings.ToLower(s)
}

// NewID returns a new time-ordered (v7) UUID string.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// checkAccount validates what needs more than the request's own Validate:
// the password policy and the region code.
func checkAccount(password string, regionCode *string) error {
	var c api.Check
	if err := CheckPassword(password); err != nil {
		c.Fail("password", "%s", passwordMessage(err))
	}
	if regionCode != nil {
		if err := region.Validate(*regionCode); err != nil {
			c.Fail("region_code", "%s", region.Message(*regionCode, "must be a Kemendagri province or regency code, or null for national"))
		}
	}
	if !c.OK() {
		return problem.Validation(c.Errors...)
	}
	return nil
}

func passwordMessage(err error) string {
	switch {
	case errors.Is(err, ErrPasswordTooShort):
		return "must be at least 10 characters"
	case errors.Is(err, ErrPasswordTooLong):
		return "must be at most 256 characters"
	case errors.Is(err, ErrPasswordCommon):
		return "is too common; choose another"
	}
	return "must be valid text without control characters"
}

// hash turns the hasher's busy signal into a 503 problem.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	h, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return "", busy(err)
	}
	return h, nil
}

func busy(err error) error {
	if errors.Is(err, ErrBusy) {
		p := Busy.New("too many sign-ins at once; retry shortly")
		p.RetryAfter = time.Second
		return p
	}
	return err
}

// createUser inserts a new account with an already hashed password (hash
// before the transaction: argon2id takes tens of milliseconds, no lock
// should wait for it); a taken email is a 409.
func (s *Service) createUser(ctx context.Context, q bun.IDB, email, hash, name, role string, regionCode *string, lang string) (*User, error) {
	now, err := s.db.Now(ctx, q)
	if err != nil {
		return nil, err
	}
	stored, err := textrule.Email(email)
	if err != nil {
		return nil, problem.Validation(api.FieldError{Field: "email", Message: err.Error()})
	}
	if lang == "" {
		lang = api.Languages[0]
	}
	u := &User{ID: NewID(), Email: stored, Name: name, PasswordHash: hash, Role: role,
		RegionCode: regionCode, Status: api.UserActive, CreatedAt: now, UpdatedAt: now, Language: lang}
	if _, err := q.NewInsert().Model(u).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, EmailTaken.New("an account with this email already exists")
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByID loads an account; a missing one is a 404.
func (s *Service) UserByID(ctx context.Context, id string) (*User, error) {
	u := new(User)
	err := s.db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	if db.IsNoRows(err) {
		return nil, problem.Errorf(problem.NotFound, "no such user")
	}
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	return u, nil
}

// userByEmail loads an account by email; found is false when none has it
// (an address no account can have included).
func (s *Service) userByEmail(ctx context.Context, email string) (u *User, found bool, err error) {
	email, ok := normalizeEmail(email)
	if !ok {
		return nil, false, nil
	}
	u = new(User)
	err = s.db.NewSelect().Model(u).Where("email = ?", email).Scan(ctx)
	if db.IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load user: %w", err)
	}
	return u, true, nil
}

// UserByEmail loads an account by email, in any form that stores as the
// account's; found is false when none has it.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, bool, error) {
	return s.userByEmail(ctx, email)
}

// Names maps user ids to display names (unknown ids are left out).
func (s *Service) Names(ctx context.Context, ids []string) (map[string]string, error) {
	names := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return names, nil
	}
	var us []User
	if err := s.db.NewSelect().Model(&us).Column("id", "name").Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	for _, u := range us {
		names[u.ID] = u.Name
	}
	return names, nil
}

// CountVolunteers counts active volunteer accounts of a region and below
// ("" = everyone) that existed at a time: whom an alert to that region,
// published then, was meant for. It runs when the reach is asked for, not
// on the alert's write path.
func (s *Service) CountVolunteers(ctx context.Context, q bun.IDB, code string, at time.Time) (int, error) {
	sel := q.NewSelect().Model((*User)(nil)).Where("role = 'volunteer' AND status = 'active' AND created_at <= ?", at)
	if code != "" {
		sel = sel.Where("(region_code = ? OR region_code LIKE ?)", code, code+"%")
	}
	n, err := sel.Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count volunteers: %w", err)
	}
	return int(n), nil
}

// VolunteersSQL is CountVolunteers as a SQL expression, for a query with
// one row per alert (package stats): code and at are SQL expressions (the
// alert's columns), code NULL for everyone.
func VolunteersSQL(code, at string) string {
	return "(SELECT count(*) FROM users AS vu WHERE vu.role = 'volunteer' AND vu.status = 'active' AND vu.created_at <= " + at +
		" AND (" + code + " IS NULL OR vu.region_code = " + code + " OR vu.region_code LIKE " + code + " || '%'))"
}

// ActiveIDs selects the ids of active accounts: of role ("" any role), with
// a region at or below code ("" everywhere; a national account is under no
// region), or only the account userID when it is not "". Web Push reads
// its audiences through it.
func (s *Service) ActiveIDs(q bun.IDB, role, code, userID string) *bun.SelectQuery {
	sel := q.NewSelect().Table("users").Column("id").Where("status = 'active'")
	if userID != "" {
		sel = sel.Where("id = ?", userID)
	}
	if role != "" {
		sel = sel.Where("role = ?", role)
	}
	if code != "" {
		sel = sel.Where("(region_code = ? OR region_code LIKE ?)", code, code+"%")
	}
	return sel
}

// SeedUsers creates n synthetic accounts of role in region in bulk, for load
// tests: they share one password hash (made once), so seeding ten thousand
// volunteers costs one hash, not ten thousand. Their emails are
// <prefix>-<i>@seed.invalid (a reserved domain: nobody can receive mail
// there). It is reachable only from the operator's command line and the
// benchmark tool, never through the API. It returns the new ids in order.
func (s *Service) SeedUsers(ctx context.Context, n int, role, regionCode, prefix string) ([]string, error) {
	hash, err := s.hasher.Hash(ctx, NewID()+NewID())
	if err != nil {
		return nil, busy(err)
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var rc *string
	if regionCode != "" {
		rc = &regionCode
	}
	// Synthetic accounts stand for people who consented to the notice in
	// force (load tests write as volunteers do).
	var version *string
	if s.cfg.PrivacyVersion != "" {
		version = &s.cfg.PrivacyVersion
	}
	ids := make([]string, 0, n)
	for start := 0; start < n; start += 500 {
		batch := make([]User, 0, 500)
		for i := start; i < min(start+500, n); i++ {
			u := User{ID: NewID(), Email: fmt.Sprintf("%s-%d@seed.invalid", prefix, i), Name: fmt.Sprintf("Relawan %d", i),
				PasswordHash: hash, Role: role, RegionCode: rc, Status: api.UserActive, CreatedAt: now, UpdatedAt: now,
				Language: api.Languages[0], PrivacyVersion: version}
			batch = append(batch, u)
			ids = append(ids, u.ID)
		}
		if _, err := s.db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return nil, fmt.Errorf("seed users: %w", err)
		}
	}
	return ids, nil
}
