package push

import (
	"context"
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
