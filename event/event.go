// Package event is the stream log (the outbox): every change that someone
// must hear about is appended, inside the transaction that makes the change,
// to a stream ("user:<id>", "org:<id>", "review:<org>", "region:<code>") with
// that stream's next seq. Seqs rise by exactly one with no gaps, because the
// per-stream counter row is taken inside the same transaction: a rollback
// takes the seq back with it. After commit the events go to the publisher
// (the realtime broker); the database stays the truth that gaps heal from.
package event

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/db"
)

// Event is one entry of a stream. Data is the JSON payload, documented per
// event name in docs/api.md.
type Event struct {
	Stream string          `bun:"stream,pk" json:"stream"`
	Seq    int64           `bun:"seq,pk" json:"seq"`
	ID     string          `bun:"id" json:"id"`
	Name   string          `bun:"name" json:"event"`
	At     time.Time       `bun:"at" json:"at"`
	Data   json.RawMessage `bun:"data,type:text" json:"data"`
	// Kept marks an event kept forever (see Kept); set by Append.
	Kept bool `bun:"kept" json:"-"`

	bun.BaseModel `bun:"table:events" json:"-"`
}

type collectorKey struct{}

type beforeCommitKey struct{}

// WithBeforeCommit returns ctx carrying fn, which every Log.Tx run with that
// context calls inside its transaction just before committing. The
// idempotency layer uses it to mark a request's effect as applied in the
// same transaction as the effect itself.
func WithBeforeCommit(ctx context.Context, fn func(ctx context.Context, tx bun.IDB) error) context.Context {
	return context.WithValue(ctx, beforeCommitKey{}, fn)
}

// collector gathers the events appended in one Log.Tx: they are written at
// the end of the transaction, in stream order, and published after it
// commits.
type collector struct {
	mu       sync.Mutex
	pending  []Event
	events   []Event
	onCommit []func()
}

// OnCommit runs fn once the transaction of ctx commits, when ctx is a
// Log.Tx's (never if it rolls back); elsewhere it runs fn at once. The Web
// Push outbox wakes its workers this way, when the job they look for is
// visible to them.
func OnCommit(ctx context.Context, fn func()) {
	if c, ok := ctx.Value(collectorKey{}).(*collector); ok {
		c.mu.Lock()
		c.onCommit = append(c.onCommit, fn)
		c.mu.Unlock()
		return
	}
	fn()
}

// Append adds an event named name with payload data to stream, inside the
// caller's transaction tx. Writers of the same stream wait for each other at
// the stream's counter row; other streams do not.
//
// Inside Log.Tx the row is written when fn returns, just before commit, with
// all of the transaction's events in stream-name order: counter rows are
// then locked for the shortest time and always in the same order, so two
// transactions touching the same streams cannot deadlock. The returned
// Event then has Seq 0; Log.Tx publishes the numbered events. Outside
// Log.Tx the event is written at once and returned with its seq.
func Append(ctx context.Context, tx bun.IDB, stream, name string, data any) (Event, error) {
	payload, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("append %s: encode: %w", name, err)
	}
	ev := Event{Stream: stream, ID: uuid.Must(uuid.NewV7()).String(), Name: name,
		At: time.Now().UTC().Truncate(time.Microsecond), Data: payload, Kept: Kept(name)}
	if c, ok := ctx.Value(collectorKey{}).(*collector); ok {
		c.mu.Lock()
		c.pending = append(c.pending, ev)
		c.mu.Unlock()
		return ev, nil
	}
	return write(ctx, tx, ev)
}

// write numbers ev with its stream's next seq and stores it.
func write(ctx context.Context, tx bun.IDB, ev Event) (Event, error) {
	stream, name := ev.Stream, ev.Name
	var seq int64
	err := tx.NewRaw(`INSERT INTO event_streams (stream, seq) VALUES (?, 1)
		ON CONFLICT (stream) DO UPDATE SET seq = event_streams.seq + 1 RETURNING seq`, stream).Scan(ctx, &seq)
	if err != nil {
		return Event{}, fmt.Errorf("append %s to %s: next seq: %w", name, stream, err)
	}
	ev.Seq = seq
	if _, err := tx.NewInsert().Model(&ev).Exec(ctx); err != nil {
		return Event{}, fmt.Errorf("append %s to %s: %w", name, stream, err)
	}
	return ev, nil
}

