package origin

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSame(t *testing.T) {
	for _, c := range []struct {
		host, origin string
		tls          bool
		want         bool
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080", false, true},
		{"127.0.0.1:8080", "HTTP://127.0.0.1:8080", false, true},
		{"127.0.0.1:8080", "http://127.0.0.1:8081", false, false},
		{"127.0.0.1:8080", "http://127.0.0.2:8080", false, false},
		{"jarimu.example.id", "https://jarimu.example.id", false, true},     // TLS ended by a proxy
		{"jarimu.example.id", "https://Jarimu.Example.ID", false, true},     // hosts have no case
		{"jarimu.example.id", "https://jarimu.example.id:443", false, true}, // the default port written out
		{"jarimu.example.id:443", "https://jarimu.example.id", false, true},
		{"jarimu.example.id", "http://jarimu.example.id:8080", false, false},
		{"jarimu.example.id", "https://jarimu.example.id.evil.test", false, false},
		{"jarimu.example.id", "https://evil.test/jarimu.example.id", false, false},
		{"jarimu.example.id", "http://jarimu.example.id", true, false}, // over TLS, only https
		{"jarimu.example.id", "https://jarimu.example.id", true, true},
		{"[::1]:8080", "http://[::1]:8080", false, true},
		{"[::1]", "http://[::1]", false, true},
		{"[::1]:8080", "http://[::1]:8081", false, false},
		{"jarimu.example.id", "null", false, false},
		{"jarimu.example.id", "file://jarimu.example.id", false, false},
		{"jarimu.example.id", "https://user@jarimu.example.id", false, false},
		{"jarimu.example.id", "", false, false},
	} {
		r := httptest.NewRequest("GET", "/v1/feed", nil)
		r.Host = c.host
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := Same(r, c.origin); got != c.want {
			t.Errorf("Same(Host %s, TLS %v, Origin %q): got %v, want %v", c.host, c.tls, c.origin, got, c.want)
		}
	}
}

// Check lets requests without Origin, listed origins and the server's own
// through; it refuses the rest and logs each refusal's origin and reason,
// one line per WarnEvery however many come.
func TestCheckLogsRefusalsOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	p := New([]string{"https://dashboard.kopel.or.id"}, slog.New(slog.NewTextHandler(&buf, nil)))
	req := func(origin string) bool {
		r := httptest.NewRequest("GET", "http://jarimu.example.id/v1/feed", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return p.Check(r, "feed handshake")
	}
	for _, o := range []string{"", "https://dashboard.kopel.or.id", "https://DASHBOARD.kopel.or.id", "http://jarimu.example.id"} {
		if !req(o) {
			t.Errorf("Origin %q: refused, want allowed", o)
		}
	}
	if buf.Len() != 0 {
		t.Fatalf("allowed origins logged: %s", buf.String())
	}
	for i := range 20 {
		if req("https://evil.test") {
			t.Fatalf("refusal %d: allowed, want refused", i+1)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("20 refusals logged %d lines, want 1: %s", len(lines), buf.String())
	}
	for _, want := range []string{"level=WARN", "feed handshake: origin refused", "origin=https://evil.test", "another site, not in JARIMU_ALLOWED_ORIGINS", "host=jarimu.example.id"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the log line %q lacks %q", lines[0], want)
		}
	}
}

func TestReason(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "jarimu.example.id"
	for origin, want := range map[string]string{
		"https://evil.test":             "another site",
		"http://jarimu.example.id:8443": "another scheme or port",
		"chrome-extension://abc":        "not a web origin",
		"null":                          "not a web origin",
	} {
		if got := reason(r, origin); !strings.Contains(got, want) {
			t.Errorf("reason(%q): got %q, want one with %q", origin, got, want)
		}
	}
}
