package realtime

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Write coalescing. A connection's writer takes every item queued since its
// last take (outbox.take). The fanned-out events among them are not written
// one system call each: their frames, built once per fan-out, collect in
// the connection's batch and go out together in one write at the batch's
// end, or before anything else is written (a frame built here, a ping, the
// close), so the order on the wire is the queue's order. An idle feed costs
// the same (one event, one write); under load, when a connection's queue
// holds several events by the time its writer comes, the system calls per
// delivery fall, where they are most of the server's CPU (a write on
// loopback TCP also runs the receiver's side). gorilla/websocket writes one
// message per call, so these frames are written on its connection's socket
// directly: a single Write of whole frames, which Go's socket (and
// crypto/tls) never interleaves with another Write, and wstate keeps them
// from following the close frame. gorilla's control frames (ping, pong)
// leave their deadline on the socket, which its own writes reset and these
// do not: deadline says one was set, and the next batch clears it.

// maxBatchBytes is how much a batch holds before it is written mid-batch.
const maxBatchBytes = 64 << 10

// wstate bits.
const (
	rawWriting = 1 // the writer is writing a batch
	closeSent  = 2 // the close frame went out (or was given up): no more data
)

// batchBufs holds the buffers batches of several frames are joined in.
var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// textFrame is payload as a complete, final, unmasked, uncompressed
// websocket text frame as a server sends it (RFC 6455, section 5.2).
func textFrame(payload []byte) []byte {
	n := len(payload)
	var b []byte
	switch {
	case n < 126:
		b = make([]byte, 2, 2+n)
		b[1] = byte(n)
	case n <= 0xFFFF:
		b = make([]byte, 4, 4+n)
		b[1] = 126
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b = make([]byte, 10, 10+n)
		b[1] = 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	b[0] = 0x80 | websocket.TextMessage // FIN, text
	return append(b, payload...)
}

// buffer adds a shared event frame to the batch (writing the batch first
// when it would grow past maxBatchBytes).
func (c *conn) buffer(frame []byte) error {
	if c.wlen > 0 && c.wlen+len(frame) > maxBatchBytes {
		if err := c.flush(); err != nil {
			return err
		}
	}
	if c.wfirst == nil {
		c.wfirst = frame
	} else {
		c.wmore = append(c.wmore, frame)
	}
	c.wlen += len(frame)
	return nil
}

// flush writes the batch in one system call (a single frame as it is,
// several joined), once a pong being written (exclusive) is out. After
// the close frame it writes nothing (errEnded).
func (c *conn) flush() error {
	if c.wfirst == nil {
		return nil
	}
	b, pooled := c.wfirst, (*[]byte)(nil)
	if len(c.wmore) > 0 {
		pooled = batchBufs.Get().(*[]byte)
		b = append((*pooled)[:0], c.wfirst...)
		for _, f := range c.wmore {
			b = append(b, f...)
		}
		*pooled = b
	}
	n := 1 + len(c.wmore)
	c.discard()
	defer func() {
		if pooled != nil && cap(*pooled) <= maxBatchBytes+4096 {
			batchBufs.Put(pooled)
		}
	}()
	if !c.wstate.CompareAndSwap(0, rawWriting) && !c.take(time.Now().Add(2*time.Second)) {
		if c.wstate.Load()&closeSent != 0 {
			return errEnded
		}
		return writeFailed{errSocketHeld}
	}
	if c.deadline.Load() && c.deadline.Swap(false) { // no write per batch
		c.ws.NetConn().SetWriteDeadline(time.Time{})
	}
	c.writing()
	_, err := c.ws.NetConn().Write(b)
	c.wrote()
	if err != nil {
		// Part of a frame may be on the wire: nothing more may follow
		// (gorilla would refuse its writes after a failed one; these
		// are not its writes).
		c.wstate.Or(closeSent)
	}
	c.wstate.CompareAndSwap(rawWriting, 0)
	if err != nil {
		return writeFailed{err}
	}
	c.hub.o.Metrics.EventWrites.Add(1)
	if n > 1 {
		c.hub.o.Metrics.Coalesced.Add(int64(n - 1))
	}
	return nil
}

// writeFailed is a batch's write that failed: the client's socket, not a
// dependency of the server.
type writeFailed struct{ err error }

func (e writeFailed) Error() string { return "feed write: " + e.err.Error() }
func (e writeFailed) Unwrap() error { return e.err }

// ping answers a client's websocket ping (what gorilla's default handler
// does) from the reader, never during a batch's write: the pong's deadline
// (1 s) would apply to that write too, and cut a slow client's batch long
// before WriteTimeout. Like the close frame it waits at most a second for
// the batch; then the pong is given up (the client pings again). The
// deadline it leaves is cleared before the next batch.
func (c *conn) ping(data string) error {
	var err error
	if !c.exclusive(func() {
		err = c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		c.deadline.Store(true)
		if err != nil && err != websocket.ErrCloseSent {
			// Part of the pong may be on the wire: no batch may follow
			// it (a batch waiting for the socket would write after it).
			c.wstate.Or(closeSent)
		}
	}) {
		return nil
	}
	if err == nil || err == websocket.ErrCloseSent {
		return nil
	}
	c.close(1011, "write failed")
	return writeFailed{err} // the reading ends
}

// closing answers a client's close frame (what gorilla's default handler
// does) with the same code, as the close frame after which no batch goes.
func (c *conn) closing(code int, _ string) error {
	c.sendClose(websocket.FormatCloseMessage(code, ""))
	return nil
}

// exclusive runs write while no batch is being written, waiting at most a
// second; false when it did not run (the close frame went out, or a batch
// write is stuck).
func (c *conn) exclusive(write func()) bool {
	if !c.take(time.Now().Add(time.Second)) {
		return false
	}
	write()
	c.wstate.CompareAndSwap(rawWriting, 0)
	return true
}

// take claims the socket for a write (wstate's rawWriting), waiting while
// another write is under way (a batch, or a pong from the reader), at most
// until deadline; false when the close frame went out or the deadline
// passed. A batch waits for a pong (at most its 1 s deadline): ending the
// connection instead would cut a client that pings while events come.
func (c *conn) take(deadline time.Time) bool {
	for !c.wstate.CompareAndSwap(0, rawWriting) {
		if c.wstate.Load()&closeSent != 0 || time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
	return true
}

// errSocketHeld is a batch that found the socket held by another write for
// longer than that write's own deadline allows.
var errSocketHeld = errors.New("socket held by another write")

// discard drops the batch unwritten (the connection is ending).
func (c *conn) discard() { c.wfirst, c.wmore, c.wlen = nil, nil, 0 }

// sendClose writes the close frame once no batch is being written, waiting
// at most a second (as gorilla's own write lock would); past that, a write
// is stuck on a full socket and the close frame is given up (the socket is
// closed soon after). Either way no batch is written after it.
func (c *conn) sendClose(msg []byte) {
	c.exclusive(func() {
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		c.wstate.Or(closeSent) // before the batches' turn comes back
	})
	c.wstate.Or(closeSent) // given up (or sent already): no batch either
}
