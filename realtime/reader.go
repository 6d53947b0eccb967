package realtime

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/jarimu/jarimu/api"
)

// Reading a connection's frames after its hello.
//
// An idle connection has no goroutine: on Linux one of the hub's pollers
// (poll_linux.go) hears when its socket has bytes, and a pass reads what
// the socket holds and acts on each whole frame. Acks and pongs, nearly
// all a client sends, are acted on in the poller's own pass; any other
// frame may wait (a token's check, a close frame's write behind a batch),
// so the pass goes on in a goroutine of its own until the socket is empty.
// Elsewhere, or for a socket that is not plain TCP or Unix, or with
// Options.ReaderGoroutines, a goroutine per connection reads (readLoop).
//
// rstate orders the passes of a connection: at most one at a time, none
// lost (readiness heard during a pass makes it read again), and the end of
// the connection after the last of them.
const (
	rBusy   = 1 << iota // a pass is reading
	rAgain              // the socket became readable during the pass
	rStop               // reading is over; the last pass ends the connection
	rPolled             // a poller hears the socket (no goroutine waits on it)
	rHup                // the peer's end (or an error) was heard: read to the end
)

// readState is what a connection keeps between passes, rarely: the start
// of a frame that has not all arrived, a fragmented message.
type readState struct {
	pend []byte
	frag *assembly
}

// passBuf is the buffer of one pass: a whole client frame and more.
// minRoom is what a read gets at least: bytes kept from before are at most
// part of a frame, or what a hand-off left of one full buffer.
const (
	passBuf = 16 << 10
	minRoom = 512
)

// A pass's buffer holds the longest frame with room to read.
var _ [passBuf - minRoom - maxFrameHeader - api.MaxClientFrameSize]byte

// maxInlineReads is how many full buffers a poller reads of one
// connection before handing it to a goroutine.
const maxInlineReads = 4

var passBufs = sync.Pool{New: func() any { b := make([]byte, passBuf); return &b }}

// passResult is how a pass's frames left it.
type passResult int8

const (
	passOn     passResult = iota // read on
	passHanded                   // a goroutine of its own goes on with the pass
	passOver                     // reading is over
)

// startReading serves the client's frames after the hello: a poller, or a
// goroutine of the connection's own. From here the hub's watch ends a
// silent connection.
func (c *conn) startReading() {
	nc := c.ws.NetConn()
	nc.SetReadDeadline(time.Time{})
	c.heard()
	ps := c.hub.polls.Load()
	raw, ok := pollable(nc)
	if ps == nil || !ok {
		if c.rstate.Load()&rStop != 0 { // stopped before (see readStop)
			c.finish()
			return
		}
		go c.run()
		return
	}
	// The first pass is this goroutine's, from before the poller hears
	// the socket: readiness heard meanwhile makes it read again, and an
	// end meanwhile is its to carry out.
	for {
		s := c.rstate.Load()
		if s&rStop != 0 { // stopped before: no pass, no poller
			c.finish()
			return
		}
		if c.rstate.CompareAndSwap(s, s|rPolled|rBusy) {
			break
		}
	}
	switch err := ps.add(c, raw); {
	case errors.Is(err, errSocketClosed):
		c.readStop()
		c.settle(false)
		return
	case err != nil:
		// The poller cannot take it (epoll's watch limit, say): a
		// goroutine reads this connection, as with goroutine readers.
		c.hub.pollerRefused(err)
		for {
			s := c.rstate.Load()
			if s&rStop != 0 {
				c.finish()
				return
			}
			// rBusy stays: a poller that found the connection in its map
			// during the refused add must not start a pass beside the
			// goroutine (claim then only sets rAgain, which nothing reads
			// without rPolled).
			if c.rstate.CompareAndSwap(s, s&^(rPolled|rAgain)) {
				go c.run()
				return
			}
		}
	}
	// What came with the hello, or before the poller heard the socket.
	buf := passBufs.Get().(*[]byte)
	c.pass(*buf, false)
	passBufs.Put(buf)
}

// run is the reading goroutine of a connection that no poller hears.
func (c *conn) run() {
	c.readLoop()
	c.finish()
}

// finish ends the connection once reading is over: the close frame (if
// none went yet), the writer's end, then the socket and the rest.
func (c *conn) finish() {
	c.close(1000, "")
	c.out.wait() // no writer starts once closed
	c.end()
}

// readStop ends the reading: the pass in progress or a goroutine's blocked
// read, or now when no pass runs. Safe from anywhere, any number of times.
func (c *conn) readStop() {
	for {
		s := c.rstate.Load()
		if s&rStop != 0 {
			return
		}
		if !c.rstate.CompareAndSwap(s, s|rStop) {
			continue
		}
		switch {
		case s&rPolled == 0:
			// A goroutine reads (or will, and checks rStop first): its
			// read fails as with a socket deadline.
			c.ws.NetConn().SetReadDeadline(time.Unix(0, 1))
		case s&rBusy == 0:
			go c.finish()
		}
		return
	}
}

