package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// FeedSubprotocol is the websocket subprotocol of the feed (GET /v1/feed).
const FeedSubprotocol = "jarimu.v1"

// Feed close codes.
const (
	CloseGoingAway     = 1001 // the server is shutting down: reconnect elsewhere and resume
	CloseTryAgainLater = 1013 // the server cannot check the token or start the feed now (a dependency is down): reconnect after the delay in the reason
	CloseBadFrame      = 4400 // a frame was not JSON, too large, binary or of an unknown type
	CloseUnauthorized  = 4401 // token missing, invalid or expired
	CloseHelloTimeout  = 4408 // no hello within 10 s
	CloseTooSlow       = 4429 // the client could not keep up: reconnect and resume
	MaxClientFrameSize = 4096 // bytes of one inbound frame
)

// ClientFrame is any frame a client sends: hello, token, ack or ping.
type ClientFrame struct {
	Type   string           `json:"type"`
	Token  string           `json:"token,omitempty"`
	Resume map[string]int64 `json:"resume,omitempty"`
	Stream string           `json:"stream,omitempty"`
	Seq    int64            `json:"seq,omitempty"`
}

// StreamPosition names a stream and the last seq given out on it.
type StreamPosition struct {
	Name string `json:"name"`
	Seq  int64  `json:"seq"`
}

// Welcome answers a hello.
type Welcome struct {
	Type         string           `json:"type"` // "welcome"
	Session      string           `json:"session"`
	Streams      []StreamPosition `json:"streams"`
	PingInterval int              `json:"ping_interval"` // seconds
}

// EventFrame carries one event of a stream. Per stream, Seq rises by exactly
// one within a connection.
type EventFrame struct {
	Type   string          `json:"type"` // "event"
	Stream string          `json:"stream"`
	Seq    int64           `json:"seq"`
	ID     string          `json:"id"`
	Event  string          `json:"event"`
	At     time.Time       `json:"at"`
	Data   json.RawMessage `json:"data"`
}

// ResetFrame says a stream's history no longer reaches the asked seq: reload
// by REST, then continue from Seq.
type ResetFrame struct {
	Type   string `json:"type"` // "reset"
	Stream string `json:"stream"`
	Seq    int64  `json:"seq"`
}

// StreamFrame tells the client that a stream joined ("subscribed", events
// follow after Seq) or left ("unsubscribed") this connection, e.g. when a
// membership was approved or ended.
type StreamFrame struct {
	Type   string `json:"type"` // "subscribed" or "unsubscribed"
	Stream string `json:"stream"`
	Seq    int64  `json:"seq"`
}

// FeedChange rides in the data of the events of a user's own stream that
// change what the user may read (under "feed"; see CarriesFeedChange) and
// tells the feed which streams the user's connections gain (with the seq
// they start after) or lose, or that they end (the account is no longer
// active). The feed acts on it only for events committed after the
// connection read the user's access, and checks every gain and end against
// the database first.
type FeedChange struct {
	Add    map[string]int64 `json:"add,omitempty"`
	Remove []string         `json:"remove,omitempty"`
	End    string           `json:"end,omitempty"` // why the connections close (4401)
}

// The events of a user's own stream that carry a FeedChange.
const (
	EventMembershipDecided    = "membership.decided"
	EventMembershipRoleChange = "membership.role_changed"
	EventAccountUpdated       = "account.updated"
)

// EventAccessRevoked is written to a stream a user loses (an org's or a
// review stream: a member removed or leaving, a coordinator demoted, an
// officer's region or role changed, an account erased or no longer
// active), in the transaction that takes it away. Events of two streams are
// not ordered with each other, so the change on the user's own stream alone
// could reach an open connection after an event of the lost stream
// committed later; this one comes, in the lost stream's own order, before
// any such event, and the feed ends the user's connections' hold on the
// stream when it gets to it. Every other reader of the stream gets it as an
// event to ignore.
const EventAccessRevoked = "access.revoked"

// AccessRevoked is the payload of access.revoked: whose access ended, as
// RevokeToken names them.
type AccessRevoked struct {
	Token string `json:"token"`
}

// RevokeToken names userID in access.revoked on stream without their id:
// the first 16 bytes of HMAC-SHA-256 under key (the installation's, the
// same on every instance), so that a reader of the stream cannot tell whose
// access ended, even knowing the id.
func RevokeToken(key []byte, stream, userID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(stream + "\x00" + userID))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// CarriesFeedChange says whether events named name carry a FeedChange.
func CarriesFeedChange(name string) bool {
	switch name {
	case EventMembershipDecided, EventMembershipRoleChange, EventAccountUpdated:
		return true
	}
	return false
}
