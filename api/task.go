package api

import (
	"regexp"
	"strings"
	"time"

	"github.com/jarimu/jarimu/textrule"
)

// Task kinds, platforms and statuses.
const (
	KindSocialMedia = "social_media"
	KindTPS         = "tps"
	KindFactCheck   = "fact_check"
	KindOther       = "other"

	TaskOpen   = "open"
	TaskClosed = "closed"
)

// Kinds are the task kinds.
var Kinds = []string{KindSocialMedia, KindTPS, KindFactCheck, KindOther}

// Platforms are the places content is watched on.
var Platforms = []string{"facebook", "instagram", "x", "tiktok", "youtube", "whatsapp", "telegram", "web", "offline"}

// Claim statuses and completion outcomes.
const (
	ClaimActive    = "active"
	ClaimReleased  = "released"
	ClaimExpired   = "expired"
	ClaimCompleted = "completed"
)

// Claim end reasons: why the server released a claim whose holder lost
// access to the task (end_reason, and the reason of claim.ended).
const (
	ClaimEndMembership   = "membership_ended" // the holder was removed, left or was rejected
	ClaimEndOrgSuspended = "org_suspended"
	ClaimEndOrgRevoked   = "org_revoked"
	ClaimEndOrgExpired   = "org_expired"       // the accreditation's validity passed
	ClaimEndErased       = "account_erased"    // the holder's account was erased
	ClaimEndSuspended    = "account_suspended" // an admin suspended the holder's account
	ClaimEndDeleted      = "account_deleted"   // an admin deleted the holder's account
)

// ClaimEndReasons lists the end reasons.
var ClaimEndReasons = []string{ClaimEndMembership, ClaimEndOrgSuspended, ClaimEndOrgRevoked, ClaimEndOrgExpired, ClaimEndErased, ClaimEndSuspended, ClaimEndDeleted}

// Outcomes are how a completed claim ended.
var Outcomes = []string{"done", "content_gone", "not_applicable"}

// Task is a monitoring task. OrgID nil: the national pool (officers'
// tasks, open to every volunteer of the region).
type Task struct {
	ID           string     `json:"id"`
	OrgID        *string    `json:"org_id"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	Kind         string     `json:"kind"`
	Platform     *string    `json:"platform"`
	Target       *string    `json:"target"`
	RegionCode   *string    `json:"region_code"`
	RegionName   *string    `json:"region_name"` // region.Name of RegionCode; nil with it
	StartsAt     *time.Time `json:"starts_at"`
	DueAt        *time.Time `json:"due_at"`
	Slots        int        `json:"slots"`
	SlotsTaken   int        `json:"slots_taken"`
	LeaseMinutes int        `json:"lease_minutes"`
	Status       string     `json:"status"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	// MyClaim is the caller's active or completed claim on the task, if any.
	MyClaim *Claim `json:"my_claim,omitempty"`
}

// Claim is a volunteer's hold on one slot of a task.
type Claim struct {
	ID             string     `json:"id"`
	TaskID         string     `json:"task_id"`
	UserID         string     `json:"user_id"`
	Status         string     `json:"status"`
	LeaseExpiresAt time.Time  `json:"lease_expires_at"`
	AssignedBy     *string    `json:"assigned_by"`
	Outcome        *string    `json:"outcome,omitempty"`
	Note           string     `json:"note,omitempty"`
	Version        int        `json:"version"`
	CreatedAt      time.Time  `json:"created_at"`
	EndedAt        *time.Time `json:"ended_at,omitempty"`
	// EndReason is set on a claim the server released because its holder
	// lost access (one of ClaimEndReasons); left out otherwise.
	EndReason *string `json:"end_reason,omitempty"`
}

// CreateTaskRequest is the body of POST /v1/tasks.
type CreateTaskRequest struct {
	OrgID        *string    `json:"org_id,omitempty"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	Kind         string     `json:"kind"`
	Platform     *string    `json:"platform,omitempty"`
	Target       *string    `json:"target,omitempty"`
	RegionCode   *string    `json:"region_code,omitempty"`
	StartsAt     *time.Time `json:"starts_at,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	Slots        *int       `json:"slots,omitempty"`
	LeaseMinutes *int       `json:"lease_minutes,omitempty"`
}