// claim makes the caller the connection's reader for a pass; false when a
// pass runs (it reads again) or reading is over.
func (c *conn) claim() bool {
	for {
		s := c.rstate.Load()
		switch {
		case s&rStop != 0:
			return false
		case s&rBusy != 0:
			if c.rstate.CompareAndSwap(s, s|rAgain) {
				return false
			}
		default:
			if c.rstate.CompareAndSwap(s, s|rBusy) {
				return true
			}
		}
	}
}

// settle ends a pass: false when it must read again; true when the
// connection is back with its poller, or ended (inline: on the poller's
// goroutine, which never waits, so the end goes to a goroutine).
func (c *conn) settle(inline bool) bool {
	for {
		s := c.rstate.Load()
		if s&rAgain != 0 && s&rStop == 0 {
			if c.rstate.CompareAndSwap(s, s&^rAgain) {
				return false
			}
			continue
		}
		if !c.rstate.CompareAndSwap(s, s&^(rBusy|rAgain)) {
			continue
		}
		if s&rStop != 0 {
			if inline {
				go c.finish()
			} else {
				c.finish()
			}
		}
		return true
	}
}

// pass reads until the socket is empty, acting on what it read, and again
// while readiness comes meanwhile. inline: on a poller's goroutine.
func (c *conn) pass(buf []byte, inline bool) {
	for {
		if c.rstate.Load()&rStop == 0 {
			switch c.readAvailable(buf, inline) {
			case passHanded:
				return
			case passOver:
				c.readStop()
			}
		}
		if c.settle(inline) {
			return
		}
	}
}

// readAvailable reads what the socket holds, without waiting, and acts on
// each whole frame; the start of a frame that has not all arrived waits
// in readState.
func (c *conn) readAvailable(buf []byte, inline bool) passResult {
	for reads := 0; ; reads++ {
		if inline && reads == maxInlineReads {
			// A client that sends this much is not idle: a goroutine of
			// its own reads it, and the poller serves the others.
			c.handOff(func() bool { return true })
			return passHanded
		}
		n := c.takePend(buf)
		if n > len(buf)-minRoom {
			// Whole frames kept at a hand-off: act on them before
			// reading (what stays then is part of one frame).
			off, r := c.frames(buf[:n], inline)
			if r != passOn {
				return r
			}
			c.keep(buf[off:n])
			continue
		}
		room := len(buf) - n
		m, err := c.readRaw(buf[n:])
		if m > 0 {
			n += m
		}
		off, r := c.frames(buf[:n], inline)
		if r != passOn {
			return r
		}
		if off < n {
			c.keep(buf[off:n])
		}
		switch {
		case errors.Is(err, errWouldBlock):
			return passOn
		case err != nil || m <= 0: // closed, reset, or the client's end
			c.wstate.Or(closeSent)
			return passOver
		case m < room && c.rstate.Load()&rHup == 0:
			// The socket had less than asked: it is empty. (The kernel
			// signals every arrival of data on a socket, so a short
			// read needs no second one to learn that. Not so the
			// client's end, which may come with its last data: once
			// the poller heard it, passes read until the socket says
			// end or empty.)
			return passOn
		}
	}
}

// readLoop is the reading of a goroutine that waits on the socket.
func (c *conn) readLoop() {
	const size = 512
	buf := make([]byte, size)
	nc := c.ws.NetConn()
	// What came with the hello may hold whole frames: they go first.
	first := c.rd != nil && len(c.rd.pend) > 0
	for {
		// A buffer fits what is kept (at most part of a frame) and
		// more; back to small after a large frame.
		kept := 0
		if c.rd != nil {
			kept = len(c.rd.pend)
		}
		switch {
		case kept+size/2 > len(buf):
			buf = make([]byte, kept+size)
		case len(buf) > size && kept <= size/2:
			buf = make([]byte, size)
		}
		n := c.takePend(buf)
		var m int
		var err error
		if !first {
			m, err = nc.Read(buf[n:])
			n += m
		}
		first = false
		off, r := c.frames(buf[:n], false)
		if r == passOver {
			return
		}
		if off < n {
			c.keep(buf[off:n])
		}
		if err != nil {
			c.wstate.Or(closeSent)
			return
		}
	}
}

// frames acts on each whole frame of b and returns how much of b it used.
// Inline, a frame other than an ack or a pong hands the rest of the pass
// to a goroutine (with b's rest kept).
func (c *conn) frames(b []byte, inline bool) (int, passResult) {
	off := 0
	for off < len(b) {
		f, n, err := parseFrame(b[off:], api.MaxClientFrameSize)
		if err != nil {
			if inline {
				c.handOff(func() bool { c.refuse(err); return false })
				return len(b), passHanded
			}
			c.refuse(err)
			return len(b), passOver
		}
		if n == 0 {
			break
		}
		off += n
		if inline {
			if c.quick(f) {
				continue
			}
			f.payload = bytes.Clone(f.payload) // the poller's buffer is reused
			c.keep(b[off:])
			c.handOff(func() bool { return c.onFrame(f) })
			return len(b), passHanded
		}
		if !c.onFrame(f) {
			return len(b), passOver
		}
	}
	return off, passOn
}

