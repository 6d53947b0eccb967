package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jarimu/jarimu/event"
)

// ClusterRedis is the broker of scaled mode over a Redis Cluster, with the
// sharded pub/sub of Redis 7 (SPUBLISH, SSUBSCRIBE): the same RedisShards
// channels as Redis, <prefix>ev:0 .. <prefix>ev:63, each living on the
// shard that owns its hash slot, so the traffic spreads over the cluster
// instead of being copied to every node as classic pub/sub is.
//
// Each channel has its own publish queue and goroutine, and its own
// subscription (SSUBSCRIBE only takes channels of one slot: one connection
// to the slot's owner, opened by go-redis) and receive goroutine. A shard
// that dies or moves thus only stalls its own channels, and a stream's
// events, all on one channel, stay in order. Every subscription
// confirmation and every receive error asks the sink to heal, as with
// Redis.
//
// Sharded pub/sub adds a gap Redis does not have: a shard that is down (or
// answers CLUSTERDOWN, with cluster-allow-pubsubshard-when-down no) fails
// publishes while the receivers' subscriptions on the other shards stay
// healthy and would never hear of the loss. So after a publish failed or
// was dropped, the broker sends a gap notice on every channel (it goes out
// on the healthy ones); a receiver heals when it gets one.
//
// The prefix must not hold a hash tag ({...}): it would put every channel
// in one slot, on one shard.
type ClusterRedis struct {
	rdb     *redis.ClusterClient
	names   []string             // the channels
	queues  []chan []event.Event // per channel
	log     *slog.Logger
	gap     atomic.Bool // events were lost since the last gap notice went out
	notices noticeGate  // heals asked for by gap notices

	Reconnects atomic.Int64 // channel subscriptions (re)established
	Dropped    atomic.Int64 // publishes lost to a full queue or a Redis error
	GapNotices atomic.Int64 // gap notices sent after losses
}

var (
	_ Broker   = (*ClusterRedis)(nil)
	_ Counting = (*ClusterRedis)(nil)
)

// healNotice is the payload of a gap notice. Events are JSON objects, so it
// can never be taken for one.
const healNotice = "heal"

// Sizes and timings of the cluster broker.
const (
	clusterQueue       = 512                    // batches waiting per channel
	clusterBatch       = 256                    // events per SPUBLISH pipeline at most
	clusterSendTimeout = 2 * time.Second        // per pipeline
	clusterMinBackoff  = 100 * time.Millisecond // first retry of a failed subscription
	clusterMaxBackoff  = 2 * time.Second        // a restarted shard is heard from this soon
	clusterIdlePing    = 15 * time.Second       // a quiet subscription is pinged; no answer in as long: reconnect
	clusterNoticeEvery = 500 * time.Millisecond // gap notices go out (or are retried) this often at most
)

// NewClusterRedis makes a broker on a cluster client; every channel starts
// with prefix.
func NewClusterRedis(rdb *redis.ClusterClient, prefix string, log *slog.Logger) *ClusterRedis {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if hasHashTag(prefix) {
		log.Warn("redis cluster: the channel prefix holds a hash tag, so every channel lands on one shard", slog.String("prefix", prefix))
	}
	r := &ClusterRedis{rdb: rdb, log: log,
		names: make([]string, RedisShards), queues: make([]chan []event.Event, RedisShards)}
	for i := range r.names {
		r.names[i] = prefix + "ev:" + strconv.Itoa(i)
		r.queues[i] = make(chan []event.Event, clusterQueue)
	}
	return r
}

// NewRedisBroker makes the broker for a client of NewRedisClient: over
// sharded pub/sub for a cluster, classic pub/sub otherwise.
func NewRedisBroker(rdb redis.UniversalClient, prefix string, log *slog.Logger) Broker {
	if c, ok := rdb.(*redis.ClusterClient); ok {
		return NewClusterRedis(c, prefix, log)
	}
	return NewRedis(rdb, prefix, log)
}

// hasHashTag reports whether s holds a Redis Cluster hash tag: a '{' with
// a '}' after it and something in between.
func hasHashTag(s string) bool {
	i := strings.IndexByte(s, '{')
	return i >= 0 && strings.IndexByte(s[i+1:], '}') > 0
}

