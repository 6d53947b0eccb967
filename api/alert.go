package api

import (
	"time"
)

// Alert severities.
var Severities = []string{"info", "warning", "critical"}

// Alert is a verified alert broadcast by an officer to a region.
type Alert struct {
	ID               string     `json:"id"`
	Title            string     `json:"title"`
	Body             string     `json:"body"`
	Severity         string     `json:"severity"`
	RegionCode       *string    `json:"region_code"`
	RegionName       *string    `json:"region_name"` // region.Name of RegionCode; nil with it
	Category         *string    `json:"category"`
	ReportIDs        []string   `json:"report_ids"`
	Links            []string   `json:"links"`
	PublishedAt      time.Time  `json:"published_at"`
	RetractedAt      *time.Time `json:"retracted_at"`
	RetractionReason string     `json:"retraction_reason,omitempty"`
	Retracted        bool       `json:"retracted"`
}

// CreateAlertRequest is the body of POST /v1/alerts.
type CreateAlertRequest struct {
	Title      string   `json:"title"`
	Body       string   `json:"body"`
	Severity   string   `json:"severity"`
	RegionCode *string  `json:"region_code,omitempty"`
	Category   *string  `json:"category,omitempty"`
	ReportIDs  []string `json:"report_ids,omitempty"`
	Links      []string `json:"links,omitempty"`
}

// Validate checks the fields that need no database.
func (r *CreateAlertRequest) Validate() []FieldError {
	var c Check
	c.Line("title", &r.Title, 3, 200)
	c.Lines("body", &r.Body, 1, 5000)
	c.OneOf("severity", r.Severity, Severities...)
	if r.Category != nil {
		c.OneOf("category", *r.Category, Categories...)
	}
	if len(r.ReportIDs) > 50 {
		c.Fail("report_ids", "at most 50")
	}
	for _, id := range r.ReportIDs {
		if !c.ID("report_ids", id, "each must be a report's id (a UUID)") {
			break
		}
	}
	if len(r.Links) > 10 {
		c.Fail("links", "at most 10")
	}
	for _, l := range r.Links {
		if !ValidURL(l) {
			c.Fail("links", "each must be an absolute http(s) URL")
			break
		}
	}
	return c.Errors
}

// RetractionRequest is the body of POST /v1/alerts/{id}/retraction.
type RetractionRequest struct {
	Reason string `json:"reason"`
}

// Validate checks the reason.
func (r *RetractionRequest) Validate() []FieldError {
	var c Check
	c.Lines("reason", &r.Reason, 3, 1000)
	return c.Errors
}

// Reach tells the issuing officer how far an alert got: volunteers it was
// meant for, how many clients acknowledged it on the feed, and the delivery
// delay percentiles of those acknowledgements; and by Web Push, how many
// devices' push services accepted it (pushed) and how many devices showed
// the notification (displayed).
type Reach struct {
	AlertID   string   `json:"alert_id"`
	Meant     int      `json:"meant"`
	Delivered int      `json:"delivered"`
	Pushed    int      `json:"pushed"`
	Displayed int      `json:"displayed"`
	P50Ms     *float64 `json:"p50_ms"`
	P90Ms     *float64 `json:"p90_ms"`
}
