package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every command and sub-command of the table answers --help and -h with
// its help, and exits 0; a command for people lists --json and --server.
func TestEveryCommandHelp(t *testing.T) {
	for _, s := range commands() {
		walk(s.nodes, nil, func(p []string, n *node) {
			for _, help := range []string{"--help", "-h"} {
				var out, errOut bytes.Buffer
				err := run(context.Background(), append(slices.Clone(p), help), envFunc(nil), strings.NewReader(""), &out, &errOut)
				name := strings.Join(p, " ")
				if err != nil || exitCode(err) != 0 {
					t.Errorf("jarimu %s %s: got %v, want exit 0", name, help, err)
					continue
				}
				text := out.String() + errOut.String()
				switch {
				case n.run == nil:
					for _, sub := range n.subs {
						if !sub.hidden && !strings.Contains(out.String(), "jarimu "+name+" "+sub.name) {
							t.Errorf("jarimu %s %s: got %q, want %q listed", name, help, out.String(), sub.name)
						}
					}
				case s.heading == sectionPeople:
					wantFields(t, "jarimu "+name+" "+help, out.String(), "Usage: jarimu "+name, "--json", "--server", "Example:\n  ")
				case len(strings.TrimSpace(text)) == 0:
					t.Errorf("jarimu %s %s: printed nothing", name, help)
				}
			}
		})
	}
}

// A command given wrongly is a usageError (exit 2) with the usage at hand;
// a failure of the server is not.
func TestUsageErrors(t *testing.T) {
	env := envFunc(map[string]string{"JARIMU_CONFIG_DIR": t.TempDir()})
	tests := []struct {
		args     []string
		want     string // in the error
		usage    string // in standard error, "" for nothing
		exitCode int
	}{
		{nil, "no command given", "jarimu task create --title T --kind K", 2},
		{[]string{"nope"}, `unknown command "nope"`, "", 2},
		{[]string{"alert"}, "alert: name a sub-command", "jarimu alert retract ALERT_ID --reason R", 2},
		{[]string{"alert", "nope"}, `unknown command "alert nope" (try jarimu alert --help)`, "jarimu alert send", 2},
		{[]string{"claim"}, "usage: jarimu claim TASK_ID", "", 2},
		{[]string{"claim", "a", "b"}, "usage: jarimu claim TASK_ID", "", 2},
		{[]string{"task", "assign", "t1"}, "--user is required (see jarimu task assign --help)\n  usage: jarimu task assign TASK_ID --user USER_ID [flags]", "", 2},
		{[]string{"org", "renew", "o1", "--until", "tomorrow", "--reason", "diperpanjang"}, `--until "tomorrow": want a duration`, "", 2},
		{[]string{"me", "--colour"}, "flag provided but not defined: -colour (see jarimu me --help)", "", 2},
		{[]string{"me"}, "not logged in: run jarimu login first", "", 1},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus (see jarimu serve --help)", "", 2},
		{[]string{"bench", "feed", "--bogus"}, "flag provided but not defined: -bogus (see jarimu bench feed --help)", "", 2},
		{[]string{"keys", "rotate", "--bogus"}, "flag provided but not defined: -bogus (see jarimu keys rotate --help)", "", 2},
	}
	for _, tt := range tests {
		var errOut bytes.Buffer
		err := run(context.Background(), tt.args, env, nil, io.Discard, &errOut)
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != tt.exitCode {
			t.Errorf("jarimu %q: got %v (exit %d), want %q, exit %d", tt.args, err, exitCode(err), tt.want, tt.exitCode)
		}
		if !strings.Contains(errOut.String(), tt.usage) {
			t.Errorf("jarimu %q: got standard error %q, want %q in it", tt.args, errOut.String(), tt.usage)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	wantFields(t, "help", out.String(), "jarimu completion bash", "jarimu user suspend USER_ID", "jarimu serve", "JARIMU_DATA_DIR")
}

// The process exits 2 for a command given wrongly, 0 for help, also where
// the help comes from a server command's own flags (bench feed). A bad
// flag value or id is told before any call to the server: these run signed
// out (which would exit 1), and the error says "jarimu:" once.
func TestExitStatus(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	report := []string{"report", "--url", "https://x.com/a/1", "--platform", "x", "--category", "sara", "--summary", "Ujaran kebencian"}
	for _, tt := range []struct {
		args []string
		want int
	}{{nil, 2}, {[]string{"bench", "feed", "--help"}, 0}, {[]string{"alert", "send", "--help"}, 0}, {[]string{"alert"}, 2},
		{[]string{"keys", "list"}, 2}, {[]string{"keys", "list", "--file", "/nonexistent/keys.json"}, 1},
		{[]string{"me"}, 1}, // not logged in
		{[]string{"complete", "c1", "--outcome", "bogus"}, 2},
		{[]string{"consent", "--language", "xx"}, 2},
		{[]string{"me", "edit"}, 2},
		{[]string{"alerts", "--since", "yesterday", "--server", "http://127.0.0.1:1"}, 2},
		{append(report, "--observed", "now"), 2},
		{[]string{"orgs", "--server", "ftp://x"}, 2},
		{[]string{"me", "--server", "ftp://x"}, 2},
		{[]string{"claim", ""}, 2},
		{[]string{"task", "show", ".."}, 2},
		{[]string{"tasks", "--limit", "-5"}, 2},
		{[]string{"orgs", "--limit", "-1", "--server", "http://127.0.0.1:1"}, 2},
	} {
		args, _ := json.Marshal(tt.args)
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), runMainEnv+"=1", runArgsEnv+"="+string(args), "JARIMU_CONFIG_DIR="+t.TempDir(), "JARIMU_SERVER=")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		got := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("jarimu %q: exit %d, want %d (%s)", tt.args, got, tt.want, strings.TrimSpace(stderr.String()))
		}
		if strings.Contains(stderr.String(), "jarimu: jarimu:") {
			t.Errorf("jarimu %q: got %q, want \"jarimu:\" once", tt.args, stderr.String())
		}
	}
}