// shard is the index of a stream's channel, as for Redis.
func shard(stream string) int {
	h := fnv.New32a()
	h.Write([]byte(stream))
	return int(h.Sum32() % RedisShards)
}

// Publish queues events for the cluster, on their channels' queues,
// without blocking; when a queue is full they are dropped here and healed
// from the database by the receivers.
func (r *ClusterRedis) Publish(_ context.Context, events []event.Event) {
	if len(events) == 0 {
		return
	}
	first := shard(events[0].Stream)
	one := true
	for i := 1; i < len(events) && one; i++ {
		one = shard(events[i].Stream) == first
	}
	if one {
		r.enqueue(first, events)
		return
	}
	var by [RedisShards][]event.Event
	for _, ev := range events {
		n := shard(ev.Stream)
		by[n] = append(by[n], ev)
	}
	for n, evs := range by {
		if len(evs) > 0 {
			r.enqueue(n, evs)
		}
	}
}

func (r *ClusterRedis) enqueue(n int, events []event.Event) {
	select {
	case r.queues[n] <- events:
	default:
		r.Dropped.Add(int64(len(events)))
		r.gap.Store(true)
	}
}

// Run publishes queued events and receives everyone's until ctx ends.
func (r *ClusterRedis) Run(ctx context.Context, sink Sink) error {
	var wg sync.WaitGroup
	wg.Go(func() { noticeLoop(ctx, &r.gap, r.notify) })
	for n := range r.names {
		wg.Go(func() { r.publishLoop(ctx, n) })
		wg.Go(func() { r.receiveLoop(ctx, sink, r.names[n]) })
	}
	wg.Wait()
	return nil
}

// publishLoop sends channel n's events, in order, batching what queued up
// while the previous batch was out.
func (r *ClusterRedis) publishLoop(ctx context.Context, n int) {
	q := r.queues[n]
	var batch []event.Event // never appended to a queued slice: the hub reads those
	for {
		select {
		case <-ctx.Done():
			return
		case evs := <-q:
			batch = append(batch[:0], evs...)
		}
	more:
		for len(batch) < clusterBatch {
			select {
			case evs := <-q:
				batch = append(batch, evs...)
			default:
				break more
			}
		}
		r.send(ctx, r.names[n], batch)
	}
}

// send publishes evs on channel ch; what fails is counted as dropped and
// calls for a gap notice.
func (r *ClusterRedis) send(ctx context.Context, ch string, evs []event.Event) {
	sctx, cancel := context.WithTimeout(ctx, clusterSendTimeout)
	defer cancel()
	cmds, err := r.rdb.Pipelined(sctx, func(p redis.Pipeliner) error {
		for i := range evs {
			b, _ := json.Marshal(&evs[i])
			p.SPublish(sctx, ch, b)
		}
		return nil
	})
	if err == nil || ctx.Err() != nil {
		return
	}
	lost := 0
	for _, c := range cmds {
		if c.Err() != nil {
			lost++
		}
	}
	if lost == 0 {
		lost = len(evs)
	}
	r.Dropped.Add(int64(lost))
	r.gap.Store(true)
	r.log.Warn("redis cluster publish", slog.String("channel", ch), slog.String("error", err.Error()), slog.Int("events", lost))
}

// notify sends a gap notice on every channel; false when none went out.
// One is enough: a receiver heals on any notice, and one whose subscription
// to that channel was broken heals when it subscribes again.
func (r *ClusterRedis) notify(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, clusterSendTimeout)
	defer cancel()
	cmds, _ := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ch := range r.names {
			p.SPublish(ctx, ch, healNotice)
		}
		return nil
	})
	for _, c := range cmds {
		if c.Err() == nil {
			r.GapNotices.Add(1)
			return true
		}
	}
	return false
}

