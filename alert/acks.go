package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/region"
)

// AckFlushInterval is how often the acks gathered in memory are written.
const AckFlushInterval = time.Second

// maxAckPoints bounds the acks kept per user and stream between two
// flushes; past it the newest replaces the last (the delay of the alerts in
// between is then taken from the later ack).
const maxAckPoints = 16

// ackForget is how long an idle user's last written position is kept.
const ackForget = 10 * time.Minute

// insertBatch is how many count rows one INSERT writes.
const insertBatch = 5000

// DelayBounds are the upper bounds, in milliseconds, of the buckets the
// delays of acknowledgements are counted in: 10, 15, 20, 30, 50 and 70 ms
// and the same steps at every power of ten up to 7,000,000,000 ms, then
// 10^10 ms (about 115 days), which also takes anything longer. A
// percentile of the reach is the bound of its bucket: at most 50 % above
// the real delay. The migration that made alert_ack_counts lists them too.
var DelayBounds = func() []int64 {
	var b []int64
	for p := int64(10); p <= 1e9; p *= 10 {
		b = append(b, p, p*3/2, 2*p, 3*p, 5*p, 7*p)
	}
	return append(b, 1e10)
}()

// BucketOf is the bound of the bucket a delay of ms is counted in.
func BucketOf(ms int64) int64 {
	i, _ := slices.BinarySearch(DelayBounds, ms)
	return DelayBounds[min(i, len(DelayBounds)-1)]
}

// Acks gathers the feed's acknowledgements in memory and writes what they
// cover once a second, so an ack costs no database work on the
// connection's reader. Per flush: one read of the alert events in the
// acked ranges of every stream, and one INSERT of one row per alert and
// delay bucket (alert_ack_counts), however many volunteers acknowledged:
// the reach counts, it does not list people. A volunteer counts once per
// alert: each ack covers only what its connection delivered (after where
// the connection started the stream: the client's resume position, or the
// head at connecting; or after the connection's last ack of it) and not yet
// acknowledged on this instance (by another connection of the user). Acks not
// yet written when an instance dies cost only reach accuracy: delivery
// never depends on them.
type Acks struct {
	db  *db.DB
	log *slog.Logger

	// Users are spread over shards, so the readers of thousands of
	// connections rarely wait for each other.
	shards [ackShards]ackShard

	mu                                          sync.Mutex
	flushes, statements, rows, counted, dropped int64 // guarded by mu; see Stats
}

const ackShards = 32

type ackShard struct {
	mu      sync.Mutex
	pending map[ackKey]ackRun     // acks since the last flush
	written map[ackKey]writtenPos // how far each was written
}

// shard is the shard of user (FNV-1a of the id).
func (a *Acks) shard(user string) *ackShard {
	h := uint32(2166136261)
	for i := 0; i < len(user); i++ {
		h = (h ^ uint32(user[i])) * 16777619
	}
	return &a.shards[h%ackShards]
}

type ackKey struct{ user, stream string }

// ackRun is what one user's connections acknowledged of a stream since the
// last flush: everything after lo up to the last point, the points rising.
type ackRun struct {
	lo     int64
	points []ackPoint
}

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
	a := &Acks{db: d, log: log}
	for i := range a.shards {
		a.shards[i] = ackShard{pending: map[ackKey]ackRun{}, written: map[ackKey]writtenPos{}}
	}
	return a
}

// Record takes one ack of a user with role and region: everything after
// from up to seq on stream was received, at at; from is where the
// connection's delivery of the stream began (the feed knows it; an ack at
// or before it covers nothing). Only volunteers' acks on the region streams
// of their own region count: an alert reached nobody outside its region.
// It never blocks on I/O.
func (a *Acks) Record(userID, role, regionCode, stream string, from, seq int64, at time.Time) {
	if role != api.RoleVolunteer || !region.Hears(regionCode, stream) {
		return
	}
	k := ackKey{userID, stream}
	sh := a.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	lo := from
	if w, ok := sh.written[k]; ok {
		lo = max(lo, w.seq)
	}
	if seq <= lo {
		return
	}
	r, ok := sh.pending[k]
	switch {
	case !ok:
		r = ackRun{lo: lo, points: []ackPoint{{seq, at}}}
	case seq <= r.points[len(r.points)-1].seq:
		r.lo = min(r.lo, lo) // another connection of the user, started earlier
	case len(r.points) >= maxAckPoints:
		r.lo = min(r.lo, lo)
		r.points[len(r.points)-1] = ackPoint{seq, at}
	default:
		r.lo = min(r.lo, lo)
		r.points = append(r.points, ackPoint{seq, at})
	}
	sh.pending[k] = r
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
	Rows       int64 // count rows written (one per alert and delay bucket per flush)
	Counted    int64 // (alert, volunteer) acknowledgements those rows count
	Dropped    int64 // acks lost to a failed flush
}

