package mail

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Server
	}{
		{"smtp://127.0.0.1:1025", Server{Host: "127.0.0.1", Port: 1025}},
		{"smtp://relay.internal", Server{Host: "relay.internal", Port: 25}},
		{"smtp://ana:rahasia@mail.example.org:587?starttls=true", Server{Host: "mail.example.org", Port: 587, StartTLS: true, Username: "ana", Password: "rahasia"}},
		{"smtps://ana:rahasia@mail.example.org", Server{Host: "mail.example.org", Port: 465, TLS: true, Username: "ana", Password: "rahasia"}},
		{"smtp://ana:rahasia@localhost:1025", Server{Host: "localhost", Port: 1025, Username: "ana", Password: "rahasia"}},
	} {
		got, err := ParseURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "http://x", "smtp://", "smtp://h:0", "smtp://h:99999", "smtp://h?tls=1",
		"smtp://h?starttls=maybe", "smtp://u:p@mail.example.org:587", "smtp://h/path"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

func TestRedacted(t *testing.T) {
	s, _ := ParseURL("smtp://ana:rahasia@mail.example.org:587?starttls=true")
	if r := s.Redacted(); strings.Contains(r, "rahasia") || r != "smtp://ana@mail.example.org:587?starttls=true" {
		t.Fatalf("Redacted() = %q", r)
	}
}

func TestPasswordResetMail(t *testing.T) {
	link := "https://jarimu.example.org/?token=abc&x=<b>#/reset-password"
	for _, lang := range []string{"id", "en"} {
		m, err := PasswordReset(lang, "Ana <script>", link, 30)
		if err != nil {
			t.Fatal(err)
		}
		first, second := "Atur ulang", "Reset your"
		if lang == "en" {
			first, second = second, first
		}
		if !strings.HasPrefix(m.Subject, first) || !strings.Contains(m.Subject, second) {
			t.Errorf("%s: subject %q", lang, m.Subject)
		}
		if !strings.Contains(m.Text, link) || !strings.Contains(m.Text, "30 menit") || !strings.Contains(m.Text, "30 minutes") {
			t.Errorf("%s: text lacks the link or the expiry:\n%s", lang, m.Text)
		}
		if strings.Index(m.Text, "Halo") > strings.Index(m.Text, "Hello") != (lang == "en") {
			t.Errorf("%s: languages in the wrong order:\n%s", lang, m.Text)
		}
		if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "x=<b>") {
			t.Errorf("%s: HTML not escaped:\n%s", lang, m.HTML)
		}
		if !strings.Contains(m.HTML, `href="https://jarimu.example.org/?token=abc&amp;x=%3cb%3e#/reset-password"`) {
			t.Errorf("%s: HTML link:\n%s", lang, m.HTML)
		}
	}
}

func TestBackoff(t *testing.T) {
	o := NewOutbox(nil, nil, nil, Options{Backoff: 10e9, MaxBackoff: 60e9})
	for attempts, want := range map[int]float64{1: 10, 2: 20, 3: 40, 4: 60, 10: 60} {
		if got := o.backoff(attempts).Seconds(); got != want {
			t.Errorf("backoff(%d) = %vs, want %vs", attempts, got, want)
		}
	}
}