// The bash script, run by bash, completes every command path of the table
// to its sub-commands and its flags, and those are what the commands take.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bash is not installed; CI runs the completion test")
		}
		t.Skip("no bash")
	}
	var script bytes.Buffer
	if err := run(context.Background(), []string{"completion", "bash"}, envFunc(nil), nil, &script, io.Discard); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "jarimu.bash")
	if err := os.WriteFile(file, script.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// complete LINE prints what bash offers for the last word of LINE.
	var prog strings.Builder
	prog.WriteString("source " + file + "\ncomplete -p jarimu\n" +
		`complete_line() { COMP_WORDS=($1); [[ $1 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _jarimu; echo "${COMPREPLY[*]}"; }` + "\n")
	all := completions(context.Background(), envFunc(nil))
	for _, c := range all {
		line := strings.TrimSpace("jarimu " + c.path)
		prog.WriteString("complete_line '" + line + " '\ncomplete_line '" + line + " --'\n")
	}
	extra := []struct{ line, want string }{
		{"jarimu alert s", "send show"},
		{"jarimu task create --ti", "--title"},
		{"jarimu report --ur", "--url"},
		{"jarimu orgs --ur", ""}, // deprecated: not offered
		{"jarimu claim 0190c0de ", ""},
		{"jarimu bench fe", "feed"},
		{"jarimu bench feed --ur", ""}, // deprecated there too
		{"jarimu completion ", "bash zsh"},
		{"jarimu me edit --", ""}, // checked below
	}
	for _, e := range extra {
		prog.WriteString("complete_line '" + e.line + "'\n")
	}
	out, err := exec.Command(bash, "--norc", "-c", prog.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if want := "complete -o default -F _jarimu jarimu"; lines[0] != want {
		t.Errorf("complete -p: got %q, want %q", lines[0], want)
	}
	lines = lines[1:]
	if len(lines) != 2*len(all)+len(extra) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), 2*len(all)+len(extra), out)
	}
	for i, c := range all {
		if got, want := lines[2*i], strings.Join(c.subs, " "); got != want {
			t.Errorf("jarimu %s <TAB>: got %q, want %q", c.path, got, want)
		}
		if got, want := lines[2*i+1], strings.Join(c.flags, " "); got != want {
			t.Errorf("jarimu %s --<TAB>: got %q, want %q", c.path, got, want)
		}
	}
	for i, e := range extra[:len(extra)-1] {
		if got := lines[2*len(all)+i]; got != e.want {
			t.Errorf("%q<TAB>: got %q, want %q", e.line, got, e.want)
		}
	}
	// The flags offered are those the commands take, from their own help.
	meEdit := strings.Fields(lines[len(lines)-1])
	for _, f := range []string{"--name", "--region", "--language", "--json", "--server", "--help"} {
		if !slices.Contains(meEdit, f) {
			t.Errorf("jarimu me edit --<TAB>: got %q, want %s", meEdit, f)
		}
	}
	for _, c := range all {
		if c.path == "serve" && (!slices.Contains(c.flags, "--data-dir") || !slices.Contains(c.flags, "--database-url")) {
			t.Errorf("serve's flags: got %q, want its settings", c.flags)
		}
		if c.path == "alert send" && !slices.Contains(c.flags, "--severity") {
			t.Errorf("alert send's flags: got %q", c.flags)
		}
	}
}

// zsh may not be installed: the script's structure is checked, and run
// when zsh is there.
func TestCompletionZsh(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"completion", "zsh"}, envFunc(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	script := out.String()
	if !strings.HasPrefix(script, "#compdef jarimu\n") {
		t.Errorf("zsh script: got %q at the start, want #compdef jarimu", script[:min(40, len(script))])
	}
	wantFields(t, "zsh script", script, "_jarimu() {", "compdef _jarimu jarimu", `"alert") echo "send show retract reach" ;;`,
		`"task create") echo "`, "compadd -- $subs", "_files")
	if strings.Contains(script, "COMP_WORDS") {
		t.Error("zsh script: got bash's COMP_WORDS in it")
	}
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		return
	}
	file := filepath.Join(t.TempDir(), "_jarimu")
	if err := os.WriteFile(file, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(zsh, "-f", "-c", "autoload -U compinit; compinit -u; source "+file+"; _jarimu_subs alert").CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "send show retract reach" {
		t.Errorf("zsh: got %q, %v", got, err)
	}
}

// docs/cli.md names every command of the table.
func TestCLIDocsNameEveryCommand(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, s := range commands() {
		walk(s.nodes, nil, func(p []string, n *node) {
			if n.run == nil {
				return
			}
			parent, last := strings.TrimSpace("jarimu "+strings.Join(p[:len(p)-1], " ")), p[len(p)-1]
			found := slices.ContainsFunc(lines, func(l string) bool {
				i := strings.Index(l, parent+" ")
				return i >= 0 && slices.ContainsFunc(strings.FieldsFunc(l[i+len(parent):], func(r rune) bool {
					return r == ' ' || r == '|' || r == '\\' || r == '`'
				}), func(w string) bool { return w == last })
			})
			if !found {
				t.Errorf("docs/cli.md: no line names jarimu %s", strings.Join(p, " "))
			}
		})
	}
}
