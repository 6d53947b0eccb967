package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/region"
)

// ackWindow bounds how far back the first ack of a client (since this
// instance started) looks for alerts it covers.
const ackWindow = 64

// AckFlushInterval is how often the acks gathered in memory are written.
const AckFlushInterval = time.Second

// maxAckPoints bounds the acks kept per user and stream between two
// flushes; past it the newest replaces the last (the delay of the alerts in
// between is then taken from the later ack).
const maxAckPoints = 16

// ackForget is how long an idle user's last written position is kept.
const ackForget = 10 * time.Minute

// insertBatch is how many ack rows one INSERT writes.
const insertBatch = 5000

// Acks gathers the feed's acknowledgements in memory and writes the alerts
// they cover once a second, so an ack costs no database work on the
// connection's reader: per flush, one read of the alert events in the acked
// ranges of every stream, and one INSERT per 5,000 covered (alert, user)
// pairs. Reach is computed from what is written (alert_acks). Acks not yet
// written when an instance dies cost only reach accuracy: delivery never
// depends on them.
type Acks struct {
	db  *db.DB
	log *slog.Logger

	mu      sync.Mutex
	pending map[ackKey][]ackPoint // acks since the last flush, rising seqs
	written map[ackKey]writtenPos // how far each was written

	flushes, statements, rows, dropped int64 // guarded by mu; see Stats
}

type ackKey struct{ user, stream string }

type ackPoint struct {
	seq int64
	at  time.Time
}

type writtenPos struct {
	seq  int64
	seen time.Time
}

// NewAcks makes an empty ack buffer over d.
func NewAcks(d *db.DB, log *slog.Logger) *Acks {
	return &Acks{db: d, log: log, pending: map[ackKey][]ackPoint{}, written: map[ackKey]writtenPos{}}
}

// Record takes one ack (everything up to seq on stream received at at) of
// a user with role and region. Only volunteers' acks on the region streams
// of their own region count: the feed passes on whatever stream a client
// names, and an alert reached nobody outside its region. It never blocks
// on I/O.
func (a *Acks) Record(userID, role, regionCode, stream string, seq int64, at time.Time) {
	if role != api.RoleVolunteer || !strings.HasPrefix(stream, "region:") || !slices.Contains(region.Streams(regionCode), stream) {
		return
	}
	k := ackKey{userID, stream}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w, ok := a.written[k]; ok && seq <= w.seq {
		return
	}
	pts := a.pending[k]
	switch {
	case len(pts) > 0 && seq <= pts[len(pts)-1].seq:
	case len(pts) >= maxAckPoints:
		pts[len(pts)-1] = ackPoint{seq, at}
	default:
		a.pending[k] = append(pts, ackPoint{seq, at})
	}
}

// Run flushes every AckFlushInterval until ctx ends, then once more.
func (a *Acks) Run(ctx context.Context) {
	t := time.NewTicker(AckFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			a.Flush(flushCtx)
			cancel()
			return
		case <-t.C:
			a.Flush(ctx)
		}
	}
}

// AckStats are the buffer's counters.
type AckStats struct {
	Flushes    int64 // flushes that wrote something
	Statements int64 // database statements they ran
	Rows       int64 // (alert, user) acks written
	Dropped    int64 // acks lost to a failed flush
}

// Stats reads the counters.
func (a *Acks) Stats() AckStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return AckStats{Flushes: a.flushes, Statements: a.statements, Rows: a.rows, Dropped: a.dropped}
}

// span is the range of seqs (lo, hi] one user's acks cover on a stream,
// with the acks themselves.
type span struct {
	user   string
	lo, hi int64
	points []ackPoint
}

