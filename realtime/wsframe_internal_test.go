package realtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/jarimu/jarimu/api"
)

// masked is a client frame of op and payload, masked with key.
func masked(fin bool, op byte, payload []byte, key [4]byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var b []byte
	switch n := len(payload); {
	case n > 65535:
		b = binary.BigEndian.AppendUint64([]byte{b0, 0x80 | 127}, uint64(n))
	case n > 125:
		b = binary.BigEndian.AppendUint16([]byte{b0, 0x80 | 126}, uint16(n))
	default:
		b = []byte{b0, 0x80 | byte(n)}
	}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

// parseFrame reads back what a client writes, and a prefix of a frame is
// never a frame nor an error: a pass keeps it and reads on.
func FuzzParseFrame(f *testing.F) {
	f.Add([]byte(`{"type":"ack","stream":"region:31","seq":7}`), byte(1), true, uint32(0x01020304), []byte(nil))
	f.Add(bytes.Repeat([]byte("x"), 300), byte(0), false, uint32(0xffffffff), []byte(nil))
	f.Add([]byte("bye"), byte(8), true, uint32(7), []byte{0x88, 0x80})
	f.Add([]byte(nil), byte(9), true, uint32(0), []byte{0x81, 0xff, 0, 0, 0, 0, 0, 0, 0x10, 0})
	f.Fuzz(func(t *testing.T, payload []byte, op byte, fin bool, key uint32, raw []byte) {
		// Any bytes: no panic, a frame no longer than the input.
		b := bytes.Clone(raw)
		if _, n, _ := parseFrame(b, api.MaxClientFrameSize); n > len(raw) {
			t.Fatalf("frame of %d bytes in %d", n, len(raw))
		}
		// A frame a client would send.
		op &= 0x0f
		var k [4]byte
		binary.BigEndian.PutUint32(k[:], key)
		in := masked(fin, op, payload, k)
		fr, n, err := parseFrame(bytes.Clone(in), api.MaxClientFrameSize)
		valid := op <= 2 || op >= 8 && op <= 10
		control := op >= 8
		switch {
		case !valid || control && (!fin || len(payload) > 125):
			var pe *protocolError
			if !errors.As(err, &pe) || pe.code != 1002 {
				t.Fatalf("op %d fin %v len %d: %v, want a protocol error", op, fin, len(payload), err)
			}
		case !control && len(payload) > api.MaxClientFrameSize:
			if err != errTooLarge {
				t.Fatalf("%d bytes: %v, want errTooLarge", len(payload), err)
			}
		default:
			if err != nil || n != len(in) || fr.op != op || fr.fin != fin || !bytes.Equal(fr.payload, payload) {
				t.Fatalf("op %d fin %v %q: got %+v n %d %v", op, fin, payload, fr, n, err)
			}
			for i := range len(in) {
				if _, n, err := parseFrame(bytes.Clone(in[:i]), api.MaxClientFrameSize); n != 0 || err != nil {
					t.Fatalf("prefix of %d of %d bytes: n %d, %v", i, len(in), n, err)
				}
			}
			// Followed by more bytes, the frame is the same.
			more := append(bytes.Clone(in), raw...)
			if fr2, n2, err := parseFrame(more, api.MaxClientFrameSize); err != nil || n2 != n || !bytes.Equal(fr2.payload, payload) {
				t.Fatalf("with bytes after it: n %d %v", n2, err)
			}
		}
	})
}

// assemble joins fragments, refuses them out of order, past the limit or
// binary, and holds nothing once a message is done.
func TestAssemble(t *testing.T) {
	var m *assembly
	text := func(fin bool, op byte, s string) ([]byte, bool, error) {
		return assemble(&m, wsFrame{fin: fin, op: op, payload: []byte(s)})
	}
	if msg, done, err := text(true, opText, "whole"); string(msg) != "whole" || !done || err != nil || m != nil {
		t.Fatalf("whole message: %q %v %v", msg, done, err)
	}
	text(false, opText, "a")
	text(false, opCont, "b")
	if msg, done, err := text(true, opCont, "c"); string(msg) != "abc" || !done || err != nil || m != nil {
		t.Fatalf("fragments: %q %v %v", msg, done, err)
	}
	if _, _, err := text(true, opCont, "x"); err == nil {
		t.Fatal("continuation without a message taken")
	}
	text(false, opText, "a")
	if _, _, err := text(true, opText, "b"); err == nil {
		t.Fatal("a message inside another taken")
	}
	m = nil
	if _, _, err := text(true, opBinary, "b"); err != errBinary {
		t.Fatalf("binary: %v", err)
	}
	text(false, opText, string(bytes.Repeat([]byte("a"), api.MaxClientFrameSize)))
	if _, _, err := text(true, opCont, "b"); err != errTooLarge {
		t.Fatalf("past the limit: %v", err)
	}
}
