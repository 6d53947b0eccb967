package realtime

import (
	"encoding/json"
	"testing"

	"github.com/jarimu/jarimu/api"
)

// topKeys walks keys in place where exactKeys decodes them into a map: on
// every valid JSON value both must give the same verdict.
func FuzzTopKeys(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","token":"t","resume":{"user:01a2":41,"Org":0}}`,
		`{"type":"ack","stream":"org:x","seq":3}`,
		` { "type" : "ping" , "seq" : null } `,
		`{"type":"ping","extra":{"type":1}}`,
		`{"type":"ping","x":[{"a":"}"},"]"]}`,
		`{"type":"ping","token":"a\"b\\","Seq":1}`,
		`{"typ\u0065":"ping"}`,
		`{"t\u0079pe":"ping","ſeq":1}`,
		`{"TYPE":"ping"}`,
		`{"type":"ping","resume":{"a\"":1},"stream":"}"}`,
		`{}`, `null`, `[]`, `"type"`, `1`, `[{"type":"x"}]`,
		"{\"typ\xff\":1}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		slow, fast := exactKeys(b), topKeys(b)
		if (slow == nil) != (fast == nil) {
			t.Fatalf("%q: exactKeys says %v, topKeys %v", b, slow, fast)
		}
	})
}

// A reconnecting phone's hello: decoded once with its keys walked in place
// (full) against decoded with its keys in a map and again (strict).
func BenchmarkDecodeHello(b *testing.B) {
	in := []byte(`{"type":"hello","token":"eyJhbGciOiJFZERTQSIsImtpZCI6IjAxSjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwIiwidHlwIjoiYXQrand0In0.eyJhdWQiOiJqYXJpbXUiLCJleHAiOjE3OTk5OTk5OTksImlhdCI6MTc5OTk5OTAwMCwiaXNzIjoiamFyaW11Iiwic3ViIjoiMDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMCJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl","resume":{"user:01J00000000000000000000000":12,"region:31":140,"org:01J00000000000000000000001":33,"national":9}}`)
	for name, decode := range map[string]func([]byte) (api.ClientFrame, error){"full": decodeFull, "strict": decodeStrict} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decode(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