// receiveLoop keeps one channel subscribed. go-redis reconnects a PubSub
// by itself after a network error, but a SSUBSCRIBE it sends again can be
// refused (CLUSTERDOWN while a restarted shard rejoins, MOVED after a
// failover) and the PubSub then stays connected and deaf. So every error
// closes the PubSub, and a new one is routed to the slot's owner as the
// cluster state knows it then (reloaded after each error).
func (r *ClusterRedis) receiveLoop(ctx context.Context, sink Sink, ch string) {
	backoff := clusterMinBackoff
	for {
		subscribed, err := r.listen(ctx, sink, ch)
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("redis cluster receive", slog.String("channel", ch), slog.String("error", err.Error()))
		sink.Heal()
		r.rdb.ReloadState(ctx)
		if subscribed {
			backoff = clusterMinBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, clusterMaxBackoff)
	}
}

// listen subscribes to ch and delivers what comes until an error, which it
// returns; subscribed tells whether the subscription was confirmed.
func (r *ClusterRedis) listen(ctx context.Context, sink Sink, ch string) (subscribed bool, err error) {
	ps := r.rdb.SSubscribe(ctx, ch)
	stop := context.AfterFunc(ctx, func() { ps.Close() }) // Receive does not watch ctx
	defer stop()
	defer ps.Close()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, clusterIdlePing)
		if ctx.Err() != nil {
			return subscribed, ctx.Err()
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged && subscribed {
				if err := ps.Ping(ctx); err != nil {
					return subscribed, err
				}
				pinged = true
				continue
			}
			return subscribed, err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "ssubscribe" {
				// Redis 7 ends shard channel subscriptions itself
				// (sunsubscribe) when their slot moves to another shard.
				return subscribed, fmt.Errorf("%s of %s by the server", m.Kind, m.Channel)
			}
			subscribed = true
			r.Reconnects.Add(1)
			sink.Heal()
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

// NewRedisClient makes the Redis client of a JARIMU_REDIS_URL, without
// connecting. A URL naming several nodes, redis://[user:pass@]host:port,
// host:port,...[?options], or with cluster=true (or go-redis's addr=
// options) gives a *redis.ClusterClient; any other a *redis.Client. The
// nodes listed only seed the cluster: the client learns the others. A
// redis+sentinel:// URL gives a failover *redis.Client that finds the
// primary through Redis Sentinel (see newSentinelClient).
func NewRedisClient(rawURL string) (redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, errors.New("not a redis://, rediss:// or redis+sentinel:// URL")
	}
	if scheme == sentinelScheme || scheme == sentinelTLSScheme {
		c, err := newSentinelClient(scheme, rest)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	addrs := strings.Split(hosts, ",")
	for i, a := range addrs {
		addrs[i] = strings.TrimSpace(a)
		if addrs[i] == "" && len(addrs) > 1 {
			return nil, errors.New("an empty node in the list of nodes")
		}
	}
	u, err := url.Parse(scheme + "://" + userinfo + addrs[0] + tail)
	if err != nil {
		// url.Error quotes the URL, password included.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("not a valid URL: %w", err)
	}
	q := u.Query()
	cluster := len(addrs) > 1 || q.Has("addr")
	if q.Has("cluster") {
		on, err := strconv.ParseBool(q.Get("cluster"))
		if err != nil {
			return nil, fmt.Errorf("cluster=%q: want true or false", q.Get("cluster"))
		}
		if !on && cluster {
			return nil, errors.New("cluster=false with several nodes")
		}
		cluster = on
		q.Del("cluster")
	}
	u.RawQuery = q.Encode()
	if !cluster {
		opt, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, err
		}
		return redis.NewClient(opt), nil
	}
	if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
		return nil, fmt.Errorf("database %q: a Redis Cluster has only database 0", db)
	}
	u.Path = ""
	for _, a := range addrs[1:] {
		if _, _, err := net.SplitHostPort(a); err != nil {
			a = net.JoinHostPort(strings.Trim(a, "[]"), "6379")
		}
		q.Add("addr", a)
	}
	u.RawQuery = q.Encode()
	opt, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, err
	}
	return redis.NewClusterClient(opt), nil
}

// Counts implements Counting.
func (r *ClusterRedis) Counts() BrokerCounts {
	return BrokerCounts{Subscriptions: r.Reconnects.Load(), Dropped: r.Dropped.Load()}
}
