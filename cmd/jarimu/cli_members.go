package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

func runJoin(ctx context.Context, con console, args []string) error {
	c := con.command("join", "ORG_ID [--code CODE] [flags]",
		"Join an organisation: with the invite code its coordinator gave you, at once; without\n"+
			"one, you ask, and a coordinator approves or rejects (jarimu me shows where it stands).",
		"jarimu join 0190c0de-1a2b-7c3d-8e4f-506172839405 --code BVWNX-BGXQK-5MKBX-QPP99")
	code := c.fs.String("code", "", "the invite `CODE`")
	pos, cl, err := c.signedIn(args, "ORG_ID")
	if err != nil {
		return err
	}
	m, err := cl.Join(ctx, pos[0], *code)
	if err != nil {
		return err
	}
	return printMembership(c, m)
}

// orgFlag adds --org, the organisation a coordinator's command is about.
func (c *command) orgFlag() *string {
	return c.fs.String("org", "", "the organisation `ID` (default: the one you coordinate, if only one)")
}

// orgSession is the session and the organisation of --org (see
// coordinatedOrg).
func (c *command) orgSession(ctx context.Context, org string) (*client.Client, string, error) {
	cl, _, err := c.session()
	if err != nil {
		return nil, "", err
	}
	id, err := coordinatedOrg(ctx, c, cl, org)
	return cl, id, err
}

// coordinatedOrg is the organisation of --org, or else the one the caller
// is an active coordinator of, when there is only one.
func coordinatedOrg(ctx context.Context, c *command, cl *client.Client, org string) (string, error) {
	if org != "" {
		return org, nil
	}
	me, err := cl.Me(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, m := range me.Memberships {
		if m.Role == api.RoleCoordinator && m.Status == api.MembershipActive {
			ids = append(ids, m.OrgID)
		}
	}
	if len(ids) != 1 {
		return "", usageError{fmt.Errorf("--org is required: you coordinate %d organisations (jarimu me lists them; see jarimu %s --help)", len(ids), c.name)}
	}
	return ids[0], nil
}

func runMembers(ctx context.Context, con console, args []string) error {
	c := con.command("members", "[--org ORG_ID] [flags]",
		"List the memberships of an organisation, pending ones included: its coordinators and\n"+
			"the officers of its region.",
		"jarimu members --org 0190c0de-1a2b-7c3d-8e4f-506172839405 --status pending")
	org := c.orgFlag()
	status := c.fs.String("status", "", "only memberships that are pending, active, rejected, removed or left")
	limit := c.limitFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	cl, id, err := c.orgSession(ctx, *org)
	if err != nil {
		return err
	}
	ms, err := collect(cl.AllMemberships(ctx, id, *status, client.ListOptions{Limit: pageSize(*limit)}), *limit)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, ms)
	}
	if len(ms) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no memberships")
		return err
	}
	t := newTable(c.stdout, "NAME", "ROLE", "STATUS", "SINCE", "USER ID")
	for _, m := range ms {
		t.row(short(m.UserName, 40), m.Role, m.Status, day(m.CreatedAt), m.UserID)
	}
	return t.flush()
}

// printMembership writes a membership as key: value lines, or as JSON.
func printMembership(c *command, m api.Membership) error {
	if *c.json {
		return printJSON(c.stdout, m)
	}
	return printFields(c.stdout, "organisation", m.OrgID, "user", m.UserID, "name", m.UserName, "role", m.Role,
		"status", m.Status, "reason", m.Reason, "decided", whenPtr(m.DecidedAt))
}

// memberCommand parses a command on one member (USER_ID and --org) and
// runs act with the organisation's id.
func memberCommand(ctx context.Context, c *command, args []string, check func() error,
	act func(cl *client.Client, org, user string) (api.Membership, error)) error {
	org := c.orgFlag()
	pos, err := c.parse(args, "USER_ID")
	if err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	cl, id, err := c.orgSession(ctx, *org)
	if err != nil {
		return err
	}
	m, err := act(cl, id, pos[0])
	if err != nil {
		return err
	}
	return printMembership(c, m)
}

func noCheck() error { return nil }

func runMemberApprove(ctx context.Context, con console, args []string) error {
	c := con.command("member approve", "USER_ID [--org ORG_ID] [flags]",
		"Approve a pending membership: the volunteer becomes a member and may claim the org's tasks.",
		"jarimu member approve 0190c0de-2b3c-7d4e-8f50-617283940516 --org 0190c0de-1a2b-7c3d-8e4f-506172839405")
	return memberCommand(ctx, c, args, noCheck, func(cl *client.Client, org, user string) (api.Membership, error) {
		return cl.Decide(ctx, org, user, api.DecisionRequest{Decision: "approve"})
	})
}

