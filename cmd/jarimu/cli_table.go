package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// runFunc runs a command with the arguments that follow its name.
type runFunc func(ctx context.Context, con console, args []string) error

// node is a command of the binary: a name, its arguments and a line of
// help for the usage, and a run function, sub-commands, or both (then the
// run function is for no sub-command, as jarimu alerts lists and jarimu
// alerts watch watches). The table of nodes is the one thing that
// dispatches, lists the usage and generates shell completion.
type node struct {
	name    string
	args    string
	summary string
	run     runFunc
	subs    []*node
	hidden  bool // internal: runs, but no usage, help or completion lists it
}

// Sections of the usage, in the order they are listed.
const (
	sectionPeople = "For volunteers, coordinators, officers and admins, at a server (each command takes --help):"
	sectionServer = "To run a server (these read the settings listed below):"
	sectionShell  = "For the shell:"
)

// section is a part of the usage: its heading and its commands.
type section struct {
	heading string
	nodes   []*node
}

// commands is the table of every command, by section.
func commands() []section {
	return []section{
		{sectionPeople, explained(peopleCommands())},
		{sectionServer, serverCommands()},
		{sectionShell, []*node{
			{name: "completion", summary: "print a completion script: eval \"$(jarimu completion bash)\"", subs: []*node{
				{name: "bash", summary: "the script for bash", run: runCompletionBash},
				{name: "zsh", summary: "the script for zsh", run: runCompletionZsh},
			}},
		}},
	}
}

// peopleCommands are the commands that talk to a server through the
// client package, by role: anyone, volunteers, coordinators, officers,
// admins.
func peopleCommands() []*node {
	return []*node{
		{name: "login", args: "--server URL --email E", summary: "sign in; the password is read from standard input", run: runLogin},
		{name: "logout", summary: "sign out and forget the session", run: runLogout},
		{name: "me", summary: "who you are and your memberships", run: runMe, subs: []*node{
			{name: "edit", args: "--name N ...", summary: "change your name, region or language", run: runMeEdit},
		}},
		{name: "password", summary: "change your password (read from standard input)", run: runPassword},
		{name: "consent", args: "[--accept VERSION]", summary: "read the privacy notice; consent to it", run: runConsent},
		{name: "orgs", summary: "the public registry of accredited organisations", run: runOrgs},
		{name: "join", args: "ORG_ID [--code CODE]", summary: "join an organisation with its invite code, or ask to", run: runJoin},
		{name: "tasks", summary: "tasks you can claim (--scope mine: yours; --org ID: an org's)", run: runTasks},
		{name: "claim", args: "TASK_ID", summary: "take a slot of a task", run: runClaim},
		{name: "complete", args: "CLAIM_ID --outcome O", summary: "finish a claim", run: runComplete},
		{name: "report", args: "--url U ...", summary: "report a finding, with --evidence files", run: runReport, subs: []*node{
			{name: "show", args: "REPORT_ID", summary: "a report with its evidence and takedown history", run: runReportShow},
			{name: "review", args: "REPORT_ID --decision endorse|reject", summary: "endorse or reject a report of your org (coordinators)", run: runReportReview},
			{name: "verify", args: "REPORT_ID", summary: "mark a report verified (officers)", run: runReportVerify},
			{name: "reject", args: "REPORT_ID --note N", summary: "reject a report, telling the reporter why (officers)", run: runReportReject},
			{name: "duplicate", args: "REPORT_ID --of REPORT_ID", summary: "mark a report a duplicate of another (officers)", run: runReportDuplicate},
			{name: "takedown", args: "REPORT_ID --status S", summary: "record a takedown step: requested, taken_down, refused (officers)", run: runReportTakedown},
		}},
		{name: "reports", summary: "reports you may see: yours, your org's, your region's (--status endorsed: to verify)", run: runReports},
		{name: "alerts", summary: "the alerts Bawaslu published", run: runAlerts, subs: []*node{
			{name: "watch", summary: "print alerts as they are published, until Ctrl-C", run: runAlertsWatch},
		}},
		{name: "alert", summary: "alerts (officers)", subs: []*node{
			{name: "send", args: "--title T --body B --severity S", summary: "broadcast an alert", run: runAlertSend},
			{name: "show", args: "ALERT_ID", summary: "one alert", run: runAlertShow},
			{name: "retract", args: "ALERT_ID --reason R", summary: "retract an alert, saying why", run: runAlertRetract},
			{name: "reach", args: "ALERT_ID", summary: "how far an alert got: meant, delivered, pushed, displayed", run: runAlertReach},
		}},
		{name: "push", summary: "Web Push notifications", subs: []*node{
			{name: "test", summary: "send a test notification to your devices", run: runPushTest},
			{name: "devices", summary: "the devices that receive your notifications", run: runPushDevices},
		}},
		{name: "members", args: "[--status S]", summary: "the members of an organisation (coordinators)", run: runMembers},
		{name: "member", summary: "decide on members (coordinators; --org ORG_ID, unless you coordinate one organisation only)", subs: []*node{
			{name: "approve", args: "USER_ID", summary: "approve a pending membership", run: runMemberApprove},
			{name: "reject", args: "USER_ID --reason R", summary: "reject a pending membership, telling the volunteer why", run: runMemberReject},
			{name: "role", args: "USER_ID --role R", summary: "make an active member a coordinator or a member", run: runMemberRole},
			{name: "remove", args: "USER_ID", summary: "remove a member", run: runMemberRemove},
		}},
		{name: "invite", summary: "invite codes (coordinators; --org ORG_ID, unless you coordinate one organisation only)", subs: []*node{
			{name: "create", args: "[--uses N] [--expires D]", summary: "make an invite code, shown once", run: runInviteCreate},
		}},
		{name: "task", summary: "manage tasks (coordinators and officers)", subs: []*node{
			{name: "create", args: "--title T --kind K ...", summary: "create a task for your org or the national pool", run: runTaskCreate},
			{name: "show", args: "TASK_ID", summary: "one task", run: runTaskShow},
			{name: "edit", args: "TASK_ID [--title T] ...", summary: "change a task's title, description, due time, slots or lease", run: runTaskEdit},
			{name: "assign", args: "TASK_ID --user USER_ID", summary: "give a slot of a task to a member", run: runTaskAssign},
			{name: "close", args: "TASK_ID", summary: "close a task: it takes no more claims", run: runTaskClose},
		}},
		{name: "org", summary: "the registry of organisations (officers)", subs: []*node{
			{name: "register", args: "--name N --number A --until DATE", summary: "register an accredited organisation", run: runOrgRegister},
			{name: "show", args: "ORG_ID", summary: "one organisation with its accreditation history", run: runOrgShow},
			{name: "suspend", args: "ORG_ID --reason R", summary: "suspend an accreditation", run: runOrgSuspend},
			{name: "revoke", args: "ORG_ID --reason R", summary: "revoke an accreditation", run: runOrgRevoke},
			{name: "renew", args: "ORG_ID --until DATE --reason R", summary: "renew an accreditation", run: runOrgRenew},
		}},
		{name: "user", summary: "staff accounts (admins)", subs: []*node{
			{name: "create", args: "--email E --name N --role R", summary: "make an officer or admin account", run: runUserCreate},
			{name: "show", args: "USER_ID", summary: "one account", run: runUserShow},
			{name: "suspend", args: "USER_ID", summary: "suspend an account: its sessions stop at once", run: runUserSuspend},
			{name: "reactivate", args: "USER_ID", summary: "reactivate a suspended account", run: runUserReactivate},
		}},
	}
}

