package realtime

import "sync"

// outbox is a connection's queue of items for its writer, and the state of
// who writes them. A connection has no writer goroutine of its own: the
// item queued while nobody writes makes push answer lend, and the caller
// lends the connection to one of the hub's writers, which takes batches
// until the queue is empty and lets go. At most one writes at a time
// (gorilla allows one writer), and an idle connection costs no goroutine.
//
// A new outbox is held: the connection's start acts as its writer (the
// welcome and the resumed history go first), and live items queue behind
// it without lending anyone. Those are not the client's delay: the start
// reads the database and writes the history (seconds in a reconnect
// storm), so until it hands over (its first take) they may number
// startSlack times the limit before the client counts as too slow.
type outbox struct {
	mu      sync.Mutex
	pending []item // waiting for the writer
	writing bool   // a writer holds the outbox
	ended   bool   // the connection ended: items are dropped, nobody writes
	start   bool   // the connection's start holds it (startSlack)
	writers sync.WaitGroup
}

// newOutbox makes an outbox held by the connection's start.
func newOutbox() outbox { return outbox{writing: true, start: true} }

// startSlack is how many times the limit of items may wait while the
// connection's start holds the outbox: events of a busy org during a slow
// start (1,024 at the default limit of 64) are queued, not taken for a
// slow client.
const startSlack = 16

// push queues it unless limit items (startSlack times as many during the
// start) wait already (ok false: the client is too slow). lend says the caller must lend the connection to a writer,
// which then calls take until it answers false. Items for an ended
// connection are dropped (ok true).
func (o *outbox) push(it item, limit int) (ok, lend bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		return true, false
	}
	if o.start {
		limit *= startSlack
	}
	if len(o.pending) >= limit {
		return false, false
	}
	o.pending = append(o.pending, it)
	if o.writing {
		return true, false
	}
	o.writing = true
	o.writers.Add(1)
	return true, true
}

// hold confirms that the connection's start writes first; false when the
// connection ended meanwhile (then nobody writes).
func (o *outbox) hold() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		o.writing = false
		return false
	}
	o.writers.Add(1)
	return true
}

// take gives the writer the items queued since its last take, in order.
// When there are none, or the connection ended, the writer lets go of the
// outbox (false). The first take is the start's, once it is done: from
// then on the limit counts in full.
func (o *outbox) take() ([]item, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.start = false
	batch := o.pending
	o.pending = nil
	if len(batch) == 0 || o.ended {
		o.letGo()
		return nil, false
	}
	return batch, true
}

// release lets go of the outbox without taking more: the writer stops (a
// write failed, or the start did).
func (o *outbox) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.letGo()
}

func (o *outbox) letGo() {
	if o.writing {
		o.writing = false
		o.writers.Done()
	}
}

// end drops what waits and refuses more; a writer that holds the outbox
// stops at its next take.
func (o *outbox) end() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended = true
	o.pending = nil
}

// idle reports that nothing waits and no writer holds the outbox.
func (o *outbox) idle() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.writing && len(o.pending) == 0
}

// wait returns once no writer holds the outbox; after end, none starts.
func (o *outbox) wait() { o.writers.Wait() }
