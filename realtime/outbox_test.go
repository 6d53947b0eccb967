package realtime

import (
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/event"
)

func ctrl(n int) item { return item{ctrl: int8(n)} }

// A new outbox is held by the start: pushes queue without lending; the
// start's takes drain them and let go; the next push lends a writer once.
func TestOutboxLendsOneWriter(t *testing.T) {
	o := newOutbox()
	if !o.hold() {
		t.Fatal("hold of a fresh outbox failed")
	}
	for i := range 3 {
		if ok, lend := o.push(ctrl(i), 8); !ok || lend {
			t.Fatalf("push %d while held: ok %v lend %v, want queued, no lend", i, ok, lend)
		}
	}
	batch, ok := o.take()
	if !ok || len(batch) != 3 || batch[0].ctrl != 0 || batch[2].ctrl != 2 {
		t.Fatalf("take: %v %v, want the three items in order", batch, ok)
	}
	if _, ok := o.take(); ok {
		t.Fatal("take of an empty outbox kept the writer")
	}
	if ok, lend := o.push(ctrl(1), 8); !ok || !lend {
		t.Fatalf("first push with nobody writing: ok %v lend %v, want a lend", ok, lend)
	}
	if ok, lend := o.push(ctrl(2), 8); !ok || lend {
		t.Fatalf("second push: ok %v lend %v, want queued behind the lent writer", ok, lend)
	}
	o.take()
	o.take()
	o.wait() // the writer let go: returns
}

// A full queue refuses (the client is too slow): while the start holds
// the outbox at startSlack times the limit, from the start's first take on
// at the limit. An ended outbox drops items, refuses a hold, and stops its
// writer at the next take.
func TestOutboxLimitAndEnd(t *testing.T) {
	o := newOutbox()
	o.hold()
	for i := range 4 * startSlack {
		if ok, _ := o.push(ctrl(i), 4); !ok {
			t.Fatalf("push %d of %d during the start refused", i, 4*startSlack)
		}
	}
	if ok, _ := o.push(ctrl(9), 4); ok {
		t.Fatalf("push %d during the start into a queue of 4 was taken", 4*startSlack+1)
	}
	if batch, ok := o.take(); !ok || len(batch) != 4*startSlack {
		t.Fatalf("the start's take: %d items, %v; want all %d", len(batch), ok, 4*startSlack)
	}
	for i := range 4 {
		if ok, _ := o.push(ctrl(i), 4); !ok {
			t.Fatalf("push %d of 4 refused", i)
		}
	}
	if ok, _ := o.push(ctrl(9), 4); ok {
		t.Fatal("a fifth push into a queue of 4 was taken")
	}
	o.end()
	if _, ok := o.take(); ok {
		t.Fatal("take after end kept writing")
	}
	if ok, lend := o.push(ctrl(1), 4); !ok || lend {
		t.Fatalf("push after end: ok %v lend %v, want dropped quietly", ok, lend)
	}
	o.wait()
	e := newOutbox()
	e.end()
	if e.hold() {
		t.Fatal("hold of an ended outbox succeeded")
	}
	e.wait()
}

// Pushes from several goroutines while lent writers drain: every item is
// written once, in each pusher's order, and never by two writers at once.
func TestOutboxConcurrent(t *testing.T) {
	o := newOutbox()
	o.hold()
	o.release()
	var mu sync.Mutex
	var busy bool
	seen := map[int][]int{}
	writer := func() {
		for {
			batch, ok := o.take()
			if !ok {
				return
			}
			mu.Lock()
			if busy {
				t.Error("two writers at once")
			}
			busy = true
			for _, it := range batch {
				p := int(it.ev.Seq >> 32)
				if n := int(it.ev.Seq & 0xffff); n != len(seen[p]) {
					t.Errorf("pusher %d: item %d written as number %d", p, n, len(seen[p]))
				}
				seen[p] = append(seen[p], int(it.ev.Seq&0xffff))
			}
			busy = false
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 500 {
				ev := &event.Event{Seq: int64(p)<<32 | int64(i)}
				for {
					ok, lend := o.push(item{ev: ev}, 64)
					if lend {
						go writer()
					}
					if ok {
						break
					}
					time.Sleep(time.Microsecond)
				}
			}
		})
	}
	wg.Wait()
	o.wait()
	for p := range 4 {
		if len(seen[p]) != 500 {
			t.Fatalf("pusher %d: %d items written, want 500", p, len(seen[p]))
		}
	}
}
