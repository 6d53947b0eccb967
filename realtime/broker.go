package realtime

import (
	"context"
	"sync"

	"github.com/jarimu/jarimu/event"
)

// Sink receives what a broker carries: events to fan out, and a call to heal
// from the log whenever the broker may have lost some. *Hub is a Sink.
type Sink interface {
	Deliver(events []event.Event)
	Heal()
}

// Broker carries committed events between instances. Publish never blocks:
// the database holds every event, and a broker that drops one is healed
// from it. Redis pub/sub is at-most-once: the doorbell, not the record.
type Broker interface {
	Publish(ctx context.Context, events []event.Event)
	// Run receives events for sink until ctx ends.
	Run(ctx context.Context, sink Sink) error
}

// BrokerCounts are what a broker over the network counts: subscriptions
// (re)established (each may have lost events, and heals) and events it
// could not publish.
type BrokerCounts struct {
	Subscriptions, Dropped int64
}

// Counting is a broker that keeps BrokerCounts (the Redis brokers).
type Counting interface {
	Counts() BrokerCounts
}

// Memory is the in-process broker of embedded mode: every sink of this
// process gets every event. Two hubs sharing one Memory act like two
// instances sharing Redis.
type Memory struct {
	mu    sync.RWMutex
	sinks map[Sink]struct{}
}

var _ Broker = (*Memory)(nil)

// NewMemory makes an in-process broker.
func NewMemory() *Memory { return &Memory{sinks: map[Sink]struct{}{}} }

// Publish implements Broker; Deliver on a sink does not block.
func (m *Memory) Publish(_ context.Context, events []event.Event) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for s := range m.sinks {
		s.Deliver(events)
	}
}

// Run implements Broker.
func (m *Memory) Run(ctx context.Context, sink Sink) error {
	m.mu.Lock()
	m.sinks[sink] = struct{}{}
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	delete(m.sinks, sink)
	m.mu.Unlock()
	return nil
}

// Fanout is the event log's publisher: committed events go to this
// instance's hub at once (the lowest latency, and local clients keep
// getting events while the broker is down) and to the broker for the
// other instances. The hub drops the copy that comes back by seq.
type Fanout struct {
	Hub    *Hub
	Broker Broker
}

// Publish implements event.Publisher.
func (f Fanout) Publish(ctx context.Context, events []event.Event) {
	f.Hub.Deliver(events)
	f.Broker.Publish(ctx, events)
}
