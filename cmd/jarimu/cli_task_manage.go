package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
)

func runTaskCreate(ctx context.Context, con console, args []string) error {
	c := con.command("task create", "--title T --kind K [flags]",
		"Create a monitoring task: for an organisation you coordinate (--org), or, as an officer,\n"+
			"for the national pool (no --org). Volunteers then claim its slots.",
		`jarimu task create --org 0190c0de-1a2b-7c3d-8e4f-506172839405 --title "Pantau hoaks TPS Jakarta" --kind social_media --platform x --target "#pemilu" --region 31 --slots 5 --due 3d`)
	org := c.fs.String("org", "", "the organisation `ID` the task is for (default: the national pool, officers only)")
	title := c.fs.String("title", "", "the title, 3 to 200 characters")
	description := c.fs.String("description", "", "what to do, up to 5,000 characters")
	kind := c.fs.String("kind", "", "what kind of work: "+strings.Join(api.Kinds, ", "))
	platform := c.fs.String("platform", "", "the platform to watch: "+strings.Join(api.Platforms, ", "))
	target := c.fs.String("target", "", "what to watch: a URL, a #hashtag or an @account")
	regionCode := c.fs.String("region", "", "the region `CODE` it covers (default: national)")
	starts := c.fs.String("starts", "", "when claims open (`WHEN`: a duration from now such as 2h, a date or an RFC 3339 time; default now)")
	due := c.fs.String("due", "", "when it is due (`WHEN`, as --starts)")
	slots := c.fs.Int("slots", 0, "how many volunteers may claim it (default 1)")
	lease := c.fs.Int("lease", 0, "the `MINUTES` a claim lasts before it must be renewed (default 120)")
	key := c.keyFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	if err := c.required("title", *title, "kind", *kind); err != nil {
		return err
	}
	req, _, err := keyed(ctx, c, keyUse{key: *key}, func(at time.Time) (api.CreateTaskRequest, error) {
		req := api.CreateTaskRequest{OrgID: optional(*org), Title: *title, Description: *description, Kind: *kind,
			Platform: optional(*platform), Target: optional(*target), RegionCode: optional(*regionCode),
			Slots: optionalInt(c, "slots", *slots), LeaseMinutes: optionalInt(c, "lease", *lease)}
		var err error
		if req.StartsAt, err = optionalWhen("starts", *starts, at); err != nil {
			return req, err
		}
		req.DueAt, err = optionalWhen("due", *due, at)
		return req, err
	})
	if err != nil {
		return err
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	t, err := cl.CreateTask(ctx, req, keyOption(*key)...)
	if err != nil {
		return err
	}
	return printTask(c, t)
}

// optionalWhen is parseWhen for an optional flag: nil when it is empty.
func optionalWhen(name, v string, now time.Time) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := parseWhen(name, v, now)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// optionalInt is a pointer to the int flag name's value, or nil when the
// flag was not given.
func optionalInt(c *command, name string, v int) *int {
	if !c.isSet(name) {
		return nil
	}
	return &v
}

func runTaskShow(ctx context.Context, con console, args []string) error {
	c := con.command("task show", "TASK_ID [flags]", "Show a task, with your claim on it if you have one.",
		"jarimu task show 0190c0de-5a1e-7b2c-9d3e-4f5061728394")
	pos, cl, err := c.signedIn(args, "TASK_ID")
	if err != nil {
		return err
	}
	t, err := cl.Task(ctx, pos[0])
	if err != nil {
		return err
	}
	return printTask(c, t)
}

// printTask writes a task as key: value lines, or its JSON.
func printTask(c *command, t api.Task) error {
	if *c.json {
		return printJSON(c.stdout, t)
	}
	mine := ""
	if t.MyClaim != nil {
		mine = t.MyClaim.Status + " " + t.MyClaim.ID
	}
	return printFields(c.stdout, "task", t.ID, "title", t.Title, "kind", taskKind(t), "target", deref(t.Target, ""),
		"organisation", deref(t.OrgID, "national pool"), "region", regionLabel(t.RegionCode), "status", t.Status,
		"slots", fmt.Sprintf("%d/%d taken", t.SlotsTaken, t.Slots), "lease", strconv.Itoa(t.LeaseMinutes)+" minutes",
		"starts", whenPtr(t.StartsAt), "due", whenPtr(t.DueAt), "my claim", mine, "description", t.Description)
}

func runTaskEdit(ctx context.Context, con console, args []string) error {
	c := con.command("task edit", "TASK_ID [--title T] [--description D] [--due WHEN] [--slots N] [--lease MINUTES] [flags]",
		"Change a task (its managers: coordinators of its org, officers of its region). Only the\n"+
			"flags given change; slots cannot drop below those taken.",
		"jarimu task edit 0190c0de-5a1e-7b2c-9d3e-4f5061728394 --slots 10 --due 2029-02-14")
	title := c.fs.String("title", "", "the new title")
	description := c.fs.String("description", "", "the new description")
	due := c.fs.String("due", "", "the new due time (`WHEN`: a duration from now, a date or an RFC 3339 time)")
	slots := c.fs.Int("slots", 0, "the new number of slots")
	lease := c.fs.Int("lease", 0, "the new lease, in `MINUTES`")
	pos, err := c.parse(args, "TASK_ID")
	if err != nil {
		return err
	}
	var req api.UpdateTaskRequest
	if c.isSet("title") {
		req.Title = title
	}
	if c.isSet("description") {
		req.Description = description
	}
	if req.DueAt, err = optionalWhen("due", *due, time.Now()); err != nil {
		return err
	}
	req.Slots, req.LeaseMinutes = optionalInt(c, "slots", *slots), optionalInt(c, "lease", *lease)
	if req == (api.UpdateTaskRequest{}) {
		return usageError{fmt.Errorf("nothing to change: give --title, --description, --due, --slots or --lease (see jarimu %s --help)", c.name)}
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	t, err := cl.UpdateTask(ctx, pos[0], req)
	if err != nil {
		return err
	}
	return printTask(c, t)
}

func runTaskAssign(ctx context.Context, con console, args []string) error {
	c := con.command("task assign", "TASK_ID --user USER_ID [flags]",
		"Give a slot of a task to a volunteer, who is told on the feed (the task's managers).\n"+
			"jarimu members lists your members' user ids.",
		"jarimu task assign 0190c0de-5a1e-7b2c-9d3e-4f5061728394 --user 0190c0de-2b3c-7d4e-8f50-617283940516")
	user := c.fs.String("user", "", "the `USER_ID` of the volunteer")
	key := c.keyFlag()
	pos, err := c.parse(args, "TASK_ID")
	if err != nil {
		return err
	}
	if err := c.required("user", *user); err != nil {
		return err
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	claim, err := cl.Assign(ctx, pos[0], *user, keyOption(*key)...)
	if err != nil {
		return err
	}
	return printClaim(c, claim)
}

func runTaskClose(ctx context.Context, con console, args []string) error {
	c := con.command("task close", "TASK_ID [flags]",
		"Close a task: it takes no more claims; claims held stay until they end.",
		"jarimu task close 0190c0de-5a1e-7b2c-9d3e-4f5061728394")
	key := c.keyFlag()
	pos, cl, err := c.signedIn(args, "TASK_ID")
	if err != nil {
		return err
	}
	t, err := cl.CloseTask(ctx, pos[0], keyOption(*key)...)
	if err != nil {
		return err
	}
	return printTask(c, t)
}
