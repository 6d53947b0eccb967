package idempotency

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"
)

// Forget deletes, inside q, the stored answers of userID's requests, and
// every stored answer of anyone that holds one of texts as a JSON string
// (an erased person's name or email in a coordinator's answer, say). A
// deleted answer only means a retry within its 24 hours is carried out
// again, which the state then refuses or repeats harmlessly.
func (s *Store) Forget(ctx context.Context, q bun.IDB, userID string, texts ...string) (int64, error) {
	del := q.NewDelete().Model((*row)(nil)).WhereGroup(" AND ", func(w *bun.DeleteQuery) *bun.DeleteQuery {
		w = w.WhereOr("user_id = ?", userID)
		for _, t := range texts {
			if t == "" {
				continue
			}
			quoted, _ := json.Marshal(t)
			if s.db.Postgres() {
				w = w.WhereOr("position(?::bytea in body) > 0", quoted)
			} else {
				w = w.WhereOr("instr(body, ?) > 0", quoted)
			}
		}
		return w
	})
	res, err := del.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("forget idempotency answers: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
