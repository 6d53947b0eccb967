package event

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"
)

// Forget deletes, inside q, the events of stream (a user's own stream, when
// the account is erased). The stream's counter stays, so an event appended
// after still takes the next seq.
func Forget(ctx context.Context, q bun.IDB, stream string) (int64, error) {
	res, err := q.NewDelete().Model((*Event)(nil)).Where("stream = ?", stream).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("forget %s: %w", stream, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Redact rewrites, inside q, the data of the events named name whose data
// holds the JSON member `"key":"value"`: fn changes the decoded data (and
// says whether it did), which is written back in place, seq and all. An
// erasure blanks a person's name in events other people's feeds carry.
func Redact(ctx context.Context, q bun.IDB, name, key, value string, fn func(data map[string]any) bool) (int, error) {
	k, _ := json.Marshal(key)
	v, _ := json.Marshal(value)
	var evs []Event
	err := q.NewSelect().Model(&evs).Where("name = ?", name).Where("data LIKE ?", "%"+string(k)+":"+string(v)+"%").Scan(ctx)
	if err != nil {
		return 0, fmt.Errorf("redact %s: %w", name, err)
	}
	changed := 0
	for _, ev := range evs {
		var data map[string]any
		if json.Unmarshal(ev.Data, &data) != nil || data[key] != value || !fn(data) {
			continue
		}
		b, err := json.Marshal(data)
		if err != nil {
			return changed, fmt.Errorf("redact %s: %w", name, err)
		}
		_, err = q.NewUpdate().Model((*Event)(nil)).Set("data = ?", string(b)).
			Where("stream = ? AND seq = ?", ev.Stream, ev.Seq).Exec(ctx)
		if err != nil {
			return changed, fmt.Errorf("redact %s: %w", name, err)
		}
		changed++
	}
	return changed, nil
}
