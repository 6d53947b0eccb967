package app

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// Hellos read together (PostgreSQL). A hello's read (feedReadSQL) costs the
// database far more in running a statement at all than in the few rows it
// reads: on a storm's data, over two connections on two cores, statements
// of one hello each ran at 10,200-12,000 a second, statements of 32 hellos
// at 3,100-4,050 a second (about ten times the hellos). So the hellos of an instance wait in one queue, read by one
// statement at a time that takes up to helloMost of them: a hello that
// finds no read running is read at once, as before, and under a storm the
// hellos that came while a statement ran are read together by the next.
// One statement is one snapshot, so each hello's grant, heads and history
// are still read together; the streams many hellos resume (the region
// streams) are read once for all of them.

// helloMost is how many hellos one statement reads at most.
const helloMost = 64

// helloReadsAtOnce is how many reads of hellos an instance runs at a time.
// One: in a reconnect storm of 10,000 phones over two instances (2 cores),
// one at a time made 3,690-3,720 hellos/s, two 3,050-3,330, a quarter of
// the pool (8) 2,560-2,810: the fewer reads, the more hellos each takes.
// A read of 64 hellos takes about a millisecond, so one at a time bounds
// an instance at tens of thousands of hellos a second, far above what its
// sockets take.
const helloReadsAtOnce = 1

// helloReadTimeout bounds one statement's read (the hello waits at most
// its own context, which the feed bounds too).
const helloReadTimeout = 15 * time.Second

// helloAsk is one hello waiting to be read, and its answer once done is
// closed.
type helloAsk struct {
	ctx    context.Context
	userID string
	from   map[string]int64
	limit  int
	st     realtime.Start
	err    error
	done   chan struct{}
}

// helloBatcher queues hellos and reads them in batches (read).
type helloBatcher struct {
	read   func(context.Context, []*helloAsk) // answers each ask (changed under mu)
	atOnce int                                // statements at once
	most   int                                // hellos per statement

	mu      sync.Mutex
	queue   []*helloAsk
	running int

	statements atomic.Int64 // reads run (jarimu_feed_hello_reads_total)
	hellos     atomic.Int64 // hellos they read (jarimu_feed_hellos_read_total)
}

// ask reads q in the next batch and waits for it, or for q.ctx.
func (b *helloBatcher) ask(q *helloAsk) (realtime.Start, error) {
	q.done = make(chan struct{})
	b.mu.Lock()
	b.queue = append(b.queue, q)
	start := b.running < b.atOnce
	if start {
		b.running++
	}
	b.mu.Unlock()
	if start {
		go b.loop()
	}
	select {
	case <-q.done:
		return q.st, q.err
	case <-q.ctx.Done():
		return realtime.Start{}, q.ctx.Err()
	}
}

// loop reads batches while hellos wait, then ends. An ask whose hello
// stopped waiting is left out.
func (b *helloBatcher) loop() {
	for {
		b.mu.Lock()
		var batch []*helloAsk
		for len(b.queue) > 0 && len(batch) < b.most {
			q := b.queue[0]
			b.queue[0] = nil
			b.queue = b.queue[1:]
			if q.ctx.Err() != nil {
				close(q.done)
				continue
			}
			batch = append(batch, q)
		}
		if len(batch) == 0 {
			b.running--
			b.queue = nil // let the emptied array go
			b.mu.Unlock()
			return
		}
		read := b.read
		b.mu.Unlock()
		b.statements.Add(1)
		b.hellos.Add(int64(len(batch)))
		b.readAll(read, batch)
	}
}

// readAll answers batch with read; a read that panics fails its hellos
// (1013, try again) rather than the process. Once every hello of the batch
// has stopped waiting (their connections closed: the server is shutting
// down), nobody needs the answer: the read's context
// ends, which cancels the statement on the server (see db.Open).
func (b *helloBatcher) readAll(read func(context.Context, []*helloAsk), batch []*helloAsk) {
	ctx, cancel := context.WithTimeout(context.Background(), helloReadTimeout)
	ended := make(chan struct{})
	go func() {
		for _, q := range batch {
			select {
			case <-q.ctx.Done():
			case <-ended:
				return
			}
		}
		cancel()
	}()
	defer func() {
		close(ended)
		cancel()
		if p := recover(); p != nil {
			for _, q := range batch {
				q.st, q.err = realtime.Start{}, fmt.Errorf("read hellos: panic: %v", p)
			}
		}
		for _, q := range batch {
			close(q.done)
		}
	}()
	read(ctx, batch)
}