// explained makes the commands of nodes spell out their errors for people
// (see explain).
func explained(nodes []*node) []*node {
	walk(nodes, nil, func(_ []string, n *node) {
		if run := n.run; run != nil {
			n.run = func(ctx context.Context, con console, args []string) error { return explain(run(ctx, con, args)) }
		}
	})
	return nodes
}

// serverCommands are the commands that run or prepare a server.
func serverCommands() []*node {
	admin := func(sub string) runFunc {
		return func(ctx context.Context, con console, args []string) error {
			return runAdmin(ctx, append([]string{sub}, args...), con.getenv, con.stdin, con.stdout, con.stderr)
		}
	}
	migrate := func(sub string) runFunc { // its flags come before the sub-command
		return func(ctx context.Context, con console, args []string) error {
			return runMigrate(ctx, append(slices.Clone(args), sub), con.getenv, con.stdout, con.stderr)
		}
	}
	keys := func(sub string) runFunc {
		return func(_ context.Context, con console, args []string) error {
			return runKeys(append([]string{sub}, args...), con.getenv, con.stdout, con.stderr)
		}
	}
	return []*node{
		{name: "serve", args: "[flags]", summary: "run the API and the real-time feed", run: serverRun(runServe)},
		{name: "migrate", summary: "the database schema", subs: []*node{
			{name: "up", summary: "apply the migrations not applied yet", run: migrate("up")},
			{name: "down", summary: "roll back the last group", run: migrate("down")},
			{name: "status", summary: "list the migrations", run: migrate("status")},
		}},
		{name: "admin", summary: "staff accounts, on the server's own database", subs: []*node{
			{name: "create-user", args: "--email E --name N --role R",
				summary: "make a staff account; password from standard input, or generated and printed once", run: admin("create-user")},
			{name: "reset-password", args: "--email E", summary: "print a password reset link, once (servers without JARIMU_SMTP_URL)", run: admin("reset-password")},
		}},
		{name: "keys", summary: "the signing key file (JARIMU_JWT_KEYS_FILE)", subs: []*node{
			{name: "new", args: "--file FILE", summary: "make a key file, and vapid-keys.json beside it (Web Push)", run: keys("new")},
			{name: "rotate", args: "--file FILE", summary: "add a key that signs after --not-before", run: keys("rotate")},
			{name: "retire", args: "--file FILE --kid KID", summary: "remove a key that no longer signs", run: keys("retire")},
			{name: "list", args: "--file FILE", summary: "show the keys and which one signs", run: keys("list")},
		}},
		{name: "evidence", summary: "evidence files", subs: []*node{
			{name: "migrate", args: "[flags]", summary: "copy the data dir's evidence into the bucket of JARIMU_EVIDENCE_URL", run: serverRun(runEvidence, "migrate")},
		}},
		{name: "bench", summary: "load a running server and measure it", subs: []*node{
			{name: "feed", summary: "alert fan-out to --clients feed connections", run: serverRun(runBench, "feed")},
			{name: "storm", summary: "--clients connecting at once", run: serverRun(runBench, "storm")},
			{name: "latency", summary: "alert latency, one client", run: serverRun(runBench, "latency")},
			{name: "claims", summary: "volunteers racing for task slots", run: serverRun(runBench, "claims")},
			{name: "mixed", summary: "feed, claims, reports and alerts together", run: serverRun(runBench, "mixed")},
			{name: "feed-worker", summary: "internal: the clients of bench feed --procs", run: runBenchWorker, hidden: true},
		}},
	}
}

