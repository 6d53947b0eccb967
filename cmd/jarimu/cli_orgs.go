package main

import (
	"context"
	"fmt"
	"strconv"

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
