// Package mailtest gives tests a real SMTP server to send to and a way to
// read what arrived: Mailpit, named by JARIMU_TEST_SMTP_URL (its SMTP
// listener, smtp://127.0.0.1:PORT) and JARIMU_TEST_MAILPIT_API (its HTTP
// API, http://127.0.0.1:PORT). Without them a test that needs mail is
// skipped, except in CI (CI=true), where it fails: the mail half can never
// be skipped silently. .ci/run installs Mailpit and starts it on loopback.
// Tests share one Mailpit; each reads only the mail to addresses it made.
package mailtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// Configured reports whether the environment names a test mail server.
func Configured() bool {
	return os.Getenv("JARIMU_TEST_SMTP_URL") != "" && os.Getenv("JARIMU_TEST_MAILPIT_API") != ""
}

// Require skips t (outside CI) or fails it (CI=true) without a test mail
// server.
func Require(t testing.TB) {
	t.Helper()
	if Configured() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but JARIMU_TEST_SMTP_URL and JARIMU_TEST_MAILPIT_API are not set: mail must be tested in CI")
	}
	t.Skip("needs JARIMU_TEST_SMTP_URL and JARIMU_TEST_MAILPIT_API (a Mailpit on loopback; always set in CI by .ci/run)")
}

// SMTPURL is the test SMTP server's URL, for JARIMU_SMTP_URL (see Require).
func SMTPURL(t testing.TB) string {
	t.Helper()
	Require(t)
	return os.Getenv("JARIMU_TEST_SMTP_URL")
}

// SMTPAddr is the host:port of the test SMTP server.
func SMTPAddr(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(SMTPURL(t))
	if err != nil || u.Host == "" {
		t.Fatalf("JARIMU_TEST_SMTP_URL %q: want smtp://HOST:PORT", os.Getenv("JARIMU_TEST_SMTP_URL"))
	}
	return u.Host
}

// Message is a received mail as Mailpit shows it.
type Message struct {
	ID      string
	Subject string
	From    Address
	To      []Address
	Text    string
	HTML    string
	Date    time.Time
}

// Address is a sender or recipient.
type Address struct {
	Name    string
	Address string
}

// Find lists the mail received for to, newest first (summaries: no bodies).
func Find(t testing.TB, to string) []Message {
	t.Helper()
	Require(t)
	var out struct {
		Messages []Message `json:"messages"`
	}
	get(t, "/api/v1/search?query="+url.QueryEscape(`to:"`+to+`"`), &out)
	// The search matches substrings; keep exact recipients only.
	var exact []Message
	for _, m := range out.Messages {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, to) {
				exact = append(exact, m)
				break
			}
		}
	}
	return exact
}

// Await waits up to timeout for the n-th mail to to (n counts from 1) and
// returns it in full.
func Await(t testing.TB, to string, n int, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ms := Find(t, to); len(ms) >= n {
			return Get(t, ms[len(ms)-n].ID)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail number %d to %s within %s (have %d)", n, to, timeout, len(Find(t, to)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Get reads one message in full.
func Get(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	get(t, "/api/v1/message/"+url.PathEscape(id), &m)
	return m
}

func get(t testing.TB, path string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(os.Getenv("JARIMU_TEST_MAILPIT_API"), "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

// Link finds the first line of text that starts with prefix (a URL) and
// returns it.
func Link(text, prefix string) (string, error) {
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, prefix) {
			return l, nil
		}
	}
	return "", fmt.Errorf("no line starting with %s in the mail", prefix)
}
