package realtime

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jarimu/jarimu/event"
)

// Log is what the feed reads from the event log (*event.Log).
type Log interface {
	After(ctx context.Context, stream string, after int64, limit int) ([]event.Event, error)
	Heads(ctx context.Context, streams []string) (map[string]int64, error)
	// HeadsSince reads at once the heads of streams and, per stream of
	// from, up to limit events from the given seq on (that one included),
	// in seq order.
	HeadsSince(ctx context.Context, streams []string, from map[string]int64, limit int) (map[string]int64, map[string][]event.Event, error)
}

// Identity is who a connection serves: the user and their own stream, the
// role and region that decide their streams, and when their token expires.
type Identity struct {
	UserID  string
	Stream  string // the user's own stream, where changes of their access travel
	Role    string
	Region  string
	Expires time.Time
}

// Authenticator verifies an access token and says whose it is. An error
// that wraps ErrUnauthorized means the token is refused (missing, malformed,
// expired, revoked, or its account is not active): the connection closes
// with 4401. Any other error means the check could not be made (the
// database or another dependency is down): never a bad token.
type Authenticator func(ctx context.Context, token string) (Identity, error)

// ErrUnauthorized marks an Authenticator's refusal of a token.
var ErrUnauthorized = errors.New("token refused")

// unavailableRetry is the delay a client is asked to wait before it
// reconnects when the server cannot check its token or start its feed
// (close 1013, "try again later").
const unavailableRetry = 5 * time.Second

// StreamsOf lists the streams a user's connection listens to now.
type StreamsOf func(ctx context.Context, id Identity) ([]string, error)

// Grant is what a user may have on the feed now, as the database says.
type Grant struct {
	Active  bool     // the account is active
	Role    string   // its role and region now
	Region  string   //
	Streams []string // the streams its connections may have now
	Head    int64    // the last seq of the user's own stream, read no later than Streams
}

// AccessOf reads a user's Grant from the database, Head no later than
// Streams (in the same statement, or before it): a change of access
// committed after the streams were read then has a seq above Head. A hello
// starts from it (so, with Verify, the account is checked here); the feed
// asks it again before acting on a live change of the user's own stream
// that adds streams or ends the account: a stream is added only while the
// user has it now, and a connection is closed only while the account is
// not active now. An account that is absent or not active is a Grant that
// is not Active, not an error.
type AccessOf func(ctx context.Context, userID string) (Grant, error)

// HelloOf reads what a hello starts from, on the database's side in one
// statement where it can (one round trip, one snapshot): the Grant as
// AccessOf reads it, and with it the heads of the streams of from and of the
// user's own stream (Heads[own] is then Grant.Head), and for each stream of
// from up to limit events with seq at or above the given one, in seq order
// (as Log.HeadsSince). from is what the client asked to resume (at most
// helloStreams of them), read before the streams it may have are known:
// the feed keeps of it only the streams of the grant. Heads may also hold
// the heads of other streams read in the same snapshot (those the grant
// gives, so that a first hello needs no second read); each must be the
// stream's real head, 0 only for a stream without events. What it does not
// cover (a head not read, a history not from the seq resumed) the feed
// reads after, with Log.HeadsSince.
type HelloOf func(ctx context.Context, userID string, from map[string]int64, limit int) (Start, error)

// Start is what HelloOf reads.
type Start struct {
	Grant
	Heads map[string]int64
	Since map[string][]event.Event
	read  map[string]int64 // the from HelloOf was asked (set by admit): where each history in Since starts
}

// HelloLimit decides whether a user may open one more feed connection now;
// when not, retry says when (the connection is closed with 4429).
type HelloLimit func(ctx context.Context, userID string) (ok bool, retry time.Duration)

// AckSink takes a client's ack of a stream its connection has: everything
// after from up to seq received. from is where the connection's delivery
// of the stream began (the client's resume position, or the head when it
// connected or gained the stream): nothing at or before it was delivered
// on this connection. It runs on the connection's reader, which may be a
// poller serving thousands of connections (reader.go), and must not block
// (no I/O). Acks of streams the connection does not have are not
// passed on.
type AckSink func(id Identity, stream string, from, seq int64, at time.Time)

// Options configure the hub. Zero durations and sizes take the defaults.
type Options struct {
	Log  Log
	Auth Authenticator
	// Verify checks a hello's token when Access is set, which reads the
	// account next: the signature and expiry only, without the database,
	// so that a hello costs one read (Hello, when its read holds the heads
	// of every stream of the grant and the history of every stream resumed)
	// or two (Access or Hello, then the heads). Nil: Auth.
	Verify         Authenticator
	Streams        StreamsOf
	Access         AccessOf // nil: the own head, then Streams of the connection's identity, always active (tests)
	Hello          HelloOf  // with Access (changes of access ask it); nil: Access, then Log.HeadsSince
	Acks           AckSink
	AllowedOrigins []string      // browser origins of other sites allowed; the server's own always is
	PingInterval   time.Duration // 25 s
	HelloTimeout   time.Duration // 10 s
	HelloLimit     HelloLimit    // nil: no per-user handshake limit
	WriteTimeout   time.Duration // 10 s per frame
	QueueSize      int           // 64 frames per connection
	Writers        int           // 256 writer goroutines at most (see writers.go)
	SyncInterval   time.Duration // 5 s between checks of the log for missed events
	RevokeKey      []byte        // names users in access.revoked (api.RevokeToken); the writers' key
	// ReaderGoroutines: a goroutine per connection waits for its client's
	// frames, as on systems without epoll, instead of the hub's pollers
	// (reader.go).
	ReaderGoroutines bool
	Logger           *slog.Logger
	Metrics          *Metrics
}

func (o *Options) defaults() {
	if o.PingInterval == 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.HelloTimeout == 0 {
		o.HelloTimeout = 10 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.QueueSize == 0 {
		o.QueueSize = 64
	}
	if o.Writers <= 0 {
		o.Writers = maxWriters
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = &Metrics{}
	}
}