// UpdateTaskRequest is the body of PATCH /v1/tasks/{id}: absent fields stay.
type UpdateTaskRequest struct {
	Title        *string    `json:"title,omitempty"`
	Description  *string    `json:"description,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	Slots        *int       `json:"slots,omitempty"`
	LeaseMinutes *int       `json:"lease_minutes,omitempty"`
}

var (
	hashtagRE = regexp.MustCompile(`^#[\p{L}\p{N}_]{1,139}$`)
	handleRE  = regexp.MustCompile(`^@[A-Za-z0-9_.]{1,64}$`)
)

// ValidTarget reports whether a social-media target is an http(s) URL, a
// #hashtag or an @account.
func ValidTarget(s string) bool {
	if hashtagRE.MatchString(s) || handleRE.MatchString(s) {
		return true
	}
	return ValidURL(s)
}

// ValidURL reports whether s is an absolute http(s) URL with a host, at most
// 2048 bytes, without spaces, control characters or the invisible and
// direction-changing characters textrule.Line refuses.
func ValidURL(s string) bool {
	if len(s) > 2048 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	if _, err := textrule.Line(s); err != nil {
		return false
	}
	rest, ok := strings.CutPrefix(strings.ToLower(s), "https://")
	if !ok {
		rest, ok = strings.CutPrefix(strings.ToLower(s), "http://")
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	host, _, _ = strings.Cut(host, "#")
	return ok && host != "" && strings.Contains(host, ".") && !strings.HasPrefix(host, ".")
}

// Validate checks the fields that need no database. Defaults: slots 1,
// lease 120 minutes.
func (r *CreateTaskRequest) Validate() []FieldError {
	var c Check
	c.Line("title", &r.Title, 3, 200)
	c.Lines("description", &r.Description, 0, 5000)
	c.OneOf("kind", r.Kind, Kinds...)
	if r.Platform != nil {
		c.OneOf("platform", *r.Platform, Platforms...)
	} else if r.Kind == KindSocialMedia {
		c.Fail("platform", "is required for a social_media task")
	}
	checkTarget(&c, r.Kind, r.Target)
	if r.Slots != nil && (*r.Slots < 1 || *r.Slots > 1000) {
		c.Fail("slots", "must be from 1 to 1000")
	}
	if r.LeaseMinutes != nil && (*r.LeaseMinutes < 5 || *r.LeaseMinutes > 1440) {
		c.Fail("lease_minutes", "must be from 5 to 1440")
	}
	if r.StartsAt != nil && r.DueAt != nil && !r.DueAt.After(*r.StartsAt) {
		c.Fail("due_at", "must be after starts_at")
	}
	return c.Errors
}

func checkTarget(c *Check, kind string, target *string) {
	switch {
	case target == nil && kind == KindSocialMedia:
		c.Fail("target", "is required for a social_media task: a URL, #hashtag or @account")
	case target == nil:
	case kind == KindSocialMedia && !ValidTarget(*target):
		c.Fail("target", "must be an http(s) URL, a #hashtag or an @account")
	default:
		c.Line("target", target, 1, 2048)
	}
}

// Validate checks an update's fields.
func (r *UpdateTaskRequest) Validate() []FieldError {
	var c Check
	if r.Title != nil {
		c.Line("title", r.Title, 3, 200)
	}
	if r.Description != nil {
		c.Lines("description", r.Description, 0, 5000)
	}
	if r.Slots != nil && (*r.Slots < 1 || *r.Slots > 1000) {
		c.Fail("slots", "must be from 1 to 1000")
	}
	if r.LeaseMinutes != nil && (*r.LeaseMinutes < 5 || *r.LeaseMinutes > 1440) {
		c.Fail("lease_minutes", "must be from 5 to 1440")
	}
	if r.Title == nil && r.Description == nil && r.DueAt == nil && r.Slots == nil && r.LeaseMinutes == nil {
		c.Fail("", "nothing to change")
	}
	return c.Errors
}

// AssignRequest is the body of POST /v1/tasks/{id}/assignments.
type AssignRequest struct {
	UserID string `json:"user_id"`
}

// ClaimChangeRequest is the optional body of extend and release: with
// Version set, the change applies only to that version of the claim.
type ClaimChangeRequest struct {
	Version *int `json:"version,omitempty"`
}

// CompleteRequest is the body of POST /v1/claims/{id}/complete.
type CompleteRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note,omitempty"`
	Version *int   `json:"version,omitempty"`
}

// Validate checks the outcome and note.
func (r *CompleteRequest) Validate() []FieldError {
	var c Check
	c.OneOf("outcome", r.Outcome, Outcomes...)
	c.Lines("note", &r.Note, 0, 2000)
	return c.Errors
}
