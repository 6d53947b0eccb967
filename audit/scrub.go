package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// Erased replaces erased personal data in the trail.
const Erased = "[erased]"

// Scrub erases, inside q, personal data of an erased account from the
// trail without losing who did what when: in the entries about targetID,
// and in any entry that holds one of global's values (an email address,
// which names one person only), every string value equal to one of
// values (name and email) or global becomes "[erased]". Names alone are
// scrubbed only in the entries about the account: another person may bear
// the same name. It says how many entries changed.
func Scrub(ctx context.Context, q bun.IDB, targetID string, values, global []string) (int, error) {
	var es []Entry
	sel := q.NewSelect().Model(&es).WhereGroup(" AND ", func(w *bun.SelectQuery) *bun.SelectQuery {
		w = w.WhereOr("target_id = ?", targetID)
		for _, v := range global {
			quoted, _ := json.Marshal(v)
			pat := "%" + string(quoted) + "%"
			w = w.WhereOr("CAST(before AS TEXT) LIKE ?", pat).WhereOr("CAST(after AS TEXT) LIKE ?", pat)
		}
		return w
	})
	if err := sel.Scan(ctx); err != nil {
		return 0, fmt.Errorf("audit scrub: %w", err)
	}
	all := append(slices.Clone(values), global...)
	changed := 0
	for i := range es {
		e := &es[i]
		b, bc := scrubJSON(e.Before, all)
		a, ac := scrubJSON(e.After, all)
		if !bc && !ac {
			continue
		}
		if _, err := q.NewUpdate().Model(e).Set("before = ?", b).Set("after = ?", a).WherePK().Exec(ctx); err != nil {
			return changed, fmt.Errorf("audit scrub: %w", err)
		}
		changed++
	}
	return changed, nil
}

// scrubJSON replaces the string values in doc equal to one of values.
func scrubJSON(doc *string, values []string) (*string, bool) {
	if doc == nil {
		return nil, false
	}
	var v any
	if json.Unmarshal([]byte(*doc), &v) != nil {
		return doc, false
	}
	v, changed := scrubValue(v, values)
	if !changed {
		return doc, false
	}
	b, _ := json.Marshal(v)
	s := string(b)
	return &s, true
}

func scrubValue(v any, values []string) (any, bool) {
	switch x := v.(type) {
	case string:
		if x != "" && slices.Contains(values, x) {
			return Erased, true
		}
	case []any:
		changed := false
		for i := range x {
			var c bool
			x[i], c = scrubValue(x[i], values)
			changed = changed || c
		}
		return x, changed
	case map[string]any:
		changed := false
		for k := range x {
			var c bool
			x[k], c = scrubValue(x[k], values)
			changed = changed || c
		}
		return x, changed
	}
	return v, false
}
