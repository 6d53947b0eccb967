package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

func runUserCreate(ctx context.Context, con console, args []string) error {
	c := con.command("user create", "--email E --name N --role officer|admin [--region CODE] [flags]",
		"Make a staff account (admins): a Bawaslu officer of a region, or an admin. The password\n"+
			"is read from standard input when it is not a terminal; else, or given an empty line, one\n"+
			"is generated and printed once (with --json, as \"password\" next to the account's fields;\n"+
			"with --key, kept 24 hours in the config dir for a rerun with that key, which prints it\n"+
			"again). Its owner consents to the privacy notice at first login.",
		`printf '%s\n' "$PASSWORD" | jarimu user create --email jkt@bawaslu.go.id --name "Bawaslu DKI" --role officer --region 31`)
	email := c.fs.String("email", "", "the account's email")
	name := c.fs.String("name", "", "the display name")
	role := c.fs.String("role", "", "officer or admin")
	regionCode := c.fs.String("region", "", "an officer's region `CODE` (default: national)")
	key := c.keyFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	if err := c.required("email", *email, "name", *name, "role", *role); err != nil {
		return err
	}
	password, generated, err := readPassword(con.stdin)
	if err != nil {
		return err
	}
	req := api.CreateUserRequest{Email: *email, Name: *name, Role: *role, RegionCode: optional(*regionCode)}
	if generated && *key != "" {
		// A rerun with the key sends (and shows) the password the first
		// run generated: another would be another request.
		_, run, err := keyed(ctx, c, keyUse{key: *key, password: password}, func(time.Time) (api.CreateUserRequest, error) {
			return req, nil // without the password generated
		})
		if err != nil {
			return err
		}
		password = run.Password
	}
	req.Password = password
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	u, err := cl.CreateUser(ctx, req, keyOption(*key)...)
	if err != nil {
		return err
	}
	if *c.json {
		// The account as the API answers it, and the password generated.
		out := struct {
			api.User
			Password string `json:"password,omitempty"`
		}{User: u}
		if generated {
			out.Password = password
		}
		return printJSON(c.stdout, out)
	}
	if err := printUser(c, u); err != nil || !generated {
		return err
	}
	if *key != "" {
		_, err = fmt.Fprintf(c.stdout, "password: %s (kept %d hours for a rerun with --key %s)\n", password, int(keyMemory.Hours()), *key)
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "password (shown once): %s\n", password)
	return err
}

// printUser writes an account as key: value lines, or its JSON.
func printUser(c *command, u api.User) error {
	if *c.json {
		return printJSON(c.stdout, u)
	}
	return printFields(c.stdout, "user", u.ID, "email", u.Email, "name", u.Name, "role", u.Role,
		"region", regionLabel(u.RegionCode), "status", u.Status, "since", when(u.CreatedAt))
}

func runUserShow(ctx context.Context, con console, args []string) error {
	c := con.command("user show", "USER_ID [flags]", "Show an account (admins).",
		"jarimu user show 0190c0de-2b3c-7d4e-8f50-617283940516")
	return userCommand(c, args, func(cl *client.Client, id string) (api.User, error) { return cl.User(ctx, id) })
}

func runUserSuspend(ctx context.Context, con console, args []string) error {
	c := con.command("user suspend", "USER_ID [flags]",
		"Suspend an account (admins): its sessions and tokens stop working at once.",
		"jarimu user suspend 0190c0de-2b3c-7d4e-8f50-617283940516")
	return userCommand(c, args, func(cl *client.Client, id string) (api.User, error) {
		return cl.SetUserStatus(ctx, id, api.UserSuspended)
	})
}

func runUserReactivate(ctx context.Context, con console, args []string) error {
	c := con.command("user reactivate", "USER_ID [flags]",
		"Reactivate a suspended account (admins): its owner can log in again.",
		"jarimu user reactivate 0190c0de-2b3c-7d4e-8f50-617283940516")
	return userCommand(c, args, func(cl *client.Client, id string) (api.User, error) {
		return cl.SetUserStatus(ctx, id, api.UserActive)
	})
}

// userCommand parses a command on one account and prints what call answers.
func userCommand(c *command, args []string, call func(cl *client.Client, id string) (api.User, error)) error {
	pos, cl, err := c.signedIn(args, "USER_ID")
	if err != nil {
		return err
	}
	u, err := call(cl, pos[0])
	if err != nil {
		return err
	}
	return printUser(c, u)
}