// serverRun adapts a server command to the table, with prefix before its
// arguments (the sub-command's name, for those that read it).
func serverRun(f func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error, prefix ...string) runFunc {
	return func(ctx context.Context, con console, args []string) error {
		return f(ctx, append(slices.Clone(prefix), args...), con.getenv, con.stdout, con.stderr)
	}
}

// usageError is a command given wrongly: unknown, or with missing or bad
// flags or arguments. main exits 2 for it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return slices.Contains([]string{"-h", "-help", "--help", "help"}, arg)
}

// dispatch runs the command args names among nodes, path being the names
// before it. Help is no error.
func dispatch(ctx context.Context, con console, nodes []*node, path []string, args []string) error {
	i := slices.IndexFunc(nodes, func(n *node) bool { return len(args) > 0 && n.name == args[0] })
	if i < 0 {
		return usageError{fmt.Errorf("unknown command %q (try jarimu %s)", strings.Join(append(path, args[0]), " "), strings.Join(append(path, "--help"), " "))}
	}
	n, rest, path := nodes[i], args[1:], append(slices.Clone(path), args[0])
	if len(rest) > 0 && slices.ContainsFunc(n.subs, func(s *node) bool { return s.name == rest[0] }) {
		return dispatch(ctx, con, n.subs, path, rest)
	}
	if n.run == nil {
		if len(rest) > 0 && isHelp(rest[0]) {
			return listGroup(con.stdout, n, path)
		}
		listGroup(con.stderr, n, path)
		if len(rest) == 0 {
			return usageError{fmt.Errorf("%s: name a sub-command", strings.Join(path, " "))}
		}
		return usageError{fmt.Errorf("unknown command %q (try jarimu %s --help)", strings.Join(append(path, rest[0]), " "), strings.Join(path, " "))}
	}
	err := n.run(ctx, con, rest)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// listGroup writes the usage of a command with sub-commands.
func listGroup(w io.Writer, n *node, path []string) error {
	fmt.Fprintf(w, "Usage: jarimu %s COMMAND [flags] (each command takes --help)\n\n%s\n\n", strings.Join(path, " "), n.summary)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	walk(n.subs, path, func(p []string, s *node) {
		if s.run != nil {
			fmt.Fprintf(tw, "  jarimu %s\t%s\n", strings.TrimSpace(strings.Join(p, " ")+" "+s.args), s.summary)
		}
	})
	return tw.Flush()
}

// walk calls f with each node under nodes, depth first, and its path.
func walk(nodes []*node, path []string, f func(path []string, n *node)) {
	for _, n := range nodes {
		if n.hidden {
			continue
		}
		p := append(slices.Clone(path), n.name)
		f(p, n)
		walk(n.subs, p, f)
	}
}

// printUsage writes the usage of the binary: every command, by section,
// then the server's settings.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "jarimu: the backend of Jarimu Awasi Pemilu, and its command line\n\nUsage: jarimu COMMAND [flags]\n")
	for _, s := range commands() {
		fmt.Fprintf(w, "\n%s\n", s.heading)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		walk(s.nodes, nil, func(p []string, n *node) {
			if n.run != nil {
				fmt.Fprintf(tw, "  jarimu %s\t%s\n", strings.TrimSpace(strings.Join(p, " ")+" "+n.args), n.summary)
			}
		})
		tw.Flush()
	}
	fmt.Fprint(w, "\nThe server commands (serve, migrate, admin, bench, evidence) read these settings from flags or\nenvironment variables:\n")
	printSettings(w)
}
