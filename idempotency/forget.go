package idempotency

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Forget deletes, inside q, the stored answers of userID's requests, and
// takes away the bodies of anyone else's stored answers that hold one of
// texts as a JSON string (an erased person's name or email in a
// coordinator's answer, or a deleted report's id, say). Those others'
// successes stay applied, as Withhold leaves them, so a retry is refused
// (idempotency-applied) and never carried out twice; their refusals are
// forgotten (a retry runs again: they changed nothing). A text may match
// more than the person (a name that is also a word of an answer): such an
// answer is withheld, never re-run. It answers how many rows it deleted or
// emptied.
func (s *Store) Forget(ctx context.Context, q bun.IDB, userID string, texts ...string) (int64, error) {
	res, err := q.NewDelete().Model((*row)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("forget idempotency answers: %w", err)
	}
	n, _ := res.RowsAffected()
	var conds []string
	var args []any
	for _, t := range texts {
		if t == "" {
			continue
		}
		quoted, _ := json.Marshal(t)
		if s.db.Postgres() {
			conds = append(conds, "position(?::bytea in body) > 0")
		} else {
			conds = append(conds, "instr(body, ?) > 0")
		}
		args = append(args, quoted)
	}
	if len(conds) == 0 {
		return n, nil
	}
	m, err := withholdDone(ctx, q, "("+strings.Join(conds, " OR ")+")", args...)
	if err != nil {
		return 0, fmt.Errorf("forget idempotency answers: %w", err)
	}
	return n + m, nil
}

// withholdDone takes away, inside q, the bodies of the stored answers that
// match cond: a refusal is deleted, a success stays applied with its status
// and without its answer. It answers how many rows it changed.
func withholdDone(ctx context.Context, q bun.IDB, cond string, args ...any) (int64, error) {
	res, err := q.NewDelete().Model((*row)(nil)).Where("state = 'done' AND status >= 400").Where(cond, args...).Exec(ctx)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	res, err = q.NewUpdate().Model((*row)(nil)).Set("state = 'applied'").Set("body = NULL").Set("content_type = ''").Set("location = ''").
		Where("state = 'done'").Where(cond, args...).Exec(ctx)
	if err != nil {
		return 0, err
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}
