package realtime

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The ack fast path reads exactly what the full decoder reads, and leaves
// everything else to it.
func TestAckFastPathAgrees(t *testing.T) {
	taken := []string{
		`{"type":"ack","stream":"region:31","seq":1}`,
		`{"type":"ack","stream":"region:national","seq":123456789012345678}`,
		`{"type":"ack","stream":"org:01a21ef8-4344-718f-9937-2ab1a92a39e6","seq":64}`,
		`{"type":"ack","stream":"` + strings.Repeat("x", 128) + `","seq":9}`,
	}
	left := []string{
		`{"type":"ack","stream":"region:31","seq":0}`,
		`{"type":"ack","stream":"region:31","seq":01}`,
		`{"type":"ack","stream":"region:31","seq":-1}`,
		`{"type":"ack","stream":"region:31","seq":1.5}`,
		`{"type":"ack","stream":"region:31","seq":1} `,
		`{"type":"ack","stream":"region:31","seq":1}{}`,
		`{"type":"ack", "stream":"region:31","seq":1}`,
		`{"type":"ack","seq":1,"stream":"region:31"}`,
		`{"type":"ack","stream":"","seq":1}`,
		`{"type":"ack","stream":"a\"b","seq":1}`,
		`{"type":"ack","stream":"a\\u0041","seq":1}`,
		`{"type":"ack","stream":"` + strings.Repeat("x", 129) + `","seq":9}`,
		`{"type":"ack","stream":"régión","seq":1}`,
		`{"type":"ack","stream":"x","seq":1234567890123456789}`,
		`{"type":"ping"}`,
	}
	for _, in := range taken {
		fast, ok := decodeAck([]byte(in))
		full, err := decodeFull([]byte(in))
		if !ok || err != nil || !reflect.DeepEqual(fast, full) {
			t.Errorf("%s: fast %+v %v, full %+v %v; want both to read it alike", in, fast, ok, full, err)
		}
	}
	for _, in := range left {
		if f, ok := decodeAck([]byte(in)); ok {
			t.Errorf("%s: the fast path took it as %+v; it belongs to the full decoder", in, f)
		}
	}
	// Whatever the fast path takes, the full decoder takes the same way.
	for seq := range 300 {
		in := fmt.Sprintf(`{"type":"ack","stream":"s%d","seq":%d}`, seq, seq)
		fast, ok := decodeAck([]byte(in))
		full, err := decodeFull([]byte(in))
		if ok && (err != nil || !reflect.DeepEqual(fast, full)) || !ok && err == nil && seq > 0 {
			t.Errorf("%s: fast %+v %v, full %+v %v", in, fast, ok, full, err)
		}
	}
}

func FuzzAckFastPath(f *testing.F) {
	f.Add(`{"type":"ack","stream":"region:31","seq":7}`)
	f.Add(`{"type":"ack","stream":"a\"b","seq":1}`)
	f.Fuzz(func(t *testing.T, in string) {
		fast, ok := decodeAck([]byte(in))
		if !ok {
			return
		}
		full, err := decodeFull([]byte(in))
		if err != nil || !reflect.DeepEqual(fast, full) {
			t.Fatalf("%q: fast %+v, full %+v %v", in, fast, full, err)
		}
	})
}

func BenchmarkDecodeAck(b *testing.B) {
	in := []byte(`{"type":"ack","stream":"region:31","seq":123456}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeAck(in)
		}
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeFull(in)
		}
	})
}