func runMemberReject(ctx context.Context, con console, args []string) error {
	c := con.command("member reject", "USER_ID --reason R [--org ORG_ID] [flags]",
		"Reject a pending membership. The volunteer sees the reason.",
		`jarimu member reject 0190c0de-2b3c-7d4e-8f50-617283940516 --reason "bukan anggota kami"`)
	reason := c.fs.String("reason", "", "why, for the volunteer (up to 1,000 characters)")
	check := func() error { return c.required("reason", *reason) }
	return memberCommand(ctx, c, args, check, func(cl *client.Client, org, user string) (api.Membership, error) {
		return cl.Decide(ctx, org, user, api.DecisionRequest{Decision: "reject", Reason: *reason})
	})
}

func runMemberRole(ctx context.Context, con console, args []string) error {
	c := con.command("member role", "USER_ID --role member|coordinator [--org ORG_ID] [flags]",
		"Change an active member's role: coordinators manage the org's members, tasks and reports.",
		"jarimu member role 0190c0de-2b3c-7d4e-8f50-617283940516 --role coordinator")
	role := c.fs.String("role", "", "the new `ROLE`: member or coordinator")
	check := func() error { return c.required("role", *role) }
	return memberCommand(ctx, c, args, check, func(cl *client.Client, org, user string) (api.Membership, error) {
		return cl.SetRole(ctx, org, user, *role)
	})
}

func runMemberRemove(ctx context.Context, con console, args []string) error {
	c := con.command("member remove", "USER_ID [--org ORG_ID] [flags]",
		"Remove a member from the organisation; their active claims on its tasks end.",
		"jarimu member remove 0190c0de-2b3c-7d4e-8f50-617283940516")
	org := c.orgFlag()
	pos, err := c.parse(args, "USER_ID")
	if err != nil {
		return err
	}
	cl, id, err := c.orgSession(ctx, *org)
	if err != nil {
		return err
	}
	if err := cl.RemoveMember(ctx, id, pos[0]); err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, map[string]string{"org_id": id, "user_id": pos[0], "status": api.MembershipRemoved})
	}
	_, err = fmt.Fprintf(c.stdout, "removed %s from %s\n", pos[0], id)
	return err
}

func runInviteCreate(ctx context.Context, con console, args []string) error {
	c := con.command("invite create", "[--org ORG_ID] [--uses N] [--expires WHEN] [flags]",
		"Make an invite code for an organisation. The code is shown once: only its hash is kept.\n"+
			"Volunteers join with it (jarimu join ORG_ID --code CODE), then wait for approval.\n"+
			"The server has no list or revocation of invites: an invite ends when it expires or\n"+
			"is used up.",
		"jarimu invite create --uses 50 --expires 7d")
	org := c.orgFlag()
	uses := c.fs.Int("uses", 20, "how many volunteers may use it, 1 to 10000")
	expires := c.fs.String("expires", "7d", "when it expires: a duration (`WHEN` such as 48h or 7d), a date or an RFC 3339 time")
	key := c.keyFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	invite := func(at time.Time) (api.InviteRequest, error) {
		until, err := parseWhen("expires", *expires, at)
		return api.InviteRequest{MaxUses: *uses, ExpiresAt: until}, err
	}
	if _, err := invite(time.Now()); err != nil {
		return err // before the server is called
	}
	cl, id, err := c.orgSession(ctx, *org)
	if err != nil {
		return err
	}
	req, _, err := keyed(ctx, c, keyUse{key: *key, about: id}, invite)
	if err != nil {
		return err
	}
	inv, err := cl.CreateInvite(ctx, id, req, keyOption(*key)...)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, inv)
	}
	return printFields(c.stdout, "code", inv.Code+" (shown once)", "organisation", inv.OrgID, "uses", fmt.Sprint(inv.MaxUses),
		"expires", when(inv.ExpiresAt), "join with", "jarimu join "+inv.OrgID+" --code "+inv.Code)
}

// parseWhen reads a time flag: a duration from now ("48h", "7d"), a date
// (the start of that day, local time) or an RFC 3339 time.
func parseWhen(name, v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err == nil && fmt.Sprint(n) == days && n > 0 {
			return now.AddDate(0, 0, n), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(d), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{errors.New("--" + name + " " + fmt.Sprintf("%q", v) + ": want a duration such as 48h or 7d, a date such as 2029-12-31, or an RFC 3339 time")}
}
