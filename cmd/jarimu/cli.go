package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/jarimu/jarimu/client"
)

// cliUsage lists the commands for people (volunteers, coordinators and
// officers), which talk to a server through the client package.
const cliUsage = `
For volunteers, coordinators and officers (each command takes --help):
  jarimu login --url URL --email E     sign in; the password is read from standard input
  jarimu logout                        sign out and forget the session
  jarimu me                            who you are and your memberships
  jarimu me edit --name N ...          change your name, region or language
  jarimu password                      change your password (read from standard input)
  jarimu consent [--accept VERSION]    read the privacy notice; consent to it
  jarimu orgs                          the public registry of accredited organisations
  jarimu tasks                         tasks you can claim (--scope mine: yours)
  jarimu claim TASK_ID                 take a slot of a task
  jarimu complete CLAIM_ID --outcome O finish a claim
  jarimu report --url U ...            report a finding, with --evidence files
  jarimu alerts                        the alerts Bawaslu published
  jarimu alerts watch                  print alerts as they are published, until Ctrl-C
  jarimu alert send ...                broadcast an alert (officers)
  jarimu push test                     send a test notification to your devices
  jarimu push devices                  the devices that receive your notifications
`

// console is what the commands for people are given by run: the process's
// environment and standard streams.
type console struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// cliCommands are the commands for people, by name.
var cliCommands = map[string]func(ctx context.Context, con console, args []string) error{
	"login":    runLogin,
	"logout":   runLogout,
	"me":       runMe,
	"password": runPassword,
	"consent":  runConsent,
	"orgs":     runOrgs,
	"tasks":    runTasks,
	"claim":    runClaim,
	"complete": runComplete,
	"report":   runReport,
	"alerts":   runAlerts,
	"alert":    runAlert,
	"push":     runPush,
}

// runCLI runs the command for people called name. Asking for help is no
// error; an answer of the server is spelled out (see explain).
func runCLI(ctx context.Context, name string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	run, ok := cliCommands[name]
	if !ok {
		return fmt.Errorf("unknown command %q (try jarimu help)", name)
	}
	err := run(ctx, console{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return explain(err)
}

// command is one command for people: its flags, with --url and --json
// common to all, and its help.
type command struct {
	console
	name     string // as typed: "alert send"
	synopsis string // what follows the name in the usage line
	summary  string
	example  string
	fs       *flag.FlagSet
	json     *bool
	url      *string
}

// command makes the command name; synopsis, summary and example make its
// help.
func (con console) command(name, synopsis, summary, example string) *command {
	return con.commandServerFlag("url", name, synopsis, summary, example)
}

// commandServerFlag is command with the server's address in the flag
// serverFlag rather than --url, for a command whose --url means something
// else.
func (con console) commandServerFlag(serverFlag, name, synopsis, summary, example string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; help goes to stdout
	c := &command{console: con, name: name, synopsis: synopsis, summary: summary, example: example, fs: fs}
	c.json = fs.Bool("json", false, "print the API's JSON instead of text, for scripts")
	c.url = fs.String(serverFlag, "", "`URL` of the server (default: the one you logged in to)")
	return c
}

// parse reads args, flags and positional arguments in any order (after
// "--", only positional ones), and checks that the positional arguments
// are the ones named. --help prints the help to stdout and returns
// flag.ErrHelp.
func (c *command) parse(args []string, positional ...string) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.usage(c.stdout)
				return nil, err
			}
			return nil, fmt.Errorf("%w (see jarimu %s --help)", err, c.name)
		}
		rest := c.fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != len(positional) {
		return nil, fmt.Errorf("usage: jarimu %s %s (see jarimu %s --help)", c.name, c.synopsis, c.name)
	}
	return pos, nil
}

// usage writes the command's help: usage line, summary, flags, example.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: jarimu %s %s\n\n%s\n\nFlags:\n", c.name, c.synopsis, c.summary)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	c.fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name == "string" || name == "value" { // no `NAME` in the usage
			name = strings.ToUpper(f.Name)
		}
		if name != "" {
			name = " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, name, usage)
	})
	tw.Flush()
	fmt.Fprintf(w, "\nExample:\n  %s\n", c.example)
}

// required checks that the flags, given as name-value pairs, have values,
// and names those that have none.
func (c *command) required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			missing = append(missing, "--"+pairs[i])
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s is required (see jarimu %s --help)", missing[0], c.name)
	}
	return fmt.Errorf("%s are required (see jarimu %s --help)", strings.Join(missing, ", "), c.name)
}

// apiError is an answer of the server spelled for people: its problem type
// and detail ("task-full: every slot of this task is taken"), then each
// invalid field on a line of its own, and the request id of a server error.
type apiError struct{ e *client.Error }

func (a apiError) Error() string {
	var b strings.Builder
	b.WriteString(a.e.Type)
	if msg := cmp.Or(a.e.Detail, a.e.Title); msg != "" {
		b.WriteString(": " + clean(msg))
	}
	for _, f := range a.e.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", clean(cmp.Or(f.Field, "request")), clean(f.Message))
	}
	if a.e.Status >= 500 && a.e.RequestID != "" {
		fmt.Fprintf(&b, "\n  (request id %s)", clean(a.e.RequestID))
	}
	return b.String()
}

func (a apiError) Unwrap() error { return a.e }

// errNotLoggedIn is the error of a command that needs a session when there
// is none.
var errNotLoggedIn = errors.New("not logged in: run jarimu login first")

// explain spells out err for people: a problem answered by the server as an
// apiError, a session that ended as a hint to log in again. Other errors,
// and errors explained already, are returned as they are.
func explain(err error) error {
	var ae apiError
	var e *client.Error
	var ue *url.Error
	switch {
	case err == nil, errors.As(err, &ae), errors.Is(err, errNotLoggedIn):
		return err
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted: %w", context.Canceled)
	case errors.As(err, &ue):
		return fmt.Errorf("cannot reach the server: %w", ue.Err)
	case errors.Is(err, client.ErrNotSignedIn):
		return fmt.Errorf("your session has ended: run jarimu login again (%w)", err)
	case errors.As(err, &e):
		if e.Type == "invalid-token" {
			return fmt.Errorf("the server refused your session: run jarimu login again (%w)", apiError{e})
		}
		return apiError{e}
	}
	return err
}

// limitFlag adds --limit, the most items a list shows.
func (c *command) limitFlag() *int {
	return c.fs.Int("limit", 50, "show at most `N` items (0: all)")
}

// collect gathers at most limit items of seq (0 or less: all).
func collect[T any](seq iter.Seq2[T, error], limit int) ([]T, error) {
	items := []T{}
	for x, err := range seq {
		if err != nil {
			return nil, err
		}
		items = append(items, x)
		if len(items) == limit {
			break
		}
	}
	return items, nil
}

// pageSize is the page to ask for to show limit items.
func pageSize(limit int) int {
	if limit <= 0 || limit > 200 {
		return 200
	}
	return limit
}

// isSet reports whether the flag name was given.
func (c *command) isSet(name string) bool {
	set := false
	c.fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// keyFlag adds --key, the Idempotency-Key of the command's POST.
func (c *command) keyFlag() *string {
	return c.fs.String("key", "", "an Idempotency-Key: the same command run again with the same `KEY` and flags is done once")
}

// keyOption is the call option of --key; none when it is empty.
func keyOption(key string) []client.CallOption {
	if key == "" {
		return nil
	}
	return []client.CallOption{client.IdempotencyKey(key)}
}
