package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

// A command run again with the same --key is done once and prints the
// first answer again, also when its request holds times counted from now
// (--expires 7d, --due 3d, --until 30d, report's default --observed) or a
// password it generates: the rerun sends the very same request.
func TestCLIKeyedRerunIsDoneOnce(t *testing.T) {
	w := newWorld(t)
	w.volunteer("dewi@example.org")
	admin, officer, dewi := w.person("admin@bawaslu.go.id"), w.person("jkt@bawaslu.go.id"), w.person("dewi@example.org")
	var org api.Org
	admin.mustJSON(&org, "org", "register", "--name", "Perludem Jakarta", "--number", "B-12/2029", "--until", "2d",
		"--region", "31", "--coordinator", "dewi@example.org")

	type keyedRun struct {
		who   *user
		stdin string
		args  []string
		out   string
	}
	runs := []*keyedRun{
		{who: dewi, args: []string{"invite", "create", "--uses", "5", "--key", "invite-1"}},
		{who: dewi, args: []string{"task", "create", "--org", org.ID, "--title", "Pantau hoaks TPS Jakarta", "--kind", "social_media",
			"--platform", "x", "--target", "#pemilu", "--starts", "2h", "--due", "3d", "--key", "task-1"}},
		{who: admin, args: []string{"org", "register", "--name", "JPPR DKI", "--number", "B-7/2029", "--until", "30d", "--region", "31", "--key", "org-1"}},
		{who: officer, args: []string{"org", "renew", org.ID, "--until", "60d", "--reason", "akreditasi diperpanjang", "--key", "renew-1"}},
		{who: dewi, args: []string{"report", "--url", "https://x.com/akun/status/77", "--platform", "x", "--category", "disinformation",
			"--summary", "Hoaks soal jadwal pencoblosan", "--key", "report-1"}},
		{who: admin, stdin: "\n", args: []string{"user", "create", "--email", "bali@bawaslu.go.id", "--name", "Bawaslu Bali",
			"--role", "officer", "--region", "51", "--key", "user-1", "--json"}},
		{who: admin, stdin: "\n", args: []string{"user", "create", "--email", "ntb@bawaslu.go.id", "--name", "Bawaslu NTB",
			"--role", "officer", "--region", "52", "--key", "user-2"}},
	}
	for _, r := range runs {
		out, err := r.who.runIn(r.stdin, r.args...)
		if err != nil {
			t.Fatalf("jarimu %s: %v", strings.Join(r.args, " "), err)
		}
		r.out = out
	}
	time.Sleep(1100 * time.Millisecond) // "now" is another second
	for _, r := range runs {
		out, err := r.who.runIn(r.stdin, r.args...)
		if err != nil {
			t.Errorf("jarimu %s, run again: %v", strings.Join(r.args, " "), err)
			continue
		}
		if out != r.out {
			t.Errorf("jarimu %s, run again: got\n%s\nwant the first answer again:\n%s", strings.Join(r.args, " "), out, r.out)
		}
	}

	// The password generated works, and the rerun showed it again.
	var made struct {
		api.User
		Password string `json:"password"`
	}
	if err := jsonUnmarshal(runs[5].out, &made); err != nil || len(made.Password) < 20 {
		t.Fatalf("user create --json: got %q, %v", runs[5].out, err)
	}
	if _, err := client.New(w.url).Login(context.Background(), "bali@bawaslu.go.id", made.Password); err != nil {
		t.Errorf("login with the password generated: %v", err)
	}
	password := fieldOf(runs[6].out, "password")
	password, _, _ = strings.Cut(password, " ")
	if _, err := client.New(w.url).Login(context.Background(), "ntb@bawaslu.go.id", password); err != nil {
		t.Errorf("login with the password generated (%q): %v", password, err)
	}

	// One invite, task, organisation and report each.
	var tasks []api.Task
	dewi.mustJSON(&tasks, "tasks", "--org", org.ID)
	var reports []api.Report
	dewi.mustJSON(&reports, "reports")
	var orgs []api.Org
	admin.mustJSON(&orgs, "orgs")
	if len(tasks) != 1 || len(reports) != 1 || len(orgs) != 2 {
		t.Errorf("got %d tasks, %d reports, %d organisations; want 1, 1 and 2", len(tasks), len(reports), len(orgs))
	}

	// The keys are remembered next to the credentials, for the user only.
	st, err := os.Stat(filepath.Join(dewi.dir, retriesFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: got %v, %v; want mode 600", retriesFile, st, err)
	}

	// The same key with other flags is another request: the server
	// refuses it.
	dewi.mustFail([]string{"invite", "create", "--uses", "6", "--key", "invite-1"}, "idempotency-key-reused")
}
