package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

func runTasks(ctx context.Context, con console, args []string) error {
	c := con.command("tasks", "[flags]",
		"List monitoring tasks, newest first: by default those you can claim now (of your\n"+
			"organisations and the national pool, in your region, with a free slot).",
		"jarimu tasks --scope mine")
	scope := c.fs.String("scope", client.ScopeAvailable, "which tasks: available (you can claim them), mine (you claimed them), org (every task of --org) or national (the national pool)")
	orgID := c.fs.String("org", "", "the organisation `ID` of --scope org (given alone, it implies --scope org)")
	regionCode := c.fs.String("region", "", "only tasks of the region `CODE` or below it")
	status := c.fs.String("status", "", "only tasks that are open or closed")
	limit := c.limitFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	if *orgID != "" && !c.isSet("scope") {
		*scope = client.ScopeOrg
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	f := client.TaskFilter{Scope: *scope, OrgID: *orgID, Region: *regionCode, Status: *status,
		ListOptions: client.ListOptions{Limit: pageSize(*limit)}}
	tasks, err := collect(cl.AllTasks(ctx, f), *limit)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, tasks)
	}
	if len(tasks) == 0 {
		_, err := fmt.Fprintf(c.stdout, "no tasks (scope %s)\n", *scope)
		return err
	}
	t := newTable(c.stdout, "TITLE", "KIND", "REGION", "SLOTS", "DUE", "STATUS", "MY CLAIM", "ID")
	for _, x := range tasks {
		mine := "-"
		if x.MyClaim != nil {
			mine = x.MyClaim.Status + " " + x.MyClaim.ID
		}
		t.row(short(x.Title, 40), taskKind(x), regionLabel(x.RegionCode), fmt.Sprintf("%d/%d", x.SlotsTaken, x.Slots),
			whenPtr(x.DueAt), x.Status, mine, x.ID)
	}
	return t.flush()
}

// taskKind is a task's kind, with its platform when it has one.
func taskKind(t api.Task) string {
	if t.Platform != nil {
		return t.Kind + " (" + *t.Platform + ")"
	}
	return t.Kind
}

func runClaim(ctx context.Context, con console, args []string) error {
	c := con.command("claim", "TASK_ID [flags]",
		"Take a slot of a task. The claim is yours until its lease expires: complete it before\n"+
			"(jarimu complete). A refusal says why, such as task-full or already-claimed.",
		"jarimu claim 0190c0de-5a1e-7b2c-9d3e-4f5061728394")
	key := c.keyFlag()
	pos, cl, err := c.signedIn(args, "TASK_ID")
	if err != nil {
		return err
	}
	claim, err := cl.Claim(ctx, pos[0], keyOption(*key)...)
	if err != nil {
		return err
	}
	if err := printClaim(c, claim); err != nil || *c.json {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "\nwhen done: jarimu complete %s --outcome done\n", claim.ID)
	return err
}

// printClaim writes a claim as key: value lines, or its JSON.
func printClaim(c *command, cl api.Claim) error {
	if *c.json {
		return printJSON(c.stdout, cl)
	}
	lease, ended := "", ""
	if cl.Status == api.ClaimActive {
		lease = when(cl.LeaseExpiresAt) + " (in " + minutes(time.Until(cl.LeaseExpiresAt)) + ")"
	}
	if cl.EndedAt != nil {
		ended = when(*cl.EndedAt)
	}
	return printFields(c.stdout, "claim", cl.ID, "task", cl.TaskID, "status", cl.Status, "lease expires", lease,
		"assigned by", deref(cl.AssignedBy, ""), "outcome", deref(cl.Outcome, ""), "note", cl.Note, "ended", ended)
}

func runComplete(ctx context.Context, con console, args []string) error {
	c := con.command("complete", "CLAIM_ID --outcome OUTCOME [flags]",
		"Finish a claim you hold, saying how it ended. The slot stays taken: the work was done.",
		`jarimu complete 0190c0de-6b2f-7c3d-8e4f-506172839405 --outcome content_gone --note "video sudah dihapus"`)
	outcome := c.fs.String("outcome", "", "how it ended: "+strings.Join(api.Outcomes, ", "))
	note := c.fs.String("note", "", "a note for your coordinator, up to 2,000 characters")
	pos, err := c.parse(args, "CLAIM_ID")
	if err != nil {
		return err
	}
	if err := c.required("outcome", *outcome); err != nil {
		return err
	}
	if !slices.Contains(api.Outcomes, *outcome) {
		return usageError{fmt.Errorf("--outcome %q: want %s (see jarimu %s --help)", *outcome, strings.Join(api.Outcomes, ", "), c.name)}
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	claim, err := cl.Complete(ctx, pos[0], api.CompleteRequest{Outcome: *outcome, Note: *note})
	if err != nil {
		return err
	}
	return printClaim(c, claim)
}
