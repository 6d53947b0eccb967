package bench

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

// The fast reader of event frames must agree with encoding/json on every
// frame it accepts, and leave to encoding/json every frame it cannot read.
func TestParseEventFastAgreesWithJSON(t *testing.T) {
	region := "31"
	alert, _ := json.Marshal(api.Alert{ID: "0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b", Title: `Hoaks "quoted" \ path`, Body: "Isi",
		Severity: "warning", RegionCode: &region, PublishedAt: time.Now()})
	frame := func(f api.EventFrame) []byte {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	at := time.Date(2029, 2, 14, 7, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		b    []byte
		fast bool // the fast reader takes it
	}{
		{"alert", frame(api.EventFrame{Type: "event", Stream: "region:31", Seq: 42, ID: "e1", Event: "alert.published", At: at, Data: alert}), true},
		{"other event", frame(api.EventFrame{Type: "event", Stream: "user:u1", Seq: 7, ID: "e2", Event: "claim.expiring", At: at, Data: json.RawMessage(`{"claim_id":"c"}`)}), true},
		{"alert whose data does not start with its id", frame(api.EventFrame{Type: "event", Stream: "region:31", Seq: 1, ID: "e3", Event: "alert.published", At: at, Data: json.RawMessage(`{"title":"t","id":"a9"}`)}), false},
		{"escaped stream", frame(api.EventFrame{Type: "event", Stream: `region:"31"`, Seq: 1, ID: "e4", Event: "alert.published", At: at, Data: alert}), false},
		{"seq zero digits", []byte(`{"type":"event","stream":"s","seq":,"id":"x","event":"e","data":{}}`), false},
		{"fields in another order", []byte(`{"stream":"s","type":"event","seq":3,"id":"x","event":"e","data":{}}`), false},
		{"reset frame", []byte(`{"type":"reset","stream":"s","seq":3}`), false},
		{"truncated", frame(api.EventFrame{Type: "event", Stream: "region:31", Seq: 5, ID: "e5", Event: "task.updated", At: at, Data: alert})[:40], false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fast, ok := parseEventFast(c.b)
			if ok != c.fast {
				t.Fatalf("fast reader took it: %v, want %v (%s)", ok, c.fast, c.b)
			}
			slow, slowOK := parseEvent(c.b)
			if ok && (!slowOK || fast != slow) {
				t.Fatalf("fast %+v, encoding/json %+v (%v)", fast, slow, slowOK)
			}
		})
	}
	if f, _ := parseEventFast(cases[0].b); f.DataID != "0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b" || f.Seq != 42 || f.Stream != "region:31" {
		t.Fatalf("alert read as %+v", f)
	}
}
