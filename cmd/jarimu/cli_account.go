package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/jarimu/jarimu/client"
)

func runLogin(ctx context.Context, con console, args []string) error {
	c := con.command("login", "--server URL --email EMAIL [flags]",
		"Sign in to a Jarimu server. The password is read from standard input when it is not a\n"+
			"terminal (pipe it from a password manager), else typed after a prompt, unseen. The session\n"+
			"is kept in the config dir ($JARIMU_CONFIG_DIR, default <your config dir>/jarimu), in\n"+
			"credentials.json readable by you only, and renewed as you use it. It also keeps the device\n"+
			"token the server gives this computer, kept after logout: with it your next login gets in\n"+
			"even while someone guessing your password is being throttled.",
		`printf '%s\n' "$PASSWORD" | jarimu login --server https://jarimu.example.org --email ana@example.org`)
	email := c.fs.String("email", "", "the email of your account")
	if _, err := c.parse(args); err != nil {
		return err
	}
	v, err := c.vault()
	if err != nil {
		return err
	}
	old, err := v.load()
	if err != nil {
		return err
	}
	base := cmp.Or(c.serverFlag(), old.URL)
	if err := c.required("server", base, "email", *email); err != nil {
		return err
	}
	if base, err = serverURL(base); err != nil {
		return err
	}
	password, err := loginPassword(ctx, con)
	if err != nil {
		return err
	}
	var device string
	if old.URL == base {
		device = old.DeviceToken // another account's counts as none, harmlessly
	}
	cl := newClient(base, client.WithDeviceToken(device))
	resp, err := cl.Login(ctx, *email, password)
	if err != nil {
		return err
	}
	// The session kept until now is read again as it is replaced, under the
	// lock: another jarimu may have renewed it since.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockTimeout)
	defer cancel()
	err = v.update(lctx, func(cr *credentials) bool {
		old = *cr
		*cr = credentials{URL: base, DeviceToken: cl.DeviceToken()}
		cr.setTokens(resp.Tokens, time.Now())
		return true
	})
	if err != nil {
		cl.Logout(context.WithoutCancel(ctx)) // a session nobody keeps is ended
		return err
	}
	forgetFeed(v)
	if old.loggedIn() && old.Tokens.RefreshToken != resp.Tokens.RefreshToken {
		// The session kept before is replaced: end it, if its server answers.
		newClient(old.URL, client.WithTokens(old.Tokens)).Logout(ctx)
	}
	if resp.ConsentDue {
		fmt.Fprintln(c.stderr, "jarimu: consent to the privacy notice in force is due; until then most changes are held back: read it with jarimu consent")
	}
	if *c.json {
		return printJSON(c.stdout, resp.User)
	}
	_, err = fmt.Fprintf(c.stdout, "logged in to %s as %s <%s>, %s\n", base, clean(resp.User.Name), clean(resp.User.Email), resp.User.Role)
	return err
}

// loginPassword reads the password: the first line of standard input when
// it is not a terminal; on a terminal, typed after a prompt with echo off.
func loginPassword(ctx context.Context, con console) (string, error) {
	if con.stdin == nil {
		return "", errors.New("no password: give it on standard input")
	}
	if f, ok := con.stdin.(*os.File); ok && isTerminal(f) {
		return promptPassword(ctx, f, con.stderr, "Password: ")
	}
	line, err := bufio.NewReader(con.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if line = strings.TrimRight(line, "\r\n"); line == "" {
		return "", errors.New("no password on standard input: give it on the first line")
	}
	return line, nil
}

// promptPassword asks for a password on the terminal tty after label, with
// echo turned off by stty (Linux, macOS and the BSDs), and turned on again.
func promptPassword(ctx context.Context, tty *os.File, prompt io.Writer, label string) (string, error) {
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = tty
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("cannot hide the password on this terminal (%v): give it on standard input instead", err)
	}
	defer stty("echo")
	fmt.Fprint(prompt, label)
	defer fmt.Fprintln(prompt)
	type answer struct {
		line string
		err  error
	}
	// The reader is not stopped by a cancelled ctx: a read of a terminal
	// cannot be interrupted. It ends with the process, which exits right
	// after a cancelled login.
	got := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(tty).ReadString('\n')
		got <- answer{strings.TrimRight(line, "\r\n"), err}
	}()
	select {
	case a := <-got:
		if a.err != nil && !errors.Is(a.err, io.EOF) {
			return "", fmt.Errorf("read the password: %w", a.err)
		}
		if a.line == "" {
			return "", errors.New("no password typed")
		}
		return a.line, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func runLogout(ctx context.Context, con console, args []string) error {
	c := con.command("logout", "[flags]",
		"Sign out: the server ends the session, and this computer forgets it (the server's\n"+
			"address and this computer's device token are kept for the next login).",
		"jarimu logout")
	if _, err := c.parse(args); err != nil {
		return err
	}
	cl, v, err := c.session()
	if errors.Is(err, errNotLoggedIn) {
		if !*c.json {
			fmt.Fprintln(c.stdout, "not logged in")
		}
		return nil
	}
	if err != nil {
		return err
	}
	err = cl.Logout(ctx) // the token store forgets the tokens, whatever the answer
	forgetFeed(v)
	if err != nil {
		return fmt.Errorf("logged out here, but the server could not be told; the session ends by itself when it expires: %w", explain(err))
	}
	if !*c.json {
		fmt.Fprintln(c.stdout, "logged out")
	}
	return nil
}

func runMe(ctx context.Context, con console, args []string) error {
	c := con.command("me", "[flags]", "Show who you are logged in as, and your memberships of organisations.\njarimu me edit changes your name, region or language (see jarimu me edit --help).", "jarimu me")
	_, cl, err := c.signedIn(args)
	if err != nil {
		return err
	}
	me, err := cl.Me(ctx)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, me)
	}
	u := me.User
	err = printFields(c.stdout, "name", u.Name, "email", u.Email, "role", u.Role, "region", regionLabel(u.RegionCode),
		"id", u.ID, "since", when(u.CreatedAt))
	if err != nil || len(me.Memberships) == 0 {
		return err
	}
	fmt.Fprintln(c.stdout)
	t := newTable(c.stdout, "ORGANISATION", "ROLE", "MEMBERSHIP", "ORG STATUS", "ORG ID")
	for _, m := range me.Memberships {
		t.row(short(m.OrgName, 40), m.Role, m.Status, m.OrgStatus, m.OrgID)
	}
	return t.flush()
}
