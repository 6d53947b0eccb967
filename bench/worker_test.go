package bench

import (
	"testing"
	"time"
)

// Lines between the parent and a worker: good ones read, bad ones are
// errors.
func TestParseWorkerLines(t *testing.T) {
	m, err := parseReport("r 0193a5-alert 17 1765000000123456789")
	if err != nil || m.verb != "r" || m.alertID != "0193a5-alert" || m.index != 17 || m.at != 1765000000123456789 {
		t.Errorf("receipt: got %+v, %v", m, err)
	}
	if m, err := parseReport("e 12 ack: write tcp: i/o timeout"); err != nil || m.verb != "e" || m.index != 12 || m.why != "ack: write tcp: i/o timeout" {
		t.Errorf("lost: got %+v, %v", m, err)
	}
	if m, err := parseReport("connected 9 1"); err != nil || m.ok != 9 || m.failed != 1 {
		t.Errorf("connected: got %+v, %v", m, err)
	}
	for _, bad := range []string{"", " ", "r", "r a 1", "r a -1 5", "r a 1 x", "r a b 5", "r a 1 5 6", "f", "f -3",
		"connected 1", "connected x 1", "dropped now", "hello", "R a 1 5", "e", "e 3", "e x why", "e -1 why"} {
		if m, err := parseReport(bad); err == nil {
			t.Errorf("report %q: got %+v, want an error", bad, m)
		}
	}
	c, err := parseCommand("c 5 user-5 tok.en.x http://127.0.0.1:8080")
	if err != nil || c.verb != "c" || c.index != 5 || c.userID != "user-5" || c.token != "tok.en.x" || c.url != "http://127.0.0.1:8080" {
		t.Errorf("client: got %+v, %v", c, err)
	}
	if c, err := parseCommand("opt 1 50 150ms"); err != nil || !c.ack || c.parallel != 50 || c.ackDelay != 150*time.Millisecond {
		t.Errorf("opt: got %+v, %v", c, err)
	}
	if c, err := parseCommand("opt 0 7 0s"); err != nil || c.ack || c.parallel != 7 || c.ackDelay != 0 {
		t.Errorf("opt: got %+v, %v", c, err)
	}
	for _, bad := range []string{"", "opt", "opt 1 50", "opt 2 5 0s", "opt 1 0 0s", "opt 1 x 0s", "opt 1 5 x", "opt 1 5 -1s", "opt 1 5 1s 2", "c 1 u t", "c x u t h", "c -1 u t h",
		"connect now", "drop 1", "quit"} {
		if c, err := parseCommand(bad); err == nil {
			t.Errorf("command %q: got %+v, want an error", bad, c)
		}
	}
}

// No line makes the parsers panic.
func FuzzParseWorkerLines(f *testing.F) {
	for _, s := range []string{"r id 1 2", "f 3", "connected 1 0", "dropped", "opt 1 200 150ms", "c 1 u t http://x", "connect", "drop", "r  1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		parseReport(line)
		parseCommand(line)
	})
}
