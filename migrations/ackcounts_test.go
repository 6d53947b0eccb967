package migrations_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/migrations"
)

// beforeAckCounts is the last migration that kept one alert_acks row per
// alert and volunteer.
const beforeAckCounts = "20261209100001"

// The acknowledgements stored one per alert and volunteer become counts in
// the delay buckets of alert.DelayBounds (only volunteers', as the reach
// counted them), and alert_acks goes; rolling back gives an empty
// alert_acks again.
func TestAckCountsMigration(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			d := openAt(t, b, beforeAckCounts)
			now := time.Now().UTC().Truncate(time.Second)
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := d.ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			for _, a := range []string{"a1", "a2"} {
				exec("INSERT INTO alerts (id, title, body, severity, issued_by, stream, published_at) VALUES (?, 't', 'b', 'info', 'o', 'region:national', ?)", a, now)
			}
			// a1: delays 0, 10, 11, 100, 2 days, 200 days (past the last
			// bound), and one from an officer, which never counted.
			delays := []int64{0, 10, 11, 100, 2 * 86_400_000, 200 * 86_400_000}
			for i, ms := range delays {
				u := fmt.Sprintf("v%d", i)
				exec("INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES (?, ?, 'n', 'x', 'volunteer', ?, ?)", u, u+"@example.org", now, now)
				exec("INSERT INTO alert_acks (alert_id, user_id, acked_at, delay_ms) VALUES ('a1', ?, ?, ?)", u, now, ms)
			}
			exec("INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES ('o', 'o@example.org', 'n', 'x', 'officer', ?, ?)", now, now)
			exec("INSERT INTO alert_acks (alert_id, user_id, acked_at, delay_ms) VALUES ('a1', 'o', ?, 5)", now)
			exec("INSERT INTO alert_acks (alert_id, user_id, acked_at, delay_ms) VALUES ('a2', 'v0', ?, 420)", now)

			if _, err := migrations.Up(ctx, d); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			var got []ackCount
			if err := d.NewRaw("SELECT alert_id, bucket_ms, acks FROM alert_ack_counts ORDER BY alert_id, bucket_ms").Scan(ctx, &got); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprint([]string{"a1 10 2", "a1 15 1", "a1 100 1", "a1 200000000 1", "a1 10000000000 1", "a2 500 1"})
			var have []string
			for _, g := range got {
				have = append(have, fmt.Sprintf("%s %d %d", g.AlertID, g.BucketMs, g.Acks))
			}
			if fmt.Sprint(have) != want {
				t.Errorf("counts %v, want %v", have, want)
			}
			// The migration's buckets are the ones the flush uses.
			for _, ms := range delays {
				if b := alert.BucketOf(ms); !slices.ContainsFunc(got, func(c ackCount) bool { return c.BucketMs == b }) {
					t.Errorf("delay %d: the flush counts it in %d, the migration did not", ms, b)
				}
			}
			var n int
			if err := d.NewRaw("SELECT count(*) FROM alert_acks").Scan(ctx, &n); err == nil {
				t.Errorf("alert_acks still there, with %d rows", n)
			}
			if _, err := migrations.Down(ctx, d); err != nil {
				t.Fatalf("migrate down: %v", err)
			}
			if err := d.NewRaw("SELECT count(*) FROM alert_acks").Scan(ctx, &n); err != nil || n != 0 {
				t.Errorf("alert_acks after down: %d rows, %v; want an empty table", n, err)
			}
		})
	}
}

type ackCount struct {
	AlertID  string `bun:"alert_id"`
	BucketMs int64  `bun:"bucket_ms"`
	Acks     int    `bun:"acks"`
}
