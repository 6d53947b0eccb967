package realtime

import (
	"testing"
	"time"
)

// A connection lent to the writers while the last writer idles out is
// still drained: starting a writer or queuing, and a writer leaving, are
// decided under one lock. (Writers that idle out after 1 ms, one at most,
// and lendings timed around their leaving: before the lock, a connection
// was stranded in the queue within a few dozen tries.)
func TestWritersNeverStrandAConnection(t *testing.T) {
	defer func(d time.Duration) { writerIdle = d }(writerIdle)
	writerIdle = time.Millisecond
	h := NewHub(Options{Writers: 1})
	h.Run()
	defer h.Close(time.Second)
	c := &conn{hub: h}
	for i := range 2000 {
		if !c.enqueue(item{}) { // an empty item: the writer writes nothing
			t.Fatalf("try %d: the queue is full", i)
		}
		deadline := time.Now().Add(2 * time.Second)
		for !c.out.idle() {
			if time.Now().After(deadline) {
				h.writers.mu.Lock()
				running, queued := h.writers.running, len(h.writers.queue)
				h.writers.mu.Unlock()
				t.Fatalf("try %d: the connection was never drained (writers %d, queued %d)", i, running, queued)
			}
			time.Sleep(50 * time.Microsecond)
		}
		time.Sleep(time.Duration(i%4) * 500 * time.Microsecond)
	}
}
