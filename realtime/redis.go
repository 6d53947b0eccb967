package realtime

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jarimu/jarimu/event"
)

// RedisShards is how many pub/sub channels carry the events. Each instance
// subscribes to all of them once at start and drops events for streams it
// does not serve; see docs/realtime.md for why this beats a channel per
// stream here.
const RedisShards = 64

// Redis is the broker of scaled mode over Redis pub/sub (go-redis v9).
type Redis struct {
	rdb        redis.UniversalClient
	prefix     string
	out        chan []event.Event
	log        *slog.Logger
	gap        atomic.Bool  // events were lost since the last gap notice went out
	notices    noticeGate   // heals asked for by gap notices
	Reconnects atomic.Int64 // subscriptions (re)established
	Dropped    atomic.Int64 // publishes lost to a full queue or a Redis error
	GapNotices atomic.Int64 // gap notices sent after losses
}

var (
	_ Broker   = (*Redis)(nil)
	_ Counting = (*Redis)(nil)
)

// NewRedis makes a broker on rdb; every channel starts with prefix.
func NewRedis(rdb redis.UniversalClient, prefix string, log *slog.Logger) *Redis {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Redis{rdb: rdb, prefix: prefix, out: make(chan []event.Event, 4096), log: log}
}

// channel is the shard channel of a stream.
func (r *Redis) channel(stream string) string {
	h := fnv.New32a()
	h.Write([]byte(stream))
	return r.prefix + "ev:" + strconv.Itoa(int(h.Sum32()%RedisShards))
}

func (r *Redis) channels() []string {
	cs := make([]string, RedisShards)
	for i := range cs {
		cs[i] = r.prefix + "ev:" + strconv.Itoa(i)
	}
	return cs
}

// Publish queues events for Redis without blocking; when the queue is full
// they are dropped here and healed from the database by the receivers.
func (r *Redis) Publish(_ context.Context, events []event.Event) {
	select {
	case r.out <- events:
	default:
		r.Dropped.Add(int64(len(events)))
		r.gap.Store(true)
	}
}

// Run publishes queued events and receives everyone's until ctx ends.
func (r *Redis) Run(ctx context.Context, sink Sink) error {
	var wg sync.WaitGroup
	wg.Go(func() { r.publishLoop(ctx) })
	wg.Go(func() { noticeLoop(ctx, &r.gap, r.notify) })
	r.receiveLoop(ctx, sink)
	wg.Wait()
	return nil
}

func (r *Redis) publishLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evs := <-r.out:
			r.send(ctx, evs)
		}
	}
}

// noticeLoop sends a gap notice (notify) after events were lost (gap: a
// full queue, a failed pipeline), at most every clusterNoticeEvery, until
// one goes out: the other instances heal at once rather than at their next
// sync, so a lost event (a member's removal, say) is not overtaken for
// seconds by later events of other streams. It runs apart from the
// publishes, which a notice waiting for Redis would hold up.
func noticeLoop(ctx context.Context, gap *atomic.Bool, notify func(context.Context) bool) {
	t := time.NewTicker(clusterNoticeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if gap.Swap(false) && !notify(ctx) && ctx.Err() == nil {
			gap.Store(true)
		}
	}
}

// notify sends a gap notice on one channel (every instance subscribes to
// all of them); false when it did not go out.
func (r *Redis) notify(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.rdb.Publish(ctx, r.prefix+"ev:0", healNotice).Err(); err != nil {
		return false
	}
	r.GapNotices.Add(1)
	return true
}

func (r *Redis) send(ctx context.Context, evs []event.Event) {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := r.rdb.Pipelined(sctx, func(p redis.Pipeliner) error {
		for i := range evs {
			b, _ := json.Marshal(&evs[i])
			p.Publish(sctx, r.channel(evs[i].Stream), b)
		}
		return nil
	})
	// A publish that timed out is lost too; only shutdown (ctx) is not.
	if err != nil && ctx.Err() == nil {
		r.Dropped.Add(int64(len(evs)))
		r.gap.Store(true)
		r.log.Warn("redis publish", slog.String("error", err.Error()), slog.Int("events", len(evs)))
	}
}

// receiveLoop reads the shard channels. go-redis reconnects and
// resubscribes by itself after a network error, silently: every
// subscription confirmation and every receive error is therefore treated
// as a possible gap, and the hub heals from the database.
func (r *Redis) receiveLoop(ctx context.Context, sink Sink) {
	ps := r.rdb.Subscribe(ctx, r.channels()...)
	stop := context.AfterFunc(ctx, func() { ps.Close() }) // Receive does not watch ctx
	defer stop()
	defer ps.Close()
	backoff := 100 * time.Millisecond
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.log.Warn("redis receive", slog.String("error", err.Error()))
			sink.Heal()
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			// One confirmation per channel; the last one of a
			// (re)subscription says it is complete: count and heal once.
			if m.Count == RedisShards {
				r.Reconnects.Add(1)
				sink.Heal()
			}
		case *redis.Message:
			if m.Payload == healNotice {
				if r.notices.allow() {
					sink.Heal()
				}
				continue
			}
			var ev event.Event
			if err := json.Unmarshal([]byte(m.Payload), &ev); err == nil {
				sink.Deliver([]event.Event{ev})
			}
		}
	}
}

// Counts implements Counting.
func (r *Redis) Counts() BrokerCounts {
	return BrokerCounts{Subscriptions: r.Reconnects.Load(), Dropped: r.Dropped.Load()}
}

// noticeGate lets a broker heal on gap notices at most once a second:
// every instance that keeps losing publishes sends one every 500 ms (the
// cluster broker on every channel), and each heal reads the heads of every
// stream served here.
type noticeGate struct{ last atomic.Int64 }

func (g *noticeGate) allow() bool {
	now := time.Now().UnixNano()
	last := g.last.Load()
	return now-last >= int64(time.Second) && g.last.CompareAndSwap(last, now)
}
