package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

func TestCommandParseFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		note string
	}{
		{[]string{"c1", "--note", "x"}, []string{"c1"}, "x"},
		{[]string{"--note", "x", "c1"}, []string{"c1"}, "x"},
		{[]string{"--note=x", "c1", "--json"}, []string{"c1"}, "x"},
		{[]string{"--note", "x", "--", "--c1"}, []string{"--c1"}, "x"},
		{[]string{"c1", "--", "--note"}, nil, ""}, // two positional arguments
	}
	for _, tt := range tests {
		c := console{stdout: io.Discard}.command("complete", "CLAIM_ID", "", "")
		note := c.fs.String("note", "", "")
		pos, err := c.parse(tt.args, "CLAIM_ID")
		if tt.pos == nil {
			if err == nil {
				t.Errorf("%q: got %q, want a usage error", tt.args, pos)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(pos, tt.pos) || *note != tt.note {
			t.Errorf("%q: got %q, note %q, %v; want %q, note %q", tt.args, pos, *note, err, tt.pos, tt.note)
		}
	}
}

func TestCommandHelpAndFlagErrors(t *testing.T) {
	var out bytes.Buffer
	c := console{stdout: &out}.command("orgs", "[flags]", "List them.", "jarimu orgs --status accredited")
	c.fs.String("status", "", "only organisations whose accreditation is `STATUS`")
	if _, err := c.parse([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: got %v, want flag.ErrHelp", err)
	}
	want := "Usage: jarimu orgs [flags]\n\nList them.\n\nFlags:\n" +
		"  --json           print the API's JSON instead of text, for scripts\n" +
		"  --server URL     URL of the server (default: $JARIMU_SERVER, else the one you logged in to)\n" +
		"  --status STATUS  only organisations whose accreditation is STATUS\n" +
		"  --url URL        deprecated: the old name of --server\n" +
		"\nExample:\n  jarimu orgs --status accredited\n"
	if out.String() != want {
		t.Errorf("help: got\n%s\nwant\n%s", out.String(), want)
	}
	_, err := c.parse([]string{"--colour", "red"})
	if err == nil || !strings.Contains(err.Error(), "-colour") || !strings.Contains(err.Error(), "jarimu orgs --help") {
		t.Errorf("unknown flag: got %v", err)
	}
}

func TestExplain(t *testing.T) {
	full := &client.Error{Status: http.StatusConflict, Type: "task-full", Title: "Conflict", Detail: "every slot of this task is taken"}
	invalid := &client.Error{Status: 422, Type: "validation", Detail: "one or more fields are invalid",
		Fields: []api.FieldError{{Field: "url", Message: "must be an absolute http(s) URL"}, {Field: "summary", Message: "too short\x1b[31m"}}}
	internal := &client.Error{Status: 500, Type: "internal", Detail: "something went wrong", RequestID: "req-9"}
	tests := []struct {
		err  error
		want string
	}{
		{full, "task-full: every slot of this task is taken"},
		{fmt.Errorf("claim: %w", full), "task-full: every slot of this task is taken"},
		{invalid, "validation: one or more fields are invalid\n  url: must be an absolute http(s) URL\n  summary: too short [31m\n" +
			"  next: correct the fields named above and run the command again"},
		{internal, "internal: something went wrong\n  (request id req-9)\n  next: try again later; if it goes on, give the request id to the server's operators"},
		{&client.Error{Status: 502, Type: "http-502", Title: "Bad Gateway"}, "http-502: Bad Gateway\n  next: try again later"},
		{&client.Error{Status: 403, Type: "forbidden", Detail: "officers only"}, "forbidden: officers only\n  next: your account may not do this here; jarimu me shows your role, region and memberships"},
		{&client.Error{Status: 429, Type: "rate-limited", RetryAfter: 30 * time.Second}, "rate-limited\n  next: wait 30s and try again"},
		{client.ErrNotSignedIn, "your session has ended: run jarimu login again (jarimu: not signed in)"},
		{errNotLoggedIn, "not logged in: run jarimu login first"},
		{errors.New("--url is required"), "--url is required"},
	}
	for _, tt := range tests {
		got := explain(tt.err)
		if got.Error() != tt.want {
			t.Errorf("explain(%v): got %q, want %q", tt.err, got, tt.want)
		}
		var e *client.Error
		if errors.As(tt.err, &e) && !errors.As(got, &e) {
			t.Errorf("explain(%v) lost the *client.Error", tt.err)
		}
	}
}

func TestTokensLeft(t *testing.T) {
	now := time.Date(2029, 2, 14, 8, 0, 0, 0, time.UTC)
	tok := api.Tokens{AccessToken: "a", RefreshToken: "r", ExpiresIn: 900}
	tests := []struct {
		expires   time.Time
		access    string
		expiresIn int
	}{
		{time.Time{}, "a", 900},
		{now.Add(10 * time.Minute), "a", 600},
		{now.Add(500 * time.Millisecond), "", 0},
		{now.Add(-time.Hour), "", 0},
	}
	for _, tt := range tests {
		got := credentials{Tokens: tok, AccessExpiresAt: tt.expires}.tokensLeft(now)
		if got.AccessToken != tt.access || got.ExpiresIn != tt.expiresIn || got.RefreshToken != "r" {
			t.Errorf("expiring at %v: got %+v, want access %q for %d s", tt.expires, got, tt.access, tt.expiresIn)
		}
	}
}

func TestPrintFieldsAndClean(t *testing.T) {
	var b bytes.Buffer
	printFields(&b, "id", "a1", "region", "", "body", "baris satu\nbaris\x1b]0;dua\r\n")
	want := "id:    a1\nbody:  baris satu\n       baris ]0;dua\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	if got := clean("a\tb\u202ec\u009bd"); got != "a b c d" {
		t.Errorf("clean: got %q", got)
	}
	if got := short("Pantau hoaks", 8); got != "Pantau …" {
		t.Errorf("short: got %q", got)
	}
	if got := minutes(65 * time.Minute); got != "1h05m" {
		t.Errorf("minutes: got %q", got)
	}
}

func TestServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://jarimu.example.org/":     "https://jarimu.example.org",
		" http://127.0.0.1:8080 ":         "http://127.0.0.1:8080",
		"https://bawaslu.go.id/jarimu///": "https://bawaslu.go.id/jarimu",
		"jarimu.example.org":              "",
		"ftp://jarimu.example.org":        "",
		"https://jarimu.example.org/?x=1": "",
	} {
		got, err := serverURL(in)
		if want == "" && err == nil || want != "" && got != want {
			t.Errorf("serverURL(%q): got %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCLIHelp(t *testing.T) {
	tests := []struct {
		args  []string
		flags []string
	}{
		{[]string{"login"}, []string{"--server URL", "--email EMAIL"}},
		{[]string{"logout"}, []string{"--server"}},
		{[]string{"me"}, []string{"--server"}},
		{[]string{"orgs"}, []string{"--status", "--region", "--limit", "--server"}},
		{[]string{"tasks"}, []string{"--scope", "--org", "--region", "--status", "--limit"}},
		{[]string{"claim"}, []string{"TASK_ID", "--key"}},
		{[]string{"complete"}, []string{"CLAIM_ID", "--outcome", "--note", "done, content_gone, not_applicable"}},
		{[]string{"report"}, []string{"--server", "--server", "--platform", "--category", "--summary", "--region", "--org", "--claim", "--observed", "--evidence"}},
		{[]string{"alerts"}, []string{"--region", "--since", "--limit", "watch"}},
		{[]string{"alerts", "watch"}, []string{"--server", "Ctrl-C"}},
		{[]string{"alert", "send"}, []string{"--title", "--body", "--severity", "--region", "--report", "info, warning, critical"}},
	}
	for _, tt := range tests {
		name := strings.Join(tt.args, " ")
		for _, help := range []string{"--help", "-h"} {
			var out bytes.Buffer
			err := run(context.Background(), append(tt.args, help), envFunc(nil), nil, &out, io.Discard)
			if err != nil {
				t.Errorf("%s %s: %v", name, help, err)
				continue
			}
			text := out.String()
			for _, want := range append([]string{"Usage: jarimu " + name, "Flags:", "Example:"}, append(tt.flags, "--json")...) {
				if !strings.Contains(text, want) {
					t.Errorf("%s %s: got\n%s\nwant %q in it", name, help, text, want)
				}
			}
			if _, example, _ := strings.Cut(text, "Example:"); !strings.Contains(example, "jarimu "+name) {
				t.Errorf("%s %s: got example %q, want it to use the command", name, help, example)
			}
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, envFunc(nil), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "jarimu alerts watch") {
		t.Errorf("help: got %v, want the commands for people listed", err)
	}
}

func TestCLINeedsLoginOrServer(t *testing.T) {
	env := envFunc(map[string]string{"JARIMU_CONFIG_DIR": t.TempDir()})
	for _, args := range [][]string{{"me"}, {"tasks"}, {"claim", "t1"}, {"complete", "c1", "--outcome", "done"}, {"alerts", "watch"},
		{"alert", "send", "--title", "T", "--body", "B", "--severity", "info"},
		{"report", "--url", "https://x.com/a/1", "--platform", "x", "--category", "sara", "--summary", "sepuluh huruf"}} {
		err := run(context.Background(), args, env, nil, io.Discard, io.Discard)
		if err == nil || err.Error() != "not logged in: run jarimu login first" {
			t.Errorf("%v: got %v, want to be told to log in", args, err)
		}
	}
	for _, args := range [][]string{{"orgs"}, {"alerts"}, {"login", "--email", "a@b.org"}} {
		err := run(context.Background(), args, env, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--server") {
			t.Errorf("%v: got %v, want to be asked for --server", args, err)
		}
	}
}
