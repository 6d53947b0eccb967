package main

import (
	"strings"
	"testing"
)

// A bad flag value or id of a signed-in user is a usage error too (exit 2),
// told once, before any call: an id flag the client refuses as well as the
// positional ids, the values checked by the CLI, and a --limit below 0.
func TestCLIBadValuesSignedIn(t *testing.T) {
	w := newWorld(t)
	w.volunteer("eko@example.org")
	eko := w.person("eko@example.org")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"members", "--org", ".."}, `invalid id "..": not an id`},
		{[]string{"claim", ""}, `TASK_ID "": not an id`},
		{[]string{"task", "show", ".."}, `TASK_ID "..": not an id`},
		{[]string{"complete", "c1", "--outcome", "bogus"}, `--outcome "bogus": want done`},
		{[]string{"consent", "--language", "xx"}, `--language "xx": want id or en`},
		{[]string{"me", "edit"}, "nothing to change"},
		{[]string{"tasks", "--limit", "-5"}, `invalid value "-5" for flag -limit`},
	} {
		eko.mustUsage(tt.args, tt.want)
		if _, err := eko.run(tt.args...); err != nil && strings.HasPrefix(err.Error(), "jarimu: ") {
			t.Errorf("jarimu %q: got %q, want no \"jarimu: \" of its own (main adds it)", tt.args, err)
		}
	}
	if out := eko.must("tasks", "--limit", "0"); !strings.Contains(out, "no tasks") {
		t.Errorf("tasks --limit 0: got %q", out)
	}
}