// flush writes the pending events in stream order (keeping each stream's
// own order).
func (c *collector) flush(ctx context.Context, tx bun.IDB) error {
	slices.SortStableFunc(c.pending, func(a, b Event) int { return strings.Compare(a.Stream, b.Stream) })
	for _, ev := range c.pending {
		ev, err := write(ctx, tx, ev)
		if err != nil {
			return err
		}
		c.events = append(c.events, ev)
	}
	return nil
}

// Publisher receives committed events, in commit order per stream. It must
// not block for long: the realtime broker queues and returns.
type Publisher interface {
	Publish(ctx context.Context, events []Event)
}

// BeforeCommit runs the hook of WithBeforeCommit, if ctx carries one, inside
// tx. Log.Tx calls it; a service that commits a request's effect with a
// plain transaction calls it too.
func BeforeCommit(ctx context.Context, tx bun.IDB) error {
	if hook, ok := ctx.Value(beforeCommitKey{}).(func(context.Context, bun.IDB) error); ok {
		return hook(ctx, tx)
	}
	return nil
}

// Log runs transactions that append events and publishes them after commit,
// and reads streams back.
type Log struct {
	db  *db.DB
	pub Publisher
}

// NewLog makes a log over d whose committed events go to pub (the realtime
// feed and broker); nil publishes nothing (a log used only to read, or
// tests).
func NewLog(d *db.DB, pub Publisher) *Log { return &Log{db: d, pub: pub} }

// Tx runs fn in one database transaction; the events fn appends (with
// Append, using the ctx it is given) are published once it commits, and
// never if it rolls back.
func (l *Log) Tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	c := &collector{}
	err := l.db.Tx(context.WithValue(ctx, collectorKey{}, c), func(ctx context.Context, tx bun.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if err := BeforeCommit(ctx, tx); err != nil {
			return err
		}
		return c.flush(ctx, tx)
	})
	if err != nil {
		return err
	}
	l.publish(ctx, c.events)
	for _, fn := range c.onCommit {
		fn()
	}
	return nil
}

func (l *Log) publish(ctx context.Context, events []Event) {
	if l.pub != nil && len(events) > 0 {
		l.pub.Publish(context.WithoutCancel(ctx), events)
	}
}

// After returns up to limit events of stream with seq > after, in order.
func (l *Log) After(ctx context.Context, stream string, after int64, limit int) ([]Event, error) {
	var evs []Event
	err := l.db.NewSelect().Model(&evs).Where("stream = ? AND seq > ?", stream, after).
		Order("seq ASC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s after %d: %w", stream, after, err)
	}
	return evs, nil
}

