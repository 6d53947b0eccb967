// Command jarimu is the one binary of Jarimu Awasi Pemilu's backend: it
// serves the API and feed (serve), migrates the schema (migrate), makes
// staff accounts (admin) and signing keys (keys). For volunteers,
// coordinators, officers and admins it is also a client of a server: login,
// tasks, claim, report, members, alerts and the rest. One table of commands
// (cli_table.go) dispatches them all.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		smallStacks()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// Errors of the client start with "jarimu: " too: said once.
		fmt.Fprintln(os.Stderr, "jarimu:", strings.TrimPrefix(err.Error(), "jarimu: "))
		os.Exit(exitCode(err))
	}
}

// run is the whole program: main only adds the process's environment.
// Without a command it prints the usage and fails with a usageError.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usageError{errors.New("no command given (jarimu help lists them)")}
	}
	if isHelp(args[0]) {
		printUsage(stdout)
		return nil
	}
	con := console{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, sessions: &sessions{}}
	var all []*node
	for _, s := range commands() {
		all = append(all, s.nodes...)
	}
	err := dispatch(ctx, con, all, nil, args)
	con.sessions.wait()
	return err
}

// exitCode is the status the process ends with after err: 2 for a command
// given wrongly, 1 for any other failure.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}
