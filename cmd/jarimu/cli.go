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
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jarimu/jarimu/client"
)

// console is what the commands for people are given by run: the process's
// environment and standard streams.
type console struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// sessions are the signed-in clients the command made, whose
	// refreshes run waits for before it returns; nil: none are waited for.
	sessions *sessions
}

// command is one command for people: its flags, with --server and --json
// common to all, and its help.
type command struct {
	console
	name     string // as typed: "alert send"
	synopsis string // what follows the name in the usage line
	summary  string
	example  string
	fs       *flag.FlagSet
	json     *bool
	server   *string
	// urlAlias is set when the deprecated --url named the server.
	urlAlias bool
}

// command makes the command name; synopsis, summary and example make its
// help. --server names the server; --url, its old name, still does, with a
// warning.
func (con console) command(name, synopsis, summary, example string) *command {
	c := con.newCommand(name, synopsis, summary, example)
	c.fs.Func("url", "deprecated: the old name of --server", func(v string) error {
		*c.server, c.urlAlias = v, true
		return nil
	})
	return c
}

// newCommand is command without --url, for a command whose --url means
// something else (the content of jarimu report).
func (con console) newCommand(name, synopsis, summary, example string) *command {
	c := con.bareCommand(name, synopsis, summary, example)
	c.json = c.fs.Bool("json", false, "print the API's JSON instead of text, for scripts")
	c.server = c.fs.String("server", "", "`URL` of the server (default: $JARIMU_SERVER, else the one you logged in to)")
	return c
}

// bareCommand is a command with no flags yet, for one that does not talk
// to a server.
func (con console) bareCommand(name, synopsis, summary, example string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; help goes to stdout
	return &command{console: con, name: name, synopsis: synopsis, summary: summary, example: example, fs: fs}
}

// serverFlag is the server the command names: --server, else
// $JARIMU_SERVER; empty for the one logged in to.
func (c *command) serverFlag() string {
	if *c.server != "" {
		return *c.server
	}
	if c.getenv == nil {
		return ""
	}
	return c.getenv("JARIMU_SERVER")
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
			return nil, usageError{fmt.Errorf("%w (see jarimu %s --help)\n  usage: %s", err, c.name, c.line())}
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
		return nil, usageError{fmt.Errorf("usage: %s (see jarimu %s --help)", c.line(), c.name)}
	}
	for i, name := range positional {
		if strings.HasSuffix(name, "_ID") && !isID(pos[i]) {
			return nil, usageError{fmt.Errorf("%s %q: not an id (the lists print the ids; see jarimu %s --help)", name, pos[i], c.name)}
		}
	}
	if c.urlAlias && c.stderr != nil {
		fmt.Fprintln(c.stderr, "jarimu: warning: --url is deprecated for the server; use --server")
	}
	return pos, nil
}

// isID reports whether s may be an id: one the client would refuse (empty,
// "." or "..", which would name another route) may not.
func isID(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && s != "." && s != ".."
}

// line is the command's usage line: "jarimu claim TASK_ID [flags]".
func (c *command) line() string {
	return strings.TrimSpace("jarimu " + c.name + " " + c.synopsis)
}

// usage writes the command's help: usage line, summary, flags, example.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", c.line(), c.summary)
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
		return usageError{fmt.Errorf("%s is required (see jarimu %s --help)\n  usage: %s", missing[0], c.name, c.line())}
	}
	return usageError{fmt.Errorf("%s are required (see jarimu %s --help)\n  usage: %s", strings.Join(missing, ", "), c.name, c.line())}
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
	if next := nextStep(a.e); next != "" {
		b.WriteString("\n  next: " + next)
	}
	return b.String()
}

// nextStep says what to do after a problem whose type and detail do not
// say it already; "" for the others (task-full, already-claimed, ...).
func nextStep(e *client.Error) string {
	switch {
	case e.Type == "forbidden":
		return "your account may not do this here; jarimu me shows your role, region and memberships"
	case e.Type == "not-found":
		return "check the id; it may not exist, or be outside what your account may see"
	case e.Type == "validation":
		return "correct the fields named above and run the command again"
	case e.Type == "rate-limited" && e.RetryAfter > 0:
		return fmt.Sprintf("wait %s and try again", e.RetryAfter.Round(time.Second))
	case e.Type == "rate-limited":
		return "wait a minute and try again"
	case e.Status >= 500 && e.RequestID != "":
		return "try again later; if it goes on, give the request id to the server's operators"
	case e.Status >= 500:
		return "try again later"
	}
	return ""
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
	case errors.Is(err, client.ErrInvalidID): // an id flag given wrongly
		return usageError{fmt.Errorf("%s: not an id (the lists print the ids)", strings.TrimPrefix(err.Error(), "jarimu: "))}
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
	n := limitValue(50)
	c.fs.Var(&n, "limit", "show at most `N` items (0: all)")
	return (*int)(&n)
}

// limitValue is the value of --limit: a whole number, 0 or more.
type limitValue int

func (n *limitValue) String() string { return strconv.Itoa(int(*n)) }

func (n *limitValue) Set(s string) error {
	v, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil || v < 0 {
		return errors.New("want a whole number, 0 (all) or more")
	}
	*n = limitValue(v)
	return nil
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
	return c.fs.String("key", "", "an Idempotency-Key: the same command run again with the same `KEY` and flags within 24 hours is done once, and prints the first answer again (times such as 7d count from the first run)")
}

// keyOption is the call option of --key; none when it is empty.
func keyOption(key string) []client.CallOption {
	if key == "" {
		return nil
	}
	return []client.CallOption{client.IdempotencyKey(key)}
}
