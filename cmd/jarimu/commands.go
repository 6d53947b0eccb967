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
	"path/filepath"
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
		return errors.New("usage: jarimu migrate up|down|status")
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
	if len(args) == 0 || args[0] != "create-user" {
		return errors.New("usage: jarimu admin create-user --email E --name N --role admin|officer [--region CODE]")
	}
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "email of the new account")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", "admin or officer")
	regionCode := fs.String("region", "", "officer's region code (empty: national)")
	c, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if *role != api.RoleAdmin && *role != api.RoleOfficer {
		return errors.New("--role must be admin or officer")
	}
	password, generated, err := readPassword(stdin)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, options(c, newLogger(c, stderr)))
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
	fmt.Fprintf(stdout, "created %s %s (%s)\n", u.Role, u.Email, u.ID)
	if generated {
		fmt.Fprintf(stdout, "password (shown once): %s\n", password)
	}
	return nil
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

func runKeys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "new" {
		return errors.New("usage: jarimu keys new --file FILE [--vapid-file FILE]")
	}
	fs := flag.NewFlagSet("keys new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "key file to create or add a newest key to")
	vapidFile := fs.String("vapid-file", "", "Web Push (VAPID) key file, created if missing and never replaced (default: vapid-keys.json beside --file)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("--file is required")
	}
	k, err := auth.AddKeyToFile(*file, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added key %s to %s; it signs from now on, older keys still verify\n", k.ID, *file)
	if *vapidFile == "" {
		*vapidFile = filepath.Join(filepath.Dir(*file), "vapid-keys.json")
	}
	v, created, err := push.EnsureVAPIDFile(*vapidFile, time.Now())
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created Web Push key file %s (public key %s); give it to every instance as JARIMU_VAPID_KEYS_FILE\n", *vapidFile, v.PublicKey())
	} else {
		fmt.Fprintf(stdout, "kept Web Push key file %s (replacing it would cut every browser subscription; see docs/operations.md)\n", *vapidFile)
	}
	return nil
}
