package report

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/problem"
)

// The transitions table is the contract's workflow, and nothing more:
// coordinators review submitted reports; officers decide submitted or
// endorsed ones; rejected, verified and duplicate reports are final.
func TestTransitionsTable(t *testing.T) {
	want := map[string]transition{
		"endorse":           {byCoordinator, []string{api.ReportSubmitted}, api.ReportEndorsed},
		"reject":            {byCoordinator, []string{api.ReportSubmitted}, api.ReportRejected},
		api.ReportVerified:  {byOfficer, []string{api.ReportSubmitted, api.ReportEndorsed}, api.ReportVerified},
		"officer-reject":    {byOfficer, []string{api.ReportSubmitted, api.ReportEndorsed}, api.ReportRejected},
		api.ReportDuplicate: {byOfficer, []string{api.ReportSubmitted, api.ReportEndorsed}, api.ReportDuplicate},
	}
	if len(transitions) != len(want) {
		t.Errorf("%d transitions, want %d", len(transitions), len(want))
	}
	for key, w := range want {
		got, ok := transitions[key]
		if !ok || got.by != w.by || got.to != w.to || !slices.Equal(slices.Sorted(slices.Values(got.from)), slices.Sorted(slices.Values(w.from))) {
			t.Errorf("transition %s: got %+v, want %+v", key, got, w)
		}
	}
	for _, final := range []string{api.ReportRejected, api.ReportVerified, api.ReportDuplicate} {
		for key, tr := range transitions {
			if slices.Contains(tr.from, final) {
				t.Errorf("%s leaves the final state %s", key, final)
			}
		}
	}
	wantDecided := map[string]bool{api.ReportRejected: true, api.ReportVerified: true, api.ReportDuplicate: true}
	if !maps.Equal(decided, wantDecided) {
		t.Errorf("decided statuses: got %v, want %v", decided, wantDecided)
	}
	wantSteps := map[string]string{api.TakedownRequested: "", api.TakedownDone: api.TakedownRequested, api.TakedownRefused: api.TakedownRequested}
	if len(takedownSteps) != len(wantSteps) {
		t.Errorf("takedown steps: %v, want %v", takedownSteps, wantSteps)
	}
	for to, from := range wantSteps {
		if got, ok := takedownSteps[to]; !ok || got != from {
			t.Errorf("takedown %s follows %q, want %q", to, got, from)
		}
	}
}

func TestCheckObserved(t *testing.T) {
	now := time.Date(2029, 2, 14, 7, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at time.Time
		ok bool
	}{
		{now, true},
		{now.Add(5 * time.Minute), true},
		{now.Add(5*time.Minute + time.Microsecond), false},
		{now.AddDate(-1, 0, 0), true},
		{now.AddDate(-1, 0, 0).Add(-time.Microsecond), false},
		{time.Time{}, false},
	} {
		err := checkObserved(c.at, now)
		if (err == nil) != c.ok || err != nil && !problem.Is(err, "validation") {
			t.Errorf("observed %v: got %v, want ok=%v", c.at, err, c.ok)
		}
	}
}

func TestOfficerStreams(t *testing.T) {
	for code, want := range map[string][]string{
		"":       {"review:national"},
		"31":     {"review:national", "review:31"},
		"3171":   {"review:national", "review:31", "review:3171"},
		"317101": {"review:national", "review:31", "review:3171", "review:317101"},
	} {
		if got := officerStreams(code); !slices.Equal(got, want) {
			t.Errorf("officerStreams(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestRoleSees(t *testing.T) {
	for _, r := range []role{{reporter: true}, {coordinator: true}, {officer: true}} {
		if !r.sees() {
			t.Errorf("%+v does not see", r)
		}
	}
	if (role{}).sees() {
		t.Errorf("nobody sees")
	}
}
