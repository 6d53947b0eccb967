package realtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
)

// The feed reads its clients' websocket frames itself (RFC 6455, section
// 5) rather than through gorilla's reader: gorilla's reader blocks a
// goroutine per connection until a message comes and keeps its errors, so
// it cannot be asked "whatever has arrived, and nothing more". Reading the
// frames from the bytes the socket has lets an idle connection have no
// goroutine at all (poll_linux.go). gorilla still does the handshake and
// every write. The library that reads frames this way (gobwas/ws) is not
// served here; the part needed is the frame header, the mask and the
// reassembly of a fragmented message, below.

// Opcodes (RFC 6455, 5.2).
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// maxFrameHeader is the longest header of a client frame: 2 bytes, an
// 8-byte length, a 4-byte mask key.
const maxFrameHeader = 14

// wsFrame is one frame from a client, its payload unmasked.
type wsFrame struct {
	fin     bool
	op      byte
	payload []byte // aliases the read buffer
}

// protocolError is a frame that breaks RFC 6455: the connection closes
// with code (1002, or 1007 for a close frame's reason that is not UTF-8).
type protocolError struct {
	code   int
	reason string
}

func (e *protocolError) Error() string { return e.reason }

func protocol(reason string) error {
	return &protocolError{code: websocket.CloseProtocolError, reason: reason}
}

// errTooLarge is a client message longer than MaxClientFrameSize: closed
// with 4400 and the reason DecodeClientFrame gives for it.
var errTooLarge = fmt.Errorf("%w: larger than %d bytes", errBadFrame, api.MaxClientFrameSize)

// parseFrame reads the frame at the start of b and unmasks its payload in
// place. n is the frame's length in b, 0 while b holds only part of it. A
// data frame's payload may be at most limit bytes: a longer one is
// errTooLarge as soon as its header is read.
func parseFrame(b []byte, limit int) (f wsFrame, n int, err error) {
	if len(b) < 2 {
		return f, 0, nil
	}
	f.fin, f.op = b[0]&0x80 != 0, b[0]&0x0f
	if b[0]&0x70 != 0 {
		return f, 0, protocol("reserved bits set (no extension was agreed)")
	}
	control := f.op >= opClose
	switch f.op {
	case opCont, opText, opBinary:
	case opClose, opPing, opPong:
		if !f.fin {
			return f, 0, protocol("fragmented control frame")
		}
	default:
		return f, 0, protocol(fmt.Sprintf("unknown opcode %d", f.op))
	}
	if b[1]&0x80 == 0 {
		return f, 0, protocol("client frame not masked")
	}
	size, h := uint64(b[1]&0x7f), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return f, 0, nil
		}
		size, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return f, 0, nil
		}
		size, h = binary.BigEndian.Uint64(b[2:]), 10
		if size>>63 != 0 {
			return f, 0, protocol("frame length out of range")
		}
	}
	if control && size > 125 {
		return f, 0, protocol("control frame longer than 125 bytes")
	}
	if !control && size > uint64(limit) {
		return f, 0, errTooLarge
	}
	end := h + 4 + int(size)
	if len(b) < end {
		return f, 0, nil
	}
	mask := b[h : h+4]
	f.payload = b[h+4 : end]
	for i := range f.payload {
		f.payload[i] ^= mask[i&3]
	}
	return f, end, nil
}

// errBinary is a binary message: the feed's frames are text.
var errBinary = errors.New("binary frames are not accepted")

// assembly is a fragmented text message being read: its fragments so far.
// Clients rarely fragment: a connection holds one only between the first
// and the last fragment.
type assembly struct {
	msg []byte
}

// assemble adds data frame f to the message being read (m, nil when none)
// and returns the message when f completes it. The message aliases f's
// payload when f is the whole message. A binary message is errBinary; a
// fragment out of order is a protocol error; a message past
// MaxClientFrameSize is errTooLarge.
func assemble(m **assembly, f wsFrame) (msg []byte, done bool, err error) {
	switch {
	case f.op != opCont && *m != nil:
		return nil, false, protocol("new message before the last fragment of the previous one")
	case f.op == opBinary:
		return nil, false, errBinary
	case f.op == opCont && *m == nil:
		return nil, false, protocol("continuation frame without a message")
	case f.op == opText && f.fin:
		return f.payload, true, nil
	case f.op == opText:
		*m = &assembly{msg: append(make([]byte, 0, min(2*len(f.payload)+64, api.MaxClientFrameSize)), f.payload...)}
		return nil, false, nil
	}
	a := *m
	if len(a.msg)+len(f.payload) > api.MaxClientFrameSize {
		return nil, false, errTooLarge
	}
	if need := len(a.msg) + len(f.payload); need > cap(a.msg) {
		// Grown here, not by append: never past the limit.
		a.msg = append(make([]byte, 0, min(max(2*cap(a.msg), need), api.MaxClientFrameSize)), a.msg...)
	}
	a.msg = append(a.msg, f.payload...)
	if !f.fin {
		return nil, false, nil
	}
	*m = nil
	return a.msg, true, nil
}

// closeFrame reads a client's close frame: its code
// (CloseNoStatusReceived when it has none) or a protocol error (RFC 6455,
// 5.5.1 and 7.4; a one-byte body, which gorilla took as no code, is one).
func closeFrame(p []byte) (int, error) {
	switch {
	case len(p) == 0:
		return websocket.CloseNoStatusReceived, nil
	case len(p) == 1:
		return 0, protocol("close frame of one byte")
	}
	code := int(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return 0, protocol(fmt.Sprintf("invalid close code %d", code))
	}
	if !utf8.Valid(p[2:]) {
		return 0, &protocolError{code: websocket.CloseInvalidFramePayloadData, reason: "close reason is not UTF-8"}
	}
	return code, nil
}

// validCloseCode is a code a peer may send (RFC 6455, 7.4).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1013, code >= 3000 && code <= 4999:
		return true
	}
	return false
}
