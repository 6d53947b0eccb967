package api

import (
	"crypto/ecdh"
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// The events a device may ask to be notified of (a subscription's events).
// alert.published also brings the retraction of an alert it showed.
const (
	PushAlerts      = "alert.published"
	PushAssignments = "assignment.created"
)

// PushEvents are the events a subscription may name, and its default.
var PushEvents = []string{PushAlerts, PushAssignments}

// MaxPushEndpoint is the longest push endpoint URL accepted, in bytes.
const MaxPushEndpoint = 2048

// PushKey is the answer of GET /v1/push/key: the installation's VAPID public
// key, for PushManager.subscribe's applicationServerKey.
type PushKey struct {
	PublicKey string `json:"public_key"`
}

// PushKeys are a subscription's keys, as the browser gives them: the
// device's P-256 public key and its authentication secret, both base64url.
type PushKeys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// SubscribeRequest is the body of POST /v1/push/subscriptions: the
// browser's PushSubscription (endpoint and keys) and the events the device
// wants (absent: all of PushEvents).
type SubscribeRequest struct {
	Endpoint string    `json:"endpoint"`
	Keys     PushKeys  `json:"keys"`
	Events   *[]string `json:"events,omitempty"`
}

// Validate checks the shape of the subscription: an https endpoint, a
// P-256 point of 65 bytes and a 16-byte secret, known events. Which hosts
// may be endpoints is the server's setting, checked after.
func (r *SubscribeRequest) Validate() []FieldError {
	var c Check
	if msg := checkEndpoint(r.Endpoint); msg != "" {
		c.Fail("endpoint", "%s", msg)
	}
	if b, err := decodeKey(r.Keys.P256dh); err != nil || len(b) != 65 {
		c.Fail("keys.p256dh", "must be the base64url encoding of a 65-byte uncompressed P-256 public key")
	} else if _, err := ecdh.P256().NewPublicKey(b); err != nil {
		c.Fail("keys.p256dh", "is not a point on the P-256 curve")
	}
	if b, err := decodeKey(r.Keys.Auth); err != nil || len(b) != 16 {
		c.Fail("keys.auth", "must be the base64url encoding of a 16-byte secret")
	}
	if r.Events != nil {
		seen := map[string]bool{}
		for _, e := range *r.Events {
			if !c.OneOf("events", e, PushEvents...) {
				break
			}
			if seen[e] {
				c.Fail("events", "names %s twice", e)
				break
			}
			seen[e] = true
		}
	}
	return c.Errors
}

// checkEndpoint says what is wrong with a push endpoint's shape, "" if
// nothing.
func checkEndpoint(s string) string {
	if len(s) > MaxPushEndpoint {
		return "must be at most 2048 bytes"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "must be an absolute URL"
	case u.Scheme != "https":
		return "must be an https URL"
	case u.User != nil || u.Fragment != "" || strings.ContainsAny(s, " \t\r\n"):
		return "must have no user information, fragment or spaces"
	}
	return ""
}

// decodeKey reads base64url with or without padding (browsers send it
// unpadded; some libraries pad).
func decodeKey(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// PushSubscription is a device's subscription as its owner sees it (never
// its keys).
type PushSubscription struct {
	ID        string    `json:"id"`
	Endpoint  string    `json:"endpoint"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PushAckRequest is the body of POST /v1/push/acks: the ack string of a
// push the service worker showed (the payload's "ack").
type PushAckRequest struct {
	Ack string `json:"ack"`
}

// PushTestResult is the answer of POST /v1/push/test.
type PushTestResult struct {
	Devices int `json:"devices"` // the caller's devices the test was queued for
}

// PushPayload is the JSON a push carries to the service worker, after
// decryption. Kind is "alert", "retraction", "assignment" or "test".
type PushPayload struct {
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	Severity string `json:"severity,omitempty"`
	Region   string `json:"region,omitempty"`
	URL      string `json:"url"`
	Tag      string `json:"tag"`
	Lang     string `json:"lang"`
	Ack      string `json:"ack,omitempty"`
}
