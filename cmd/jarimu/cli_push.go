package main

import (
	"context"
	"fmt"
	"strings"
)

func runPushTest(ctx context.Context, con console, args []string) error {
	c := con.command("push test", "[flags]",
		"Send a test notification to every device on which your account turned notifications on\n"+
			"(in the web console's Notifikasi screen). It arrives even when the app is closed.",
		"jarimu push test")
	_, cl, err := c.signedIn(args)
	if err != nil {
		return err
	}
	res, err := cl.TestPush(ctx)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, res)
	}
	if res.Devices == 0 {
		fmt.Fprintln(c.stdout, "no device of yours receives notifications: turn them on in the web console (Notifikasi)")
		return nil
	}
	fmt.Fprintf(c.stdout, "test notification queued for %d device(s)\n", res.Devices)
	return nil
}

func runPushDevices(ctx context.Context, con console, args []string) error {
	c := con.command("push devices", "[flags]", "List the devices on which your account receives notifications.", "jarimu push devices")
	_, cl, err := c.signedIn(args)
	if err != nil {
		return err
	}
	subs, err := collect(cl.AllSubscriptions(ctx), 0)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, subs)
	}
	t := newTable(c.stdout, "ID", "SINCE", "EVENTS", "PUSH SERVICE")
	for _, s := range subs {
		host, _, _ := strings.Cut(strings.TrimPrefix(s.Endpoint, "https://"), "/")
		t.row(s.ID, when(s.CreatedAt), strings.Join(s.Events, ","), host)
	}
	return t.flush()
}
