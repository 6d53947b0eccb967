package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

func runReports(ctx context.Context, con console, args []string) error {
	c := con.command("reports", "[flags]",
		"List the reports you may see, newest first: your own; your organisations' as coordinator;\n"+
			"your region's as officer. Officers: --status endorsed (or submitted) lists those to verify.",
		"jarimu reports --status endorsed --region 31")
	status := c.fs.String("status", "", "only reports that are submitted, endorsed, verified, rejected or duplicate")
	org := c.fs.String("org", "", "only reports filed for the organisation `ID`")
	category := c.fs.String("category", "", "only reports of a category: "+strings.Join(api.Categories, ", "))
	regionCode := c.fs.String("region", "", "only reports of the region `CODE` or below it")
	limit := c.limitFlag()
	_, cl, err := c.signedIn(args)
	if err != nil {
		return err
	}
	f := client.ReportFilter{Status: *status, OrgID: *org, Category: *category, Region: *regionCode,
		ListOptions: client.ListOptions{Limit: pageSize(*limit)}}
	reports, err := collect(cl.AllReports(ctx, f), *limit)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, reports)
	}
	if len(reports) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no reports")
		return err
	}
	t := newTable(c.stdout, "OBSERVED", "STATUS", "CATEGORY", "PLATFORM", "REGION", "SUMMARY", "ID")
	for _, r := range reports {
		t.row(when(r.ObservedAt), r.Status, r.Category, r.Platform, regionLabel(r.RegionCode), short(r.Summary, 40), r.ID)
	}
	return t.flush()
}

func runReportShow(ctx context.Context, con console, args []string) error {
	c := con.command("report show", "REPORT_ID [flags]",
		"Show a report with its evidence, decisions and takedown history.",
		"jarimu report show 0190c0de-7c3e-7d4f-9a50-617283940516")
	pos, err := c.parse(args, "REPORT_ID")
	if err != nil {
		return err
	}
	return decide(ctx, c, func(cl *client.Client) (api.Report, error) { return cl.Report(ctx, pos[0]) })
}

// decide runs a call on a report with the session and prints the report
// it answers.
func decide(ctx context.Context, c *command, call func(cl *client.Client) (api.Report, error)) error {
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	r, err := call(cl)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, r)
	}
	return printReport(c, r)
}

func runReportReview(ctx context.Context, con console, args []string) error {
	c := con.command("report review", "REPORT_ID --decision endorse|reject [--note N] [flags]",
		"Review a report filed for your organisation (coordinators; never your own): endorse it\n"+
			"for Bawaslu's officers, or reject it with a note the reporter sees.",
		`jarimu report review 0190c0de-7c3e-7d4f-9a50-617283940516 --decision endorse`)
	decision := c.fs.String("decision", "", "endorse or reject")
	note := c.fs.String("note", "", "a note for the reporter (required to reject)")
	key := c.keyFlag()
	pos, err := c.parse(args, "REPORT_ID")
	if err != nil {
		return err
	}
	if err := c.required("decision", *decision); err != nil {
		return err
	}
	return decide(ctx, c, func(cl *client.Client) (api.Report, error) {
		return cl.Review(ctx, pos[0], api.ReviewRequest{Decision: *decision, Note: *note}, keyOption(*key)...)
	})
}

func runReportVerify(ctx context.Context, con console, args []string) error {
	c := con.command("report verify", "REPORT_ID [--note N] [--public-summary S] [flags]",
		"Mark a report verified (officers of its region; never your own report). Verified reports\n"+
			"can be cited in alerts and go to the takedown steps. --public-summary is what Bawaslu\n"+
			"publishes of a disinformation finding instead of the reporter's summary; it cannot be\n"+
			"changed afterwards.",
		"jarimu report verify 0190c0de-7c3e-7d4f-9a50-617283940516")
	return verification(ctx, c, args, api.ReportVerified)
}

func runReportReject(ctx context.Context, con console, args []string) error {
	c := con.command("report reject", "REPORT_ID --note N [flags]",
		"Reject a report (officers of its region), with a note the reporter sees.",
		`jarimu report reject 0190c0de-7c3e-7d4f-9a50-617283940516 --note "konten bukan pelanggaran pemilu"`)
	return verification(ctx, c, args, api.ReportRejected)
}

func runReportDuplicate(ctx context.Context, con console, args []string) error {
	c := con.command("report duplicate", "REPORT_ID --of REPORT_ID [flags]",
		"Mark a report a duplicate of another (officers of its region).",
		"jarimu report duplicate 0190c0de-7c3e-7d4f-9a50-617283940516 --of 0190c0de-6b2f-7c3d-8e4f-506172839405")
	return verification(ctx, c, args, api.ReportDuplicate)
}

// verification runs report verify, reject or duplicate.
func verification(ctx context.Context, c *command, args []string, decision string) error {
	note := c.fs.String("note", "", "a note for the reporter (required to reject)")
	var of, public *string
	switch decision {
	case api.ReportDuplicate:
		of = c.fs.String("of", "", "the `REPORT_ID` it duplicates")
	case api.ReportVerified:
		public = c.fs.String("public-summary", "", "the `TEXT` Bawaslu publishes of the finding (10 to 4,000 characters; default: the reporter's summary)")
	}
	key := c.keyFlag()
	pos, err := c.parse(args, "REPORT_ID")
	if err != nil {
		return err
	}
	req := api.VerificationRequest{Decision: decision, Note: *note}
	switch decision {
	case api.ReportRejected:
		err = c.required("note", *note)
	case api.ReportDuplicate:
		err, req.DuplicateOf = c.required("of", *of), of
	case api.ReportVerified:
		if c.isSet("public-summary") {
			req.PublicSummary = public
		}
	}
	if err != nil {
		return err
	}
	return decide(ctx, c, func(cl *client.Client) (api.Report, error) {
		return cl.Verify(ctx, pos[0], req, keyOption(*key)...)
	})
}

func runReportTakedown(ctx context.Context, con console, args []string) error {
	c := con.command("report takedown", "REPORT_ID --status requested|taken_down|refused [flags]",
		"Record a step of the takedown of a report's content (officers): requested from the\n"+
			"platform, taken down, or refused by it.",
		`jarimu report takedown 0190c0de-7c3e-7d4f-9a50-617283940516 --status requested --ref TIKET-4411 --note "dikirim ke platform"`)
	status := c.fs.String("status", "", "the step: requested, taken_down or refused")
	ref := c.fs.String("ref", "", "the platform's `REFERENCE` of the request")
	note := c.fs.String("note", "", "a note")
	key := c.keyFlag()
	pos, err := c.parse(args, "REPORT_ID")
	if err != nil {
		return err
	}
	if err := c.required("status", *status); err != nil {
		return err
	}
	return decide(ctx, c, func(cl *client.Client) (api.Report, error) {
		return cl.Takedown(ctx, pos[0], api.TakedownRequest{Status: *status, PlatformRef: *ref, Note: *note}, keyOption(*key)...)
	})
}