// HeadsSince reads, in one statement (one snapshot), the head of each of
// streams (0 for a stream without events) and, for each stream of from, up
// to limit events with seq at or above the given one, in seq order (the
// event at that seq itself, when kept, tells that the history still
// reaches there). A reconnecting phone resumes several streams at once,
// and on election day thousands reconnect together: one round trip each.
func (l *Log) HeadsSince(ctx context.Context, streams []string, from map[string]int64, limit int) (map[string]int64, map[string][]Event, error) {
	heads := make(map[string]int64, len(streams))
	since := make(map[string][]Event, len(from))
	for _, s := range streams {
		heads[s] = 0
	}
	if len(streams) == 0 && len(from) == 0 {
		return heads, since, nil
	}
	if !l.db.Postgres() {
		if err := l.headsSinceLocal(ctx, heads, from, since, limit); err != nil {
			return nil, nil, fmt.Errorf("read stream heads and history: %w", err)
		}
		return heads, since, nil
	}
	fromStreams := make([]string, 0, len(from))
	fromSeqs := make([]int64, 0, len(from))
	for stream, seq := range from {
		fromStreams = append(fromStreams, stream)
		fromSeqs = append(fromSeqs, seq)
	}
	rows, err := l.headsSincePostgres(ctx, streams, fromStreams, fromSeqs, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("read stream heads and history: %w", err)
	}
	for _, ev := range rows {
		if ev.ID == "" {
			heads[ev.Stream] = ev.Seq
			continue
		}
		since[ev.Stream] = append(since[ev.Stream], ev)
	}
	for stream := range since {
		slices.SortFunc(since[stream], func(a, b Event) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	return heads, since, nil
}

// HistoryFrom is the FROM clause of a read of the log for the streams to
// resume (PostgreSQL): as e (stream, seq, id, name, at, data), at most
// limit events of each stream from its seq on, for parameters that are the
// array of the streams, the array of their seqs and the limit ($n
// placeholders, given). One lateral read for all the streams: PostgreSQL
// plans it once, where a union of one subquery per stream was planned per
// stream (each over every partition of the log), and planning cost more
// than reading. HeadsSince and the feed's hello statement (package app)
// both read the history this way.
func HistoryFrom(streams, seqs, limit string) string {
	return "unnest(CAST(" + streams + " AS text[]), CAST(" + seqs + ` AS bigint[])) AS r (stream, seq)
		CROSS JOIN LATERAL (SELECT stream, seq, id, name, at, data FROM events
			WHERE stream = r.stream AND seq >= r.seq ORDER BY seq LIMIT ` + limit + ") AS e"
}

// headsSinceSQL is HeadsSince's statement on PostgreSQL: the heads of $1
// (head rows have an empty id, which no event has), then the history of
// the streams $2 from the seqs $3, at most $4 events each. Prepared once
// per pooled connection (db.DB.Prepared), as the hello's statement is.
var headsSinceSQL = `SELECT stream, seq, '' AS id, '' AS name, CAST(NULL AS timestamptz) AS at, CAST(NULL AS text) AS data
		FROM event_streams WHERE stream = ANY(CAST($1 AS text[]))
	UNION ALL SELECT e.stream, e.seq, e.id, e.name, e.at, e.data FROM ` + HistoryFrom("$2", "$3", "$4")

func (l *Log) headsSincePostgres(ctx context.Context, streams, fromStreams []string, fromSeqs []int64, limit int) ([]Event, error) {
	rs, err := l.db.DB.DB.QueryContext(ctx, headsSinceSQL, l.db.Prepared(), streams, fromStreams, fromSeqs, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var rows []Event
	for rs.Next() {
		var ev Event
		var at sql.NullTime
		var data sql.NullString
		if err := rs.Scan(&ev.Stream, &ev.Seq, &ev.ID, &ev.Name, &at, &data); err != nil {
			return nil, err
		}
		if ev.ID != "" {
			ev.At, ev.Data = at.Time, json.RawMessage(data.String)
		}
		rows = append(rows, ev)
	}
	return rows, rs.Err()
}

// headsSinceLocal is HeadsSince on SQLite: the heads in one short query,
// then one short query per stream to resume. In-process there is no round
// trip to save, and SQLite parses and plans one statement covering every
// stream more slowly than these. The heads are read first: every event up
// to a head read is committed by then (a stream's appends commit in seq
// order), so the history read after reaches each head; what it finds
// beyond is left to the live feed.
func (l *Log) headsSinceLocal(ctx context.Context, heads map[string]int64, from map[string]int64, since map[string][]Event, limit int) error {
	if len(heads) > 0 {
		names := make([]string, 0, len(heads))
		for s := range heads {
			names = append(names, s)
		}
		got, err := Heads(ctx, l.db, names)
		if err != nil {
			return err
		}
		maps.Copy(heads, got)
	}
	for s, seq := range from {
		if head, ok := heads[s]; ok && seq >= head {
			continue // nothing after it; its own event is not needed
		}
		evs, err := l.After(ctx, s, seq-1, limit) // from seq itself on
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			since[s] = evs
		}
	}
	return nil
}

// Head is the last seq given out on stream (0 when it has none).
func (l *Log) Head(ctx context.Context, stream string) (int64, error) {
	heads, err := l.Heads(ctx, []string{stream})
	return heads[stream], err
}

// Heads returns the last seq of each stream (absent streams: 0).
func (l *Log) Heads(ctx context.Context, streams []string) (map[string]int64, error) {
	return Heads(ctx, l.db, streams)
}

// Heads returns the last seq of each stream as q sees it; inside a
// transaction, every event committed later has a higher seq.
func Heads(ctx context.Context, q bun.IDB, streams []string) (map[string]int64, error) {
	heads := make(map[string]int64, len(streams))
	for _, s := range streams {
		heads[s] = 0
	}
	if len(streams) == 0 {
		return heads, nil
	}
	var rows []struct {
		Stream string `bun:"stream"`
		Seq    int64  `bun:"seq"`
	}
	err := HeadsQuery(q, streams).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("stream heads: %w", err)
	}
	for _, r := range rows {
		heads[r.Stream] = r.Seq
	}
	return heads, nil
}

// HeadsQuery selects the columns stream and seq, the last seq given out,
// of each of streams that has events (one without has no row). It lets a
// caller read heads within a larger statement of its own, in that
// statement's snapshot: the feed's hello reads the user's own head with
// the account and memberships.
func HeadsQuery(q bun.IDB, streams []string) *bun.SelectQuery {
	return q.NewSelect().Table("event_streams").Column("stream", "seq").
		Where("stream IN (?)", bun.In(streams))
}
