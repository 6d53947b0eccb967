package push

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
)

func TestHostAllowed(t *testing.T) {
	s := &Service{cfg: Config{Hosts: []string{"fcm.googleapis.com", "*.notify.windows.com", "127.0.0.1:8443"}}}
	for _, c := range []struct {
		endpoint string
		want     bool
	}{
		{"https://fcm.googleapis.com/fcm/send/x", true},
		{"https://FCM.googleapis.com/fcm/send/x", true},
		{"https://fcm.googleapis.com:443/fcm/send/x", true},
		{"https://fcm.googleapis.com:8443/fcm/send/x", false},
		{"https://fcm.googleapis.com.evil.example/x", false},
		{"https://evilfcm.googleapis.com/x", false},
		{"https://wns2-par02p.notify.windows.com/w/?token=x", true},
		{"https://notify.windows.com/x", false},
		{"https://x.notify.windows.com.evil.example/x", false},
		{"https://127.0.0.1:8443/push/x", true},
		{"https://127.0.0.1/push/x", false},
		{"https://169.254.169.254/latest", false},
		{"https://user@fcm.googleapis.com/x", true}, // refused earlier, by the request's own check
	} {
		if got := s.hostAllowed(c.endpoint); got != c.want {
			t.Errorf("hostAllowed(%q): got %v, want %v", c.endpoint, got, c.want)
		}
	}
}

func TestRetryAfterAndBackoff(t *testing.T) {
	now := time.Date(2029, 2, 14, 1, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false}, {"7", 7 * time.Second, true}, {"-1", 0, false}, {"soon", 0, false},
		{"Wed, 14 Feb 2029 01:00:30 GMT", 30 * time.Second, true}, {"Wed, 14 Feb 2029 00:59:00 GMT", 0, true},
	} {
		got, ok := retryAfter(c.v, now)
		if got != c.want || ok != c.ok {
			t.Errorf("retryAfter(%q): got %v %v, want %v %v", c.v, got, ok, c.want, c.ok)
		}
	}
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second, 8: 10 * time.Minute, 30: 10 * time.Minute} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d): got %v, want %v", n, got, want)
		}
	}
}

func TestMessages(t *testing.T) {
	code := "3171"
	a := api.Alert{ID: "01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6b", Title: strings.Repeat("Judul panjang ", 20), Body: "Isi.", Severity: "warning", RegionCode: &code}
	j := AlertJob(a)
	if j.Topic != "01a2b3c4d5e67f809a0b1c2d3e4f5a6b" || j.Urgency != "normal" || j.Region != "3171" || j.Kind != KindAlert {
		t.Fatalf("got job %+v", j)
	}
	if n := len([]rune(j.Payload.Title)); n != 120 || !strings.HasPrefix(j.Payload.Title, "[Waspada] ") || !strings.HasSuffix(j.Payload.Title, "…") {
		t.Fatalf("got title %q (%d characters), want the severity first and 120 characters at most", j.Payload.Title, n)
	}
	if j.Payload.Region != "Kota Administrasi Jakarta Pusat, Daerah Khusus Ibukota Jakarta" {
		t.Fatalf("got region %q", j.Payload.Region)
	}
	if r := regionName("id", ""); r != "Nasional" {
		t.Fatalf("got %q for national", r)
	}
	a.RetractionReason = "salah"
	if r := RetractionJob(a); r.Topic != j.Topic || r.Payload.Tag != j.Payload.Tag || r.Kind != KindRetraction {
		t.Fatalf("a retraction must share the alert's topic and tag: %+v", r)
	}
}

// FuzzAck: no ack string but the server's own is accepted, and none
// panics; the refusal happens before any database work.
func FuzzAck(f *testing.F) {
	v, err := GenerateVAPID(time.Now())
	if err != nil {
		f.Fatal(err)
	}
	s := &Service{vapid: v}
	good := s.ackFor("01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6b", "01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6c")
	f.Add(good[:len(good)-1] + "A")
	f.Add("a.b.c")
	f.Add("")
	f.Add(strings.Repeat(".", 300))
	f.Fuzz(func(t *testing.T, ack string) {
		if ack == good {
			return
		}
		if err := s.Ack(context.Background(), api.PushAckRequest{Ack: ack}); err == nil {
			t.Fatalf("ack %q accepted", ack)
		}
	})
}

// The senders are at most a quarter of the database pool (each holds a
// connection while it needs others); SQLite has one.
func TestSendersBoundedByPool(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		for _, c := range []struct{ pool, workers, want int }{{8, 0, 2}, {9, 0, 2}, {32, 0, 4}, {8, 6, 2}, {100, 6, 6}} {
			o := dbtest.Options(t, b)
			o.MaxOpenConns = c.pool
			d, err := db.Open(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			s := NewService(d, nil, nil, Config{Workers: c.workers}, nil)
			d.Close()
			want := c.want
			if b == dbtest.SQLite {
				want = 1
			}
			if s.cfg.Workers != want {
				t.Errorf("%s, pool of %d, %d workers asked: %d senders, want %d", b, c.pool, c.workers, s.cfg.Workers, want)
			}
		}
	}
}

// Every alert fits one push record, however its text encodes: titles and
// bodies at their longest in characters that are escaped or several bytes
// in JSON are shortened by bytes, with an ellipsis; a short one is sent as
// it is, with <, > and & unescaped.
func TestPayloadFitsOneRecord(t *testing.T) {
	v, err := GenerateVAPID(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{vapid: v}
	code := "3171"
	for _, text := range []string{"TPS <12> & ", "🗳️ ", "“kutipan” ", "\x01\x02", "a"} {
		a := api.Alert{ID: "01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6b", Title: strings.Repeat(text, 200), Body: strings.Repeat(text, 2000),
			Severity: "critical", RegionCode: &code, RetractionReason: strings.Repeat(text, 500)}
		for _, j := range []Job{AlertJob(a), RetractionJob(a)} {
			jb := &job{ID: "01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6c", messages: map[string]api.PushPayload{DefaultLang: j.Payload}}
			b, err := s.payloadFor(jb, "01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6d", "id")
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			if len(b) > maxPayload {
				t.Fatalf("%q: %d bytes, over %d", text, len(b), maxPayload)
			}
			var p api.PushPayload
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			if p.Title == "" || p.Ack == "" || p.Tag != j.Payload.Tag || p.Kind != j.Kind {
				t.Fatalf("%q: got %+v", text, p)
			}
			// Text of characters six bytes each (control characters) may
			// leave no room for a body; any other keeps some of it.
			if text != "a" && text != "\x01\x02" && (len(p.Body) < 100 || !strings.HasSuffix(p.Body, "…")) {
				t.Errorf("%q: body %q, want shortened with an ellipsis", text, p.Body)
			}
		}
	}
	short := AlertJob(api.Alert{ID: "01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6b", Title: "A & B", Body: "<1> & <2>", Severity: "info"})
	b, err := s.payloadFor(&job{ID: "j", messages: map[string]api.PushPayload{DefaultLang: short.Payload}}, "s", "id")
	if err != nil || !bytes.Contains(b, []byte(`<1> & <2>"`)) {
		t.Fatalf("short alert: %s (%v), want its body as it is", b, err)
	}
}
