package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

// Events of the feed that alerts watch prints.
const (
	eventAlertPublished = "alert.published"
	eventAlertRetracted = "alert.retracted"
)

func runAlerts(ctx context.Context, con console, args []string) error {
	c := con.command("alerts", "[watch] [flags]",
		"List the alerts Bawaslu published, newest first, retracted ones flagged. No login needed.\n"+
			"jarimu alerts watch prints them live instead (see jarimu alerts watch --help).",
		"jarimu alerts --region 31 --since 2029-02-14T00:00:00+07:00")
	regionCode := c.fs.String("region", "", "only alerts broadcast to the region `CODE`")
	since := c.fs.String("since", "", "only alerts published from this RFC 3339 time on")
	limit := c.limitFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	f := client.AlertFilter{Region: *regionCode, ListOptions: client.ListOptions{Limit: pageSize(*limit)}}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return usageError{fmt.Errorf("--since %q: want an RFC 3339 time, such as 2029-02-14T00:00:00+07:00", *since)}
		}
		f.Since = t
	}
	cl, err := c.publicClient()
	if err != nil {
		return err
	}
	alerts, err := collect(cl.AllAlerts(ctx, f), *limit)
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, alerts)
	}
	if len(alerts) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no alerts")
		return err
	}
	t := newTable(c.stdout, "PUBLISHED", "SEVERITY", "REGION", "TITLE", "ID")
	for _, a := range alerts {
		title := short(a.Title, 50)
		if a.Retracted {
			title = "[retracted] " + title
		}
		t.row(when(a.PublishedAt), a.Severity, regionLabel(a.RegionCode), title, a.ID)
	}
	return t.flush()
}

func runAlertsWatch(ctx context.Context, con console, args []string) error {
	c := con.command("alerts watch", "[flags]",
		"Print alerts as Bawaslu publishes or retracts them for your region, one line each, until\n"+
			"Ctrl-C. Started again, it first prints those published while it was stopped. With --json,\n"+
			"each line is the feed's event as JSON.",
		"jarimu alerts watch")
	if _, err := c.parse(args); err != nil {
		return err
	}
	cl, v, err := c.session()
	if err != nil {
		return err
	}
	cr, err := v.load()
	if err != nil {
		return err
	}
	stderr := &lockedWriter{w: c.stderr}
	feed := cl.Feed(client.FeedOptions{Resume: loadFeed(v, cr.URL), AutoAck: true, OnState: func(s client.FeedState) {
		switch s {
		case client.FeedConnected:
			fmt.Fprintf(stderr, "connected to %s; watching alerts (Ctrl-C to stop)\n", cr.URL)
		case client.FeedReconnecting:
			fmt.Fprintln(stderr, "connection lost; reconnecting")
		}
	}})
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- feed.Run(ctx) }()
	var printErr error
	for ev := range feed.Events() {
		if printErr != nil {
			continue // drain until Run returns
		}
		if printErr = printAlertEvent(c, stderr, ev); printErr != nil {
			stop() // standard output is gone (a closed pipe, say): end the watch
			continue
		}
		if ev.Type == client.FeedTypeEvent && isAlertEvent(ev.Event) {
			saveFeed(v, cr.URL, feed.Positions(), stderr)
		}
	}
	err = <-done
	if printErr == nil { // else the alert not printed is printed next time
		saveFeed(v, cr.URL, feed.Positions(), stderr)
	}
	return errors.Join(err, printErr)
}

func isAlertEvent(name string) bool {
	return name == eventAlertPublished || name == eventAlertRetracted
}