// Flush writes the acks gathered since the last flush. A failed flush
// drops them (logged): reach is then undercounted, nothing else.
func (a *Acks) Flush(ctx context.Context) {
	a.mu.Lock()
	pending := a.pending
	a.pending = map[ackKey][]ackPoint{}
	byStream := map[string][]span{}
	now := time.Now()
	for k, pts := range pending {
		lo := pts[0].seq - ackWindow
		if w, ok := a.written[k]; ok {
			lo = w.seq
		}
		hi := pts[len(pts)-1].seq
		byStream[k.stream] = append(byStream[k.stream], span{user: k.user, lo: max(lo, 0), hi: hi, points: pts})
		a.written[k] = writtenPos{seq: hi, seen: now}
	}
	for k, w := range a.written {
		if now.Sub(w.seen) > ackForget {
			delete(a.written, k)
		}
	}
	a.mu.Unlock()
	if len(byStream) == 0 {
		return
	}
	n, stmts, err := a.write(ctx, byStream)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statements += int64(stmts)
	if err != nil {
		a.dropped += int64(len(pending))
		a.log.Warn("alert acks not written; reach undercounts them", slog.Int("acks", len(pending)), slog.String("error", err.Error()))
		return
	}
	a.flushes++
	a.rows += int64(n)
}

// ackRow is one written acknowledgement of an alert by a user.
type ackRow struct {
	bun.BaseModel `bun:"table:alert_acks"`

	AlertID string    `bun:"alert_id"`
	UserID  string    `bun:"user_id"`
	AckedAt time.Time `bun:"acked_at"`
	DelayMs int64     `bun:"delay_ms"`
}

// write reads the alerts published in the acked ranges of every stream in
// one statement and inserts one row per covered (alert, user).
func (a *Acks) write(ctx context.Context, byStream map[string][]span) (rows, statements int, err error) {
	q := a.db.NewSelect().Model((*event.Event)(nil)).Column("stream", "seq", "at", "data").
		Where("kept = TRUE AND name = ?", EventPublished). // kept: on PostgreSQL, the events_kept partition only
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			for stream, spans := range byStream {
				lo, hi := spans[0].lo, spans[0].hi
				for _, s := range spans[1:] {
					lo, hi = min(lo, s.lo), max(hi, s.hi)
				}
				q = q.WhereOr("(stream = ? AND seq > ? AND seq <= ?)", stream, lo, hi)
			}
			return q
		})
	var evs []event.Event
	statements = 1
	if err := q.Scan(ctx, &evs); err != nil {
		return 0, statements, fmt.Errorf("read acked alerts: %w", err)
	}
	var acked []ackRow
	for _, ev := range evs {
		var d struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(ev.Data, &d) != nil || d.ID == "" {
			continue
		}
		for _, s := range byStream[ev.Stream] {
			if ev.Seq <= s.lo || ev.Seq > s.hi {
				continue
			}
			// The first ack at or past the alert's seq received it.
			i, _ := slices.BinarySearchFunc(s.points, ev.Seq, func(p ackPoint, seq int64) int { return int(p.seq - seq) })
			at := s.points[min(i, len(s.points)-1)].at
			acked = append(acked, ackRow{AlertID: d.ID, UserID: s.user, AckedAt: at.UTC(), DelayMs: max(at.Sub(ev.At).Milliseconds(), 0)})
		}
	}
	for start := 0; start < len(acked); start += insertBatch {
		batch := acked[start:min(start+insertBatch, len(acked))]
		statements++
		if _, err := a.db.NewInsert().Model(&batch).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return start, statements, fmt.Errorf("write acks: %w", err)
		}
	}
	return len(acked), statements, nil
}

// AckRecord is one alert a person's client acknowledged, for their data
// export.
type AckRecord struct {
	AlertID string    `json:"alert_id"`
	AckedAt time.Time `json:"acked_at"`
	DelayMs int64     `json:"delay_ms"`
}

// AcksOf lists the alerts userID's clients acknowledged, oldest first.
func AcksOf(ctx context.Context, q bun.IDB, userID string) ([]AckRecord, error) {
	var rows []ackRow
	if err := q.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("acked_at, alert_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("acks of user: %w", err)
	}
	out := make([]AckRecord, len(rows))
	for i, r := range rows {
		out[i] = AckRecord{AlertID: r.AlertID, AckedAt: r.AckedAt.UTC(), DelayMs: r.DelayMs}
	}
	return out, nil
}