// Stats reads the counters.
func (a *Acks) Stats() AckStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return AckStats{Flushes: a.flushes, Statements: a.statements, Rows: a.rows, Counted: a.counted, Dropped: a.dropped}
}

// span is the range of seqs (lo, hi] one user's acks cover on a stream,
// with the acks themselves.
type span struct {
	lo, hi int64
	points []ackPoint
}

// Flush writes the acks gathered since the last flush. A failed flush
// drops them (logged): reach is then undercounted, nothing else.
func (a *Acks) Flush(ctx context.Context) {
	byStream := map[string][]span{}
	now := time.Now()
	pending := 0
	for i := range a.shards {
		sh := &a.shards[i]
		sh.mu.Lock()
		for k, r := range sh.pending {
			hi := r.points[len(r.points)-1].seq
			byStream[k.stream] = append(byStream[k.stream], span{lo: r.lo, hi: hi, points: r.points})
			sh.written[k] = writtenPos{seq: hi, seen: now}
		}
		pending += len(sh.pending)
		if len(sh.pending) > 0 {
			sh.pending = make(map[ackKey]ackRun, len(sh.pending))
		}
		for k, w := range sh.written {
			if now.Sub(w.seen) > ackForget {
				delete(sh.written, k)
			}
		}
		sh.mu.Unlock()
	}
	if len(byStream) == 0 {
		return
	}
	rows, counted, stmts, err := a.write(ctx, byStream)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statements += int64(stmts)
	if err != nil {
		a.dropped += int64(pending)
		a.log.Warn("alert acks not written; reach undercounts them", slog.Int("acks", pending), slog.String("error", err.Error()))
		return
	}
	a.flushes++
	a.rows += int64(rows)
	a.counted += int64(counted)
}

// ackCount is how many volunteers acknowledged an alert with a delay in
// one bucket, as one flush wrote it.
type ackCount struct {
	bun.BaseModel `bun:"table:alert_ack_counts"`

	AlertID  string `bun:"alert_id,pk"`
	Batch    string `bun:"batch,pk"`
	BucketMs int64  `bun:"bucket_ms,pk"`
	Acks     int    `bun:"acks"`
}

// write reads the alerts published in the acked ranges of every stream in
// one statement and inserts, per alert covered, one row per delay bucket.
func (a *Acks) write(ctx context.Context, byStream map[string][]span) (rows, counted, statements int, err error) {
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
		return 0, 0, statements, fmt.Errorf("read acked alerts: %w", err)
	}
	batch := uuid.Must(uuid.NewV7()).String()
	var out []ackCount
	for _, ev := range evs {
		var d struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(ev.Data, &d) != nil || d.ID == "" {
			continue
		}
		buckets := map[int64]int{}
		for _, s := range byStream[ev.Stream] {
			if ev.Seq <= s.lo || ev.Seq > s.hi {
				continue
			}
			// The first ack at or past the alert's seq received it.
			i, _ := slices.BinarySearchFunc(s.points, ev.Seq, func(p ackPoint, seq int64) int { return int(p.seq - seq) })
			at := s.points[min(i, len(s.points)-1)].at
			buckets[BucketOf(max(at.Sub(ev.At).Milliseconds(), 0))]++
			counted++
		}
		for _, b := range slices.Sorted(maps.Keys(buckets)) {
			out = append(out, ackCount{AlertID: d.ID, Batch: batch, BucketMs: b, Acks: buckets[b]})
		}
	}
	for start := 0; start < len(out); start += insertBatch {
		part := out[start:min(start+insertBatch, len(out))]
		statements++
		if _, err := a.db.NewInsert().Model(&part).Exec(ctx); err != nil {
			return start, 0, statements, fmt.Errorf("write acks: %w", err)
		}
	}
	return len(out), counted, statements, nil
}