// printAlertEvent prints an alert event of the feed as one line; a reset of
// a region's stream says alerts may have been missed.
func printAlertEvent(c *command, stderr io.Writer, ev client.FeedEvent) error {
	switch {
	case ev.Type == client.FeedTypeReset && strings.HasPrefix(ev.Stream, "region:"):
		_, err := fmt.Fprintf(stderr, "alerts of %s may have been missed while away; list them with: jarimu alerts\n", clean(ev.Stream))
		return err
	case ev.Type != client.FeedTypeEvent || !isAlertEvent(ev.Event):
		return nil
	case *c.json:
		b, err := json.Marshal(ev.EventFrame)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "%s\n", b)
		return err
	}
	var a api.Alert
	if err := json.Unmarshal(ev.Data, &a); err != nil {
		return fmt.Errorf("read the %s event %s: %w", ev.Event, ev.ID, err)
	}
	line := fmt.Sprintf("%s  %-15s  %-8s  %s  %s  %s", when(ev.At), ev.Event, a.Severity, regionLabel(a.RegionCode), a.Title, a.ID)
	if ev.Event == eventAlertRetracted && a.RetractionReason != "" {
		line += "  reason: " + a.RetractionReason
	}
	_, err := fmt.Fprintln(c.stdout, clean(line))
	return err
}

// lockedWriter serializes writes of several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// feedFile holds where alerts watch stopped, per stream, to resume there.
const feedFile = "feed.json"

// feedPositions is the content of feedFile: the positions are those of the
// server at URL.
type feedPositions struct {
	URL       string           `json:"url"`
	Positions map[string]int64 `json:"positions"`
}

// loadFeed returns the positions saved for the server at serverURL; none
// when there are none or they are of another server.
func loadFeed(v *vault, serverURL string) map[string]int64 {
	var fp feedPositions
	if ok, err := readJSONFile(filepath.Join(v.dir, feedFile), &fp); !ok || err != nil || fp.URL != serverURL {
		return nil
	}
	return fp.Positions
}

// saveFeed keeps the positions, under the config dir's lock as the session
// is kept, and only while the credentials hold a session with serverURL
// (a logout or a login elsewhere forgot them); failing that, it warns, as
// alerts would be printed again next time. The file is replaced whole:
// a reader sees the old positions or the new ones.
func saveFeed(v *vault, serverURL string, positions map[string]int64, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	err := v.locked(ctx, func() error {
		cr, err := v.load()
		if err != nil || cr.URL != serverURL || !cr.loggedIn() {
			return err
		}
		return writeJSONFile(filepath.Join(v.dir, feedFile), feedPositions{serverURL, positions})
	})
	if err != nil {
		fmt.Fprintf(stderr, "jarimu: warning: save where the watch stopped: %v\n", err)
	}
}

// forgetFeed removes the saved positions, which belong to the session that
// ends, under the config dir's lock.
func forgetFeed(v *vault) {
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	v.locked(ctx, func() error {
		return os.Remove(filepath.Join(v.dir, feedFile))
	})
}