// readHellos answers asks with one run of feedReadSQL: their users, the
// heads of their own streams and of the streams they resume (and those
// their grants give), and the history of each stream resumed from each seq
// asked, each (stream, seq) once.
func (a *App) readHellos(ctx context.Context, asks []*helloAsk) {
	index := map[string]int64{} // user to its number in the statement, from 1
	var users, heads, fromStreams []string
	var fromSeqs []int64
	headSet := map[string]bool{}
	type pos struct {
		stream string
		seq    int64
	}
	fromSet := map[pos]bool{}
	addHead := func(s string) {
		if !headSet[s] {
			headSet[s] = true
			heads = append(heads, s)
		}
	}
	limit := 0
	for _, q := range asks {
		if _, ok := index[q.userID]; !ok {
			users = append(users, q.userID)
			index[q.userID] = int64(len(users))
		}
		addHead(auth.UserStream(q.userID))
		for s, seq := range q.from {
			addHead(s)
			if p := (pos{s, seq}); !fromSet[p] {
				fromSet[p] = true
				fromStreams, fromSeqs = append(fromStreams, s), append(fromSeqs, seq)
			}
		}
		limit = max(limit, q.limit)
	}
	rows, err := a.feedReadPostgres(ctx, users, heads, fromStreams, fromSeqs, limit)
	if err != nil {
		for _, q := range asks {
			q.err = fmt.Errorf("read feed access: %w", err)
		}
		return
	}
	accounts := map[int64]*helloAccount{}
	headOf := map[string]int64{}
	events := map[string][]event.Event{}
	for _, r := range rows {
		switch r.Part {
		case "account":
			accounts[r.U] = &helloAccount{active: r.A == api.UserActive, role: r.B, region: r.C, roles: map[string]string{}}
		case "head":
			headOf[r.A] = r.Seq
		case "event":
			events[r.A] = append(events[r.A], event.Event{Stream: r.A, Seq: r.Seq, ID: r.B, Name: r.C,
				At: r.At.Time, Data: json.RawMessage(r.Data.String)})
		}
	}
	for _, r := range rows { // every account row is in by now
		if acc := accounts[r.U]; r.Part == "member" && acc != nil {
			acc.roles[r.A] = r.B
		}
	}
	for s, evs := range events {
		// Histories from two seqs of a stream overlap.
		slices.SortFunc(evs, func(x, y event.Event) int { return cmp.Compare(x.Seq, y.Seq) })
		events[s] = slices.CompactFunc(evs, func(x, y event.Event) bool { return x.Seq == y.Seq })
	}
	for _, q := range asks {
		q.st = helloStart(q, accounts[index[q.userID]], headOf, events)
	}
}

// helloAccount is a user's account and active memberships (org to role) as
// a batch read them.
type helloAccount struct {
	active       bool
	role, region string
	roles        map[string]string
}

// helloStart is q's part of a batch's read: its grant; the heads read of
// its own stream, of those it resumes and of its grant's; and the history
// of each stream it resumes from its seq, at most q.limit events (the first
// of the stream's events from that seq: the histories of a stream read
// from several seqs hold them all).
func helloStart(q *helloAsk, acc *helloAccount, headOf map[string]int64, events map[string][]event.Event) realtime.Start {
	if acc == nil || !acc.active {
		return realtime.Start{}
	}
	st := realtime.Start{Heads: map[string]int64{}, Since: map[string][]event.Event{}}
	st.Active, st.Role, st.Region = true, acc.role, acc.region
	st.Streams = streamsOf(q.userID, acc.role, acc.region, acc.roles)
	own := auth.UserStream(q.userID)
	st.Head = headOf[own]
	for _, s := range st.Streams {
		if h, ok := headOf[s]; ok {
			st.Heads[s] = h
		}
	}
	for s := range q.from {
		if h, ok := headOf[s]; ok {
			st.Heads[s] = h
		}
	}
	for s, seq := range q.from {
		evs := events[s]
		i, _ := slices.BinarySearchFunc(evs, seq, func(ev event.Event, seq int64) int { return cmp.Compare(ev.Seq, seq) })
		if j := min(i+q.limit, len(evs)); j > i {
			st.Since[s] = evs[i:j:j]
		}
	}
	return st
}
