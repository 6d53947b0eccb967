// Command jarimu is the one binary of Jarimu Awasi Pemilu's backend: it
// serves the API and feed (serve), migrates the schema (migrate), makes
// staff accounts (admin) and signing keys (keys). For volunteers and
// officers it is also a client of a server: login, tasks, claim, report,
// alerts and the rest (see cli.go).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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
		fmt.Fprintln(os.Stderr, "jarimu:", err)
		os.Exit(1)
	}
}

const usage = `jarimu: the backend of Jarimu Awasi Pemilu

Usage:
  jarimu serve [flags]                 run the API and the real-time feed
  jarimu migrate up|down|status        apply, roll back (last group) or list migrations
  jarimu admin create-user --email E --name N --role admin|officer [--region CODE]
                                       make a staff account; the password is read from
                                       standard input, or generated and printed once
  jarimu admin reset-password --email E
                                       print a password reset link for the account, once
                                       (for servers without JARIMU_SMTP_URL)
  jarimu keys new|rotate|retire|list --file FILE
                                       make and rotate the signing key file (jarimu keys for more);
                                       keys new also makes vapid-keys.json beside it (Web Push)
  jarimu evidence migrate [flags]      copy the data dir's evidence files into the bucket of
                                       JARIMU_EVIDENCE_URL, verifying every hash
  jarimu bench feed|storm|latency|claims|mixed [flags]
                                       load a running server and measure it (see jarimu bench)
` + cliUsage + `
The server commands (serve, migrate, admin, bench, evidence) read the settings below from flags or
environment variables:
`

// run is the whole program: main only adds the process's environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		printSettings(stderr)
		return fmt.Errorf("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, rest, getenv, stdin, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return runKeys(rest, getenv, stdout, stderr)
	case "evidence":
		return runEvidence(ctx, rest, getenv, stdout, stderr)
	case "login", "logout", "me", "password", "consent", "orgs", "tasks", "claim", "complete", "report", "alerts", "alert", "push":
		return runCLI(ctx, cmd, rest, getenv, stdin, stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		printSettings(stdout)
		return nil
	}
	return fmt.Errorf("unknown command %q (try jarimu help)", cmd)
}
