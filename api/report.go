package api

import (
	"strings"
	"time"
)

// Report categories (see docs/api.md for the legal basis usually cited).
var Categories = []string{"disinformation", "hate_speech", "sara", "money_politics", "black_campaign",
	"asn_neutrality", "campaign_violation", "other"}

// Report statuses.
const (
	ReportSubmitted = "submitted"
	ReportEndorsed  = "endorsed"
	ReportRejected  = "rejected"
	ReportVerified  = "verified"
	ReportDuplicate = "duplicate"
)

// Takedown statuses.
const (
	TakedownRequested = "requested"
	TakedownDone      = "taken_down"
	TakedownRefused   = "refused"
)

// The length of a report's summary, and of the public summary an officer
// may give in its place, in characters once trimmed.
const (
	SummaryMin = 10
	SummaryMax = 4000
)

// Report is a finding.
type Report struct {
	ID         string `json:"id"`
	ReporterID string `json:"reporter_id"`
	// ReporterErased says the reporter's account was erased: the report is
	// kept for Bawaslu's record, without anything of the person.
	ReporterErased bool `json:"reporter_erased,omitempty"`
	// Deleted is set only in the report.submitted events of a report
	// deleted with its reporter's account, which keep little else.
	Deleted       bool       `json:"deleted,omitempty"`
	OrgID         *string    `json:"org_id"`
	ClaimID       *string    `json:"claim_id"`
	URL           string     `json:"url"`
	NormalizedURL string     `json:"normalized_url"`
	ClusterID     string     `json:"cluster_id"`
	ClusterSize   int        `json:"cluster_size"`
	Platform      string     `json:"platform"`
	Category      string     `json:"category"`
	Summary       string     `json:"summary"`
	RegionCode    *string    `json:"region_code"`
	RegionName    *string    `json:"region_name"` // region.Name of RegionCode; nil with it
	ObservedAt    time.Time  `json:"observed_at"`
	Status        string     `json:"status"`
	DuplicateOf   *string    `json:"duplicate_of,omitempty"`
	ReviewNote    string     `json:"review_note,omitempty"`
	VerifyNote    string     `json:"verification_note,omitempty"`
	PublicSummary *string    `json:"public_summary,omitempty"` // what Bawaslu publishes of a verified finding, by its officer; nil: Summary
	Takedown      []Takedown `json:"takedown"`
	Evidence      []Evidence `json:"evidence"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Takedown is one step of a report's takedown history.
type Takedown struct {
	Status      string    `json:"status"`
	PlatformRef string    `json:"platform_ref,omitempty"`
	Note        string    `json:"note,omitempty"`
	At          time.Time `json:"at"`
}

// Evidence is a stored evidence file of a report.
type Evidence struct {
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}

// CreateReportRequest is the body of POST /v1/reports.
type CreateReportRequest struct {
	ClaimID    *string   `json:"claim_id,omitempty"`
	OrgID      *string   `json:"org_id,omitempty"`
	URL        string    `json:"url"`
	Platform   string    `json:"platform"`
	Category   string    `json:"category"`
	Summary    string    `json:"summary"`
	RegionCode *string   `json:"region_code,omitempty"`
	ObservedAt time.Time `json:"observed_at"`
}

// Validate checks the fields that need no database.
func (r *CreateReportRequest) Validate() []FieldError {
	var c Check
	if !ValidURL(r.URL) {
		c.Fail("url", "must be an absolute http(s) URL")
	}
	c.OneOf("platform", r.Platform, Platforms...)
	c.OneOf("category", r.Category, Categories...)
	c.Lines("summary", &r.Summary, SummaryMin, SummaryMax)
	if r.ObservedAt.IsZero() {
		c.Fail("observed_at", "is required")
	}
	return c.Errors
}

// ReviewRequest is a coordinator's review (POST /v1/reports/{id}/review).
type ReviewRequest struct {
	Decision string `json:"decision"`
	Note     string `json:"note,omitempty"`
}

// Validate checks the decision; a rejection needs a note.
func (r *ReviewRequest) Validate() []FieldError {
	var c Check
	c.OneOf("decision", r.Decision, "endorse", "reject")
	c.Lines("note", &r.Note, 0, 2000)
	if r.Decision == "reject" && strings.TrimSpace(r.Note) == "" {
		c.Fail("note", "a rejection needs a note the reporter will see")
	}
	return c.Errors
}

// VerificationRequest is an officer's decision (POST /v1/reports/{id}/verification).
// PublicSummary, only with decision verified, is the text Bawaslu publishes
// of the finding instead of the reporter's summary.
type VerificationRequest struct {
	Decision      string  `json:"decision"`
	Note          string  `json:"note,omitempty"`
	DuplicateOf   *string `json:"duplicate_of,omitempty"`
	PublicSummary *string `json:"public_summary,omitempty"`
}

// Validate checks the decision; a rejection needs a note, a duplicate the
// report it duplicates; a public summary is for a verification only, and
// is free text within the bounds of a report's summary.
func (r *VerificationRequest) Validate() []FieldError {
	var c Check
	c.OneOf("decision", r.Decision, ReportVerified, ReportRejected, ReportDuplicate)
	c.Lines("note", &r.Note, 0, 2000)
	if r.PublicSummary != nil && r.Decision != ReportVerified {
		c.Fail("public_summary", "is only for a verification (decision verified)")
	} else if r.PublicSummary != nil {
		c.Lines("public_summary", r.PublicSummary, SummaryMin, SummaryMax)
	}
	if r.Decision == ReportRejected && strings.TrimSpace(r.Note) == "" {
		c.Fail("note", "a rejection needs a note the reporter will see")
	}
	if r.Decision == ReportDuplicate && r.DuplicateOf == nil {
		c.Fail("duplicate_of", "is required for a duplicate")
	}
	if r.Decision != ReportDuplicate && r.DuplicateOf != nil {
		c.Fail("duplicate_of", "is only for a duplicate")
	} else if r.DuplicateOf != nil {
		c.ID("duplicate_of", *r.DuplicateOf, "must be a report's id (a UUID)")
	}
	return c.Errors
}

// TakedownRequest records a takedown step (POST /v1/reports/{id}/takedown).
type TakedownRequest struct {
	Status      string `json:"status"`
	PlatformRef string `json:"platform_ref,omitempty"`
	Note        string `json:"note,omitempty"`
}

// Validate checks the step's fields.
func (r *TakedownRequest) Validate() []FieldError {
	var c Check
	c.OneOf("status", r.Status, TakedownRequested, TakedownDone, TakedownRefused)
	c.Line("platform_ref", &r.PlatformRef, 0, 200)
	c.Lines("note", &r.Note, 0, 2000)
	return c.Errors
}
