package server

import (
	"testing"

	"github.com/jarimu/jarimu/problem"
)

// Every kind has a status and a title, and every type of the catalogue a
// kind the server can render and a documentation text.
func TestCatalogueRenders(t *testing.T) {
	for k := problem.Internal; k <= problem.Unavailable; k++ {
		if statusOf(k) == 0 || titleOf(k) == "" {
			t.Errorf("kind %d has no status or title", k)
		}
	}
	for slug, ty := range catalogue {
		if statusOf(ty.Kind) == 0 || ty.Doc == "" || ty.Slug != slug {
			t.Errorf("type %q: %+v", slug, ty)
		}
	}
}
