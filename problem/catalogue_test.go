package problem_test

import (
	"testing"

	"github.com/jarimu/jarimu/problem"
)

// A type makes errors of its own slug and kind, recognised by Is; a
// catalogue refuses a slug declared twice.
func TestTypeAndCatalogue(t *testing.T) {
	full := problem.Type{Slug: "task-full", Kind: problem.Conflict, Doc: "every slot is taken"}
	err := full.New("task %s has %d slots", "x", 3)
	if err.Type != "task-full" || err.Kind != problem.Conflict || err.Detail != "task x has 3 slots" {
		t.Fatalf("got %+v", err)
	}
	if !full.Is(err) || problem.ValidationType.Is(err) {
		t.Fatal("Is does not tell the types apart")
	}
	c := problem.NewCatalogue(problem.General, []problem.Type{full})
	if c["task-full"] != full || c["validation"].Kind != problem.Invalid {
		t.Fatalf("catalogue: %v", c)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a slug declared twice was taken")
		}
	}()
	problem.NewCatalogue([]problem.Type{full}, []problem.Type{full})
}
