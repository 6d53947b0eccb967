package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jarimu/jarimu/api"
)

func runMeEdit(ctx context.Context, con console, args []string) error {
	c := con.command("me edit", "[--name N] [--region CODE] [--language id|en] [flags]",
		"Change your name, your region (volunteers; --region \"\" makes you national) or the\n"+
			"language of the console and of mail sent to you. Flags not given stay as they are.\n"+
			"A region change reaches your open feeds at once.",
		`jarimu me edit --name "Sari Wulandari" --region 3273 --language en`)
	name := c.fs.String("name", "", "your name as others see it")
	regionCode := c.fs.String("region", "", "your province or regency `CODE` (\"\" for national)")
	language := c.fs.String("language", "", "id or en")
	if _, err := c.parse(args); err != nil {
		return err
	}
	var req api.UpdateMeRequest
	c.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			req.Name = name
		case "region":
			req.RegionCode = regionCode
		case "language":
			req.Language = language
		}
	})
	if req.Name == nil && req.RegionCode == nil && req.Language == nil {
		return usageError{errors.New("nothing to change: give --name, --region or --language (see jarimu me edit --help)")}
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	u, err := cl.UpdateMe(ctx, req)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, u)
	}
	return printFields(c.stdout, "name", u.Name, "region", regionLabel(u.RegionCode), "language", u.Language)
}

func runPassword(ctx context.Context, con console, args []string) error {
	c := con.command("password", "[flags]",
		"Change your password. Give the current password and the new one on the first two lines\n"+
			"of standard input, or type them after the prompts on a terminal (the new one twice).\n"+
			"Every other session and device of your account is signed out; this computer stays in.",
		`printf '%s\n%s\n' "$OLD" "$NEW" | jarimu password`)
	if _, err := c.parse(args); err != nil {
		return err
	}
	current, next, err := readPasswords(ctx, con)
	if err != nil {
		return err
	}
	cl, v, err := c.session()
	if err != nil {
		return err
	}
	if err := cl.ChangePassword(ctx, current, next); err != nil {
		return err
	}
	// The client kept the new session's tokens in the file already (under
	// its lock, where another process may have renewed them since): only
	// the new device token is added, under the lock too.
	device := cl.DeviceToken()
	err = v.update(ctx, func(cr *credentials) bool {
		if cr.DeviceToken == device {
			return false
		}
		cr.DeviceToken = device
		return true
	})
	if err != nil {
		return fmt.Errorf("the password is changed, but this computer's new device token could not be kept (%w): the next login may be throttled", err)
	}
	if !*c.json {
		fmt.Fprintln(c.stdout, "password changed; every other session and device is signed out")
	}
	return nil
}

// readPasswords reads the current and the new password: two lines of
// standard input, or on a terminal three prompts (the new one twice).
func readPasswords(ctx context.Context, con console) (current, next string, err error) {
	if con.stdin == nil {
		return "", "", errors.New("no passwords: give the current and the new one on standard input")
	}
	if f, ok := con.stdin.(*os.File); ok && isTerminal(f) {
		if current, err = promptPassword(ctx, f, con.stderr, "Current password: "); err != nil {
			return "", "", err
		}
		if next, err = promptPassword(ctx, f, con.stderr, "New password: "); err != nil {
			return "", "", err
		}
		again, err := promptPassword(ctx, f, con.stderr, "New password again: ")
		if err != nil {
			return "", "", err
		}
		if again != next {
			return "", "", errors.New("the new passwords differ; nothing changed")
		}
		return current, next, nil
	}
	r := bufio.NewReader(con.stdin)
	var lines []string
	for range 2 {
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", "", fmt.Errorf("read the passwords: %w", err)
		}
		lines = append(lines, strings.TrimRight(line, "\r\n"))
	}
	if lines[0] == "" || lines[1] == "" {
		return "", "", errors.New("give the current password on the first line of standard input and the new one on the second")
	}
	return lines[0], lines[1], nil
}

func runConsent(ctx context.Context, con console, args []string) error {
	c := con.command("consent", "[--accept VERSION] [--language id|en] [flags]",
		"Show the privacy notice in force; with --accept and its version, consent to it. Until\n"+
			"you consent to the version in force, the server holds back most of your changes\n"+
			"(reading, alerts and the feed keep working).",
		`jarimu consent && jarimu consent --accept 2026-12-09`)
	accept := c.fs.String("accept", "", "consent to the notice of this `VERSION` (the one shown)")
	language := c.fs.String("language", "id", "the language to show the notice in: id or en")
	if _, err := c.parse(args); err != nil {
		return err
	}
	if *language != "id" && *language != "en" {
		return usageError{fmt.Errorf("--language %q: want id or en (see jarimu %s --help)", *language, c.name)}
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	if *accept != "" {
		u, err := cl.Consent(ctx, *accept)
		if err != nil {
			return err
		}
		if *c.json {
			return printJSON(c.stdout, u)
		}
		_, err = fmt.Fprintf(c.stdout, "consented to the privacy notice of %s\n", *accept)
		return err
	}
	n, err := cl.Privacy(ctx)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, n)
	}
	text, ok := n.Languages[*language]
	if !ok {
		return fmt.Errorf("the server's privacy notice has no %q text", *language)
	}
	fmt.Fprintf(c.stdout, "%s (version %s)\n", clean(text.Title), clean(n.Version))
	for _, s := range text.Sections {
		fmt.Fprintf(c.stdout, "\n%s\n", clean(s.Heading))
		for _, p := range s.Paragraphs {
			fmt.Fprintf(c.stdout, "  %s\n", clean(p))
		}
	}
	_, err = fmt.Fprintf(c.stdout, "\nTo consent: jarimu consent --accept %s\n", clean(n.Version))
	return err
}