// handOff goes on with the pass in a goroutine of its own, acting first.
func (c *conn) handOff(act func() bool) {
	go func() {
		if !act() {
			c.readStop()
		}
		buf := passBufs.Get().(*[]byte)
		c.pass(*buf, false)
		passBufs.Put(buf)
	}()
}

// quick acts on an ack or a pong, which never wait; false for any other
// frame.
func (c *conn) quick(f wsFrame) bool {
	switch {
	case f.op == opPong:
		c.heard()
		return true
	case f.op == opText && f.fin && (c.rd == nil || c.rd.frag == nil):
		a, ok := decodeAck(f.payload)
		if !ok {
			return false
		}
		c.heard()
		c.handle(a) // an ack is noted, never refused
		return true
	}
	return false
}

// onFrame acts on one frame (it may wait); false ends the reading.
func (c *conn) onFrame(f wsFrame) bool {
	if ok, err := c.control(f); ok {
		var pe *protocolError
		if errors.As(err, &pe) {
			c.refuse(err)
		}
		return err == nil
	}
	// A readState only for a fragmented message (an unfragmented one,
	// nearly all, allocates nothing here).
	var frag *assembly
	if c.rd != nil {
		frag = c.rd.frag
	}
	msg, done, err := assemble(&frag, f)
	if err != nil {
		c.refuse(err)
		return false
	}
	if frag != nil || c.rd != nil {
		c.reading().frag = frag
		c.tidy()
	}
	if !done {
		return true
	}
	fr, err := DecodeClientFrame(msg)
	if err != nil {
		c.refuse(err)
		return false
	}
	c.heard()
	return c.handle(fr)
}

// control acts on a control frame, with the hello as after it; false for
// a data frame. An error ends the reading: errClosedByClient after the
// client's close frame (answered), a protocolError for a bad one, or the
// failure of a ping's answer.
func (c *conn) control(f wsFrame) (bool, error) {
	switch f.op {
	case opPing:
		return true, c.ping(string(f.payload))
	case opPong:
		if c.readAt.Load() != 0 { // the watch looks at connections past their hello
			c.heard()
		}
		return true, nil
	case opClose:
		code, err := closeFrame(f.payload)
		if err != nil {
			return true, err
		}
		c.closing(code, "")
		return true, errClosedByClient
	}
	return false, nil
}

// refuse closes the connection for a frame that is not one the feed takes:
// 1002 or 1007 for a websocket protocol error, 4400 for the rest.
func (c *conn) refuse(err error) {
	var pe *protocolError
	if errors.As(err, &pe) {
		c.close(pe.code, pe.reason)
		return
	}
	c.close(4400, trimReason(err.Error()))
}

// reading is the connection's readState, made when first needed.
func (c *conn) reading() *readState {
	if c.rd == nil {
		c.rd = &readState{}
	}
	return c.rd
}

// tidy drops the readState once it holds nothing.
func (c *conn) tidy() {
	if c.rd != nil && c.rd.frag == nil && len(c.rd.pend) == 0 {
		c.rd = nil
	}
}

// keep holds b, the start of a frame, until more of it is read.
func (c *conn) keep(b []byte) {
	if len(b) > 0 {
		rd := c.reading()
		rd.pend = append(rd.pend, b...)
	}
}

// takePend moves the kept bytes to the front of buf; their length.
func (c *conn) takePend(buf []byte) int {
	if c.rd == nil || len(c.rd.pend) == 0 {
		return 0
	}
	n := copy(buf, c.rd.pend)
	c.rd.pend = nil
	c.tidy()
	return n
}

// errClosedByClient is the end of the reading after the client's close
// frame.
var errClosedByClient = errors.New("closed by the client")

// readFirst reads the client's first message (the hello) within the
// socket's read deadline, answering control frames meanwhile; what came
// after it is kept for the first pass.
func (c *conn) readFirst() ([]byte, error) {
	buf := make([]byte, 1024)
	nc := c.ws.NetConn()
	n := 0
	var frag *assembly
	for {
		off := 0
		for {
			f, k, err := parseFrame(buf[off:n], api.MaxClientFrameSize)
			if err != nil {
				return nil, err
			}
			if k == 0 {
				break
			}
			off += k
			if ok, err := c.control(f); ok {
				if err != nil {
					return nil, err
				}
				continue
			}
			msg, done, err := assemble(&frag, f)
			if err != nil {
				return nil, err
			}
			if done {
				c.keep(buf[off:n])
				return msg, nil
			}
		}
		n = copy(buf, buf[off:n])
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := nc.Read(buf[n:])
		n += m
		if err != nil {
			return nil, err
		}
	}
}

// pollable is the socket of nc when a poller can hear it: a plain TCP or
// Unix stream (a TLS connection, say, buffers what it decrypted; a packet
// socket's short read does not say it is empty).
func pollable(nc net.Conn) (syscall.RawConn, bool) {
	switch nc := nc.(type) {
	case *net.TCPConn:
		raw, err := nc.SyscallConn()
		return raw, err == nil
	case *net.UnixConn:
		if nc.LocalAddr().Network() != "unix" {
			return nil, false
		}
		raw, err := nc.SyscallConn()
		return raw, err == nil
	}
	return nil, false
}
