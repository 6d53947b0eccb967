package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

func runOrgs(ctx context.Context, con console, args []string) error {
	c := con.command("orgs", "[flags]",
		"List the public registry of civil society organisations accredited by Bawaslu, newest first.\n"+
			"No login needed.",
		"jarimu orgs --status accredited --region 31")
	status := c.fs.String("status", "", "only organisations whose accreditation is accredited, suspended, revoked or expired")
	regionCode := c.fs.String("region", "", "only organisations of the region `CODE` (Kemendagri code, such as 31)")
	limit := c.limitFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	cl, err := c.publicClient()
	if err != nil {
		return err
	}
	f := client.OrgFilter{Status: *status, Region: *regionCode, ListOptions: client.ListOptions{Limit: pageSize(*limit)}}
	orgs, err := collect(cl.AllOrgs(ctx, f), *limit)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, orgs)
	}
	if len(orgs) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no organisations")
		return err
	}
	t := newTable(c.stdout, "NAME", "STATUS", "REGION", "MEMBERS", "ACCREDITED UNTIL", "ID")
	for _, o := range orgs {
		t.row(short(o.Name, 40), o.Status, regionLabel(o.RegionCode), strconv.Itoa(o.MemberCount), day(o.AccreditedUntil), o.ID)
	}
	return t.flush()
}

func runOrgRegister(ctx context.Context, con console, args []string) error {
	c := con.command("org register", "--name N --number A --until DATE [flags]",
		"Register a civil society organisation Bawaslu accredited (officers and admins). With\n"+
			"--coordinator, that account becomes its first coordinator.",
		`jarimu org register --name "Perludem Jakarta" --number B-12/2029 --until 2029-12-31 --region 31 --coordinator ana@example.org`)
	name := c.fs.String("name", "", "the organisation's name")
	number := c.fs.String("number", "", "the accreditation number")
	until := c.fs.String("until", "", "the accreditation's end: a `DATE` such as 2029-12-31, or an RFC 3339 time")
	regionCode := c.fs.String("region", "", "its region `CODE` (default: national)")
	coordinator := c.fs.String("coordinator", "", "the `EMAIL` of an account to make its coordinator")
	key := c.keyFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	if err := c.required("name", *name, "number", *number, "until", *until); err != nil {
		return err
	}
	req, _, err := keyed(ctx, c, keyUse{key: *key}, func(at time.Time) (api.CreateOrgRequest, error) {
		end, err := parseWhen("until", *until, at)
		return api.CreateOrgRequest{Name: *name, AccreditationNumber: *number, AccreditedUntil: end,
			RegionCode: optional(*regionCode), CoordinatorEmail: optional(*coordinator)}, err
	})
	if err != nil {
		return err
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	o, err := cl.CreateOrg(ctx, req, keyOption(*key)...)
	if err != nil {
		return err
	}
	return printOrg(c, o)
}

func runOrgShow(ctx context.Context, con console, args []string) error {
	c := con.command("org show", "ORG_ID [flags]", "Show an organisation with its accreditation history. No login needed.",
		"jarimu org show 0190c0de-1a2b-7c3d-8e4f-506172839405")
	pos, err := c.parse(args, "ORG_ID")
	if err != nil {
		return err
	}
	cl, err := c.publicClient()
	if err != nil {
		return err
	}
	o, err := cl.Org(ctx, pos[0])
	if err != nil {
		return err
	}
	return printOrg(c, o)
}

// printOrg writes an organisation and its decisions, or its JSON.
func printOrg(c *command, o api.Org) error {
	if *c.json {
		return printJSON(c.stdout, o)
	}
	err := printFields(c.stdout, "organisation", o.ID, "name", o.Name, "accreditation", o.AccreditationNumber,
		"status", o.Status, "accredited until", day(o.AccreditedUntil), "region", regionLabel(o.RegionCode),
		"members", strconv.Itoa(o.MemberCount))
	if err != nil || len(o.Decisions) == 0 {
		return err
	}
	fmt.Fprintln(c.stdout, "\ndecisions:")
	t := newTable(c.stdout, "  AT", "ACTION", "STATUS", "UNTIL", "REASON")
	for _, d := range o.Decisions {
		until := "-"
		if d.Until != nil {
			until = day(*d.Until)
		}
		t.row("  "+when(d.At), d.Action, d.Status, until, d.Reason)
	}
	return t.flush()
}

func runOrgSuspend(ctx context.Context, con console, args []string) error {
	c := con.command("org suspend", "ORG_ID --reason R [flags]",
		"Suspend an organisation's accreditation (officers of its region): it takes no new tasks\n"+
			"or reports until renewed. The reason is public, on the registry.",
		`jarimu org suspend 0190c0de-1a2b-7c3d-8e4f-506172839405 --reason "laporan dana belum diserahkan"`)
	return accreditation(ctx, c, args, api.ActionSuspend)
}

func runOrgRevoke(ctx context.Context, con console, args []string) error {
	c := con.command("org revoke", "ORG_ID --reason R [flags]",
		"Revoke an organisation's accreditation (officers of its region). The reason is public.",
		`jarimu org revoke 0190c0de-1a2b-7c3d-8e4f-506172839405 --reason "melanggar kode etik pemantau"`)
	return accreditation(ctx, c, args, api.ActionRevoke)
}

func runOrgRenew(ctx context.Context, con console, args []string) error {
	c := con.command("org renew", "ORG_ID --until DATE --reason R [flags]",
		"Renew an organisation's accreditation until a new date (officers of its region).",
		`jarimu org renew 0190c0de-1a2b-7c3d-8e4f-506172839405 --until 2030-06-30 --reason "akreditasi diperpanjang"`)
	return accreditation(ctx, c, args, api.ActionRenew)
}

// accreditation runs org suspend, revoke or renew.
func accreditation(ctx context.Context, c *command, args []string, action string) error {
	reason := c.fs.String("reason", "", "why, shown on the public registry (3 to 1,000 characters)")
	var until *string
	if action == api.ActionRenew {
		until = c.fs.String("until", "", "the new end: a `DATE` such as 2030-06-30, or an RFC 3339 time")
	}
	key := c.keyFlag()
	pos, err := c.parse(args, "ORG_ID")
	if err != nil {
		return err
	}
	req := api.AccreditationRequest{Action: action, Reason: *reason}
	if until != nil {
		if err := c.required("until", *until, "reason", *reason); err != nil {
			return err
		}
		req, _, err = keyed(ctx, c, keyUse{key: *key, about: pos[0]}, func(at time.Time) (api.AccreditationRequest, error) {
			end, err := parseWhen("until", *until, at)
			return api.AccreditationRequest{Action: action, Reason: *reason, Until: &end}, err
		})
		if err != nil {
			return err
		}
	} else if err := c.required("reason", *reason); err != nil {
		return err
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	o, err := cl.SetAccreditation(ctx, pos[0], req, keyOption(*key)...)
	if err != nil {
		return err
	}
	return printOrg(c, o)
}
