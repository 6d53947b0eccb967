// Package api holds the wire types of Jarimu's public contract (v1): request
// and response bodies, problem details and feed frames. The server and the Go
// client share them, so the two cannot drift apart. Standard library only,
// besides package textrule, whose rules the requests' own checks apply.
package api

import (
	"encoding/json"
	"time"
)

// Problem is an RFC 9457 problem detail, the body of every error answer.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// FieldError names one invalid input field and why it is invalid.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ProblemTypePrefix starts every problem type URI; the slug follows.
const ProblemTypePrefix = "/v1/problems/"

// Page is one page of a list: newest first unless stated, NextCursor absent
// on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// AuditEntry is one row of the audit trail (GET /v1/audit).
type AuditEntry struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    *string         `json:"actor_id"`
	ActorRole  string          `json:"actor_role"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	RequestID  string          `json:"request_id,omitempty"`
}
