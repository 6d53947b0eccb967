package realtime_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/realtime"
)

// knownKeys are the only top-level keys a client frame may have, spelled
// exactly.
var knownKeys = map[string]bool{"type": true, "token": true, "resume": true, "stream": true, "seq": true}

// checkAccepted checks what DecodeClientFrame accepted from b: only known
// keys, exactly spelled, and the frame re-encodes to one it accepts again
// with the same meaning.
func checkAccepted(t *testing.T, b []byte, f api.ClientFrame) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("accepted %q, which is not a JSON object: %v", b, err)
	}
	for k := range raw {
		if !knownKeys[k] {
			t.Fatalf("accepted %q with key %q", b, k)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		t.Fatalf("re-encode %+v: %v", f, err)
	}
	re := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(re) > api.MaxClientFrameSize && (!utf8.Valid(b) || bytes.ContainsAny(b, "\u2028\u2029")) {
		return // the encoder spelled replaced or escaped characters longer
	}
	g, err := realtime.DecodeClientFrame(re)
	if err != nil {
		t.Fatalf("accepted %q, refused its re-encoding %q: %v", b, re, err)
	}
	if g.Type != f.Type || g.Token != f.Token || g.Stream != f.Stream || g.Seq != f.Seq ||
		len(g.Resume) != len(f.Resume) || len(f.Resume) > 0 && !maps.Equal(g.Resume, f.Resume) {
		t.Fatalf("accepted %q as %+v; its re-encoding %q reads as %+v", b, f, re, g)
	}
}

var frameSeeds = []string{
	`{"type":"hello","token":"eyJhbGciOiJFZERTQSJ9.e30.sig"}`,
	`{"type":"hello","token":"t","resume":{"user:01a2":41,"org:01b3":0}}`,
	`{"type":"hello"}`,
	`{"type":"token","token":"fresh"}`,
	`{"type":"ack","stream":"org:x","seq":42}`,
	`{"type":"ping"}`,
	` {"type" : "ping"} `,
	`{"type":"ping","seq":null}`,
	`{"type":"hello","resume":{}}`,
	`{"type":"hello","resume":null}`,
	`{"type":"hello","token":"<\u2028&>"}`,
	`{"type":"token","token":"\ud800"}`,
	"{\"type\":\"token\",\"token\":\"\xff\xfe\"}",
	``,
	`null`,
	`[]`,
	`"ping"`,
	`{}`,
	`{"type":"PING"}`,
	`{"TYPE":"ping"}`,
	`{"Type":"ping"}`,
	`{"type":"ping","extra":1}`,
	`{"type":"ping"}{"type":"ping"}`,
	`{"type":"ping"} x`,
	`{"type":"ack","stream":"org:x","seq":0}`,
	`{"type":"ack","stream":"","seq":1}`,
	`{"type":"ack","stream":"org:x","seq":1.5}`,
	`{"type":"ack","stream":"org:x","seq":"1"}`,
	`{"type":"ack","stream":"org:x","seq":9223372036854775808}`,
	`{"type":"hello","resume":{"":1}}`,
	`{"type":"hello","resume":{"a":-1}}`,
	`{"type":"token","token":""}`,
	`{"type":"ack","stream":"org:x","ſeq":3}`,
	`{"type":"ack","ſtream":"org:x","seq":3}`,
	`{"type":"hello","reſume":{"a":1}}`,
	`{"type":"ping","type":"hello"}`,
	`{"type":"hello","resume":{"a":1,"a":2}}`,
	`{"type":"ping","token":"` + strings.Repeat("x", 4100) + `"}`,
}

// DecodeClientFrame never panics; whatever it accepts has only the known
// keys and survives a re-encoding.
func FuzzDecodeClientFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := realtime.DecodeClientFrame(b)
		if err != nil {
			return
		}
		if len(b) > api.MaxClientFrameSize {
			t.Fatalf("accepted %d bytes, more than %d", len(b), api.MaxClientFrameSize)
		}
		switch fr.Type {
		case "hello", "token", "ack", "ping":
		default:
			t.Fatalf("accepted %q with type %q", b, fr.Type)
		}
		checkAccepted(t, b, fr)
	})
}

// The decoder's verdict on each kind of frame.
func TestDecodeClientFrame(t *testing.T) {
	for _, s := range []string{
		`{"type":"hello","token":"t","resume":{"user:01a2":41}}`, `{"type":"hello"}`,
		`{"type":"token","token":"t"}`, `{"type":"ack","stream":"org:x","seq":1}`, `{"type":"ping"}`,
	} {
		f, err := realtime.DecodeClientFrame([]byte(s))
		if err != nil {
			t.Errorf("%s: got %v, want it accepted", s, err)
			continue
		}
		checkAccepted(t, []byte(s), f)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"type":"PING"}`, `{"TYPE":"ping"}`, `{"Type":"ping"}`,
		`{"type":"ping","extra":1}`, `{"type":"ping"}{}`, `{"type":"ping"} x`,
		`{"type":"ack","stream":"org:x","seq":0}`, `{"type":"ack","seq":1}`, `{"type":"token"}`,
		`{"type":"hello","resume":{"a":-1}}`, `{"type":"hello","resume":{"":1}}`,
		`{"type":"hello","resume":{"` + strings.Repeat("s", 129) + `":1}}`,
		`{"type":"ping","token":"` + strings.Repeat("x", 4100) + `"}`,
		// Go's decoder folds case, including U+017F (ſ) to s; the frame
		// must use the exact keys.
		`{"type":"ack","stream":"org:x","ſeq":3}`,
		`{"type":"ack","ſtream":"org:x","seq":3}`,
		`{"type":"hello","reſume":{"a":1}}`,
	} {
		if f, err := realtime.DecodeClientFrame([]byte(s)); err == nil {
			t.Errorf("%.60s: accepted as %+v, want it refused", s, f)
		}
	}
}