func runAlertSend(ctx context.Context, con console, args []string) error {
	c := con.command("alert send", "--title T --body B --severity S [flags]",
		"Broadcast an alert to everyone in a region (default national), on their feeds at once;\n"+
			"Bawaslu officers, for their region or below. With --body -, the body is read from\n"+
			"standard input.",
		`jarimu alert send --title "Hoaks jadwal pencoblosan" --body "Jadwal yang beredar palsu." --severity critical --region 31 --report 0190c0de-7c3e-7d4f-9a50-617283940516`)
	title := c.fs.String("title", "", "the headline, 3 to 200 characters")
	body := c.fs.String("body", "", "the text of the alert, up to 5,000 characters; - reads it from standard input")
	severity := c.fs.String("severity", "", "how grave: "+strings.Join(api.Severities, ", "))
	regionCode := c.fs.String("region", "", "the province or regency `CODE` to broadcast to (default: national)")
	category := c.fs.String("category", "", "the violation: "+strings.Join(api.Categories, ", "))
	var reports, links stringList
	c.fs.Var(&reports, "report", "the `ID` of a verified report it is about; give it once for each")
	c.fs.Var(&links, "link", "a related `URL`; give it once for each")
	key := c.keyFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	if *body == "-" {
		b, err := readBody(con.stdin)
		if err != nil {
			return err
		}
		*body = b
	}
	if err := c.required("title", *title, "body", *body, "severity", *severity); err != nil {
		return err
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	req := api.CreateAlertRequest{Title: *title, Body: *body, Severity: *severity, RegionCode: optional(*regionCode),
		Category: optional(*category), ReportIDs: reports, Links: links}
	a, err := cl.CreateAlert(ctx, req, keyOption(*key)...)
	if err != nil {
		return err
	}
	return printAlert(c, a)
}

// readBody reads a text from standard input, at most 64 KiB.
func readBody(stdin io.Reader) (string, error) {
	if stdin == nil {
		return "", errors.New("--body -: nothing on standard input")
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
	if err != nil {
		return "", fmt.Errorf("--body -: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func runAlertShow(ctx context.Context, con console, args []string) error {
	c := con.command("alert show", "ALERT_ID [flags]", "Show an alert. No login needed.",
		"jarimu alert show 0190c0de-8d4f-7e50-8b61-728394051627")
	pos, err := c.parse(args, "ALERT_ID")
	if err != nil {
		return err
	}
	cl, err := c.publicClient()
	if err != nil {
		return err
	}
	a, err := cl.Alert(ctx, pos[0])
	if err != nil {
		return err
	}
	return printAlert(c, a)
}

// printAlert writes an alert as key: value lines, or its JSON.
func printAlert(c *command, a api.Alert) error {
	if *c.json {
		return printJSON(c.stdout, a)
	}
	retracted := ""
	if a.Retracted {
		retracted = "yes: " + a.RetractionReason
	}
	return printFields(c.stdout, "alert", a.ID, "published", when(a.PublishedAt), "severity", a.Severity,
		"region", regionLabel(a.RegionCode), "category", deref(a.Category, ""), "reports", strings.Join(a.ReportIDs, ", "),
		"links", strings.Join(a.Links, " "), "retracted", retracted, "title", a.Title, "body", a.Body)
}

func runAlertRetract(ctx context.Context, con console, args []string) error {
	c := con.command("alert retract", "ALERT_ID --reason R [flags]",
		"Retract an alert (officers covering its region): everyone who got it is told, with the\n"+
			"reason, on the feed and by push.",
		`jarimu alert retract 0190c0de-8d4f-7e50-8b61-728394051627 --reason "salah wilayah"`)
	reason := c.fs.String("reason", "", "why, 3 to 1,000 characters")
	key := c.keyFlag()
	pos, err := c.parse(args, "ALERT_ID")
	if err != nil {
		return err
	}
	if err := c.required("reason", *reason); err != nil {
		return err
	}
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	a, err := cl.Retract(ctx, pos[0], *reason, keyOption(*key)...)
	if err != nil {
		return err
	}
	return printAlert(c, a)
}

func runAlertReach(ctx context.Context, con console, args []string) error {
	c := con.command("alert reach", "ALERT_ID [flags]",
		"Show how far an alert got (officers): the volunteers it was meant for, how many got it on\n"+
			"the feed, by how long, and how many devices push reached and showed it.",
		"jarimu alert reach 0190c0de-8d4f-7e50-8b61-728394051627")
	pos, cl, err := c.signedIn(args, "ALERT_ID")
	if err != nil {
		return err
	}
	r, err := cl.Reach(ctx, pos[0])
	if err != nil {
		return err
	}
	if *c.json {
		return printJSON(c.stdout, r)
	}
	ms := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.0f ms", *p)
	}
	return printFields(c.stdout, "alert", r.AlertID, "meant for", strconv.Itoa(r.Meant), "delivered", strconv.Itoa(r.Delivered),
		"pushed", strconv.Itoa(r.Pushed), "displayed", strconv.Itoa(r.Displayed), "delay p50", ms(r.P50Ms), "delay p90", ms(r.P90Ms))
}
