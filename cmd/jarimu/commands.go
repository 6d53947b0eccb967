package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/migrations"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/push"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("usage: jarimu migrate up|down|status")}
	}
	d, err := db.Open(ctx, db.Options{URL: c.DatabaseURL, DataDir: c.DataDir})
	if err != nil {
		return err
	}
	defer d.Close()
	var names []string
	switch fs.Arg(0) {
	case "up":
		names, err = migrations.Up(ctx, d)
	case "down":
		names, err = migrations.Down(ctx, d)
	case "status":
		return migrations.Status(ctx, d, stdout)
	default:
		return fmt.Errorf("unknown migrate command %q: want up, down or status", fs.Arg(0))
	}
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fmt.Fprintln(stdout, "nothing to do")
	}
	for _, n := range names {
		fmt.Fprintf(stdout, "%s %s\n", fs.Arg(0), n)
	}
	return nil
}

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "reset-password" {
		return runResetPassword(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create-user" {
		return errors.New("usage: jarimu admin create-user --email E --name N --role admin|officer [--region CODE]\n" +
			"       jarimu admin reset-password --email E")
	}
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "email of the new account")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", "admin or officer")
	regionCode := fs.String("region", "", "officer's region code (empty: national)")
	asJSON := fs.Bool("json", false, "print the account (and a generated password) as JSON, for scripts")
	c, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if *role != api.RoleAdmin && *role != api.RoleOfficer {
		return usageError{errors.New("--role must be admin or officer (see jarimu admin create-user --help)")}
	}
	password, generated, err := readPassword(stdin)
	if err != nil {
		return err
	}
	a, err := openOffline(ctx, c, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	req := api.CreateUserRequest{Email: *email, Name: *name, Role: *role, Password: password}
	if *regionCode != "" {
		req.RegionCode = regionCode
	}
	if fe := req.Validate(); len(fe) > 0 {
		return problem.Validation(fe...)
	}
	u, err := a.Auth.CreateUser(ctx, nil, req)
	if err != nil {
		return describe(err)
	}
	if *asJSON {
		out := struct {
			User     api.User `json:"user"`
			Password string   `json:"password,omitempty"` // generated: shown once
		}{User: u}
		if generated {
			out.Password = password
		}
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "created %s %s (%s)\n", u.Role, u.Email, u.ID)
	if generated {
		fmt.Fprintf(stdout, "password (shown once): %s\n", password)
	}
	return nil
}

// runResetPassword makes a password reset link for an account and prints it
// once (only its hash is kept): for a server without SMTP, where nobody can
// get one by mail. The administrator hands it to the account's owner, who
// sets a new password with it within 30 minutes.
func runResetPassword(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "email of the account")
	c, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if *email == "" {
		return usageError{errors.New("usage: jarimu admin reset-password --email E")}
	}
	a, err := openOffline(ctx, c, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	base := c.PublicURL
	if base == "" {
		base = "http://" + c.Addr
	}
	link, err := a.Auth.AdminResetLink(ctx, *email, base)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "reset link for %s (shown once; it works once, for 30 minutes):\n%s\n", *email, link)
	return nil
}

// openOffline opens the app for a command that serves nothing and signs
// nothing (admin create-user, admin reset-password). In scaled mode, where
// the shared signing and Web Push key files are required to serve, a
// throwaway key stands in for each file not given: the command never uses
// them, and nothing of them is kept.
func openOffline(ctx context.Context, c Config, stderr io.Writer) (*app.App, error) {
	o := options(c, newLogger(c, stderr))
	if o.DatabaseURL != "" && o.JWTKeysFile == "" {
		k, err := auth.GenerateKey(time.Now())
		if err != nil {
			return nil, err
		}
		if o.Keys, err = auth.NewKeySet(k); err != nil {
			return nil, err
		}
	}
	if o.DatabaseURL != "" && o.VAPIDKeysFile == "" {
		v, err := push.GenerateVAPID(time.Now())
		if err != nil {
			return nil, err
		}
		o.VAPID = v
	}
	return app.New(ctx, o)
}

// readPassword takes the password from the first line of standard input
// when it is not a terminal; on a terminal, or given an empty line, it
// generates one (to be printed once).
func readPassword(stdin io.Reader) (password string, generated bool, err error) {
	if f, ok := stdin.(*os.File); stdin == nil || ok && isTerminal(f) {
		return generatePassword(), true, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return generatePassword(), true, nil
	}
	return line, false, nil
}

func generatePassword() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// describe spells out a problem's field errors for the command line.
func describe(err error) error {
	p, ok := problem.As(err)
	if !ok || len(p.Fields) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(p.Detail)
	for _, f := range p.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return errors.New(b.String())
}
