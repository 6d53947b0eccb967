package migrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/migrations"
)

// beforeVerifiedAt is the last migration before reports had verified_at.
const beforeVerifiedAt = "20261210090001"

// Reports verified before verified_at existed take the time of their
// verification in the audit trail (the first, if there are several), or
// their last change when the trail has none; other reports get none.
func TestVerifiedAtMigration(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			d := openAt(t, b, beforeVerifiedAt)
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := d.ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			day := func(n int) time.Time { return time.Date(2026, 3, n, 9, 0, 0, 0, time.UTC) }
			exec("INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES ('u', 'u@example.org', 'n', 'x', 'volunteer', ?, ?)", day(1), day(1))
			for _, r := range []struct {
				id, status string
				updated    time.Time
			}{{"audited", "verified", day(20)}, {"unaudited", "verified", day(21)}, {"open", "submitted", day(22)}} {
				exec("INSERT INTO reports (id, reporter_id, url, normalized_url, cluster_id, platform, category, summary, observed_at, status, created_at, updated_at) "+
					"VALUES (?, 'u', 'https://x.com/a', 'https://x.com/a', 'c', 'x', 'disinformation', 's', ?, ?, ?, ?)", r.id, day(1), r.status, day(1), r.updated)
			}
			for i, a := range []struct {
				action string
				at     time.Time
			}{{"report.verified", day(5)}, {"report.takedown.requested", day(4)}, {"report.verified", day(7)}} {
				exec("INSERT INTO audit_log (id, at, actor_role, action, target_type, target_id) VALUES (?, ?, 'officer', ?, 'report', 'audited')", string(rune('a'+i)), a.at, a.action)
			}
			if _, err := migrations.Up(ctx, d); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			var got []struct {
				ID         string     `bun:"id"`
				VerifiedAt *time.Time `bun:"verified_at"`
			}
			if err := d.NewRaw("SELECT id, verified_at FROM reports ORDER BY id").Scan(ctx, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]*time.Time{"audited": ptrTime(day(5)), "unaudited": ptrTime(day(21)), "open": nil}
			for _, g := range got {
				w := want[g.ID]
				if (g.VerifiedAt == nil) != (w == nil) || w != nil && !g.VerifiedAt.Equal(*w) {
					t.Errorf("%s: verified_at %v, want %v", g.ID, g.VerifiedAt, w)
				}
			}
			if len(got) != 3 {
				t.Errorf("%d reports, want 3", len(got))
			}
			if _, err := migrations.Down(ctx, d); err != nil {
				t.Fatalf("migrate down: %v", err)
			}
			var n int
			if err := d.NewRaw("SELECT count(verified_at) FROM reports").Scan(ctx, &n); err == nil {
				t.Error("verified_at is still there after down")
			}
		})
	}
}

func ptrTime(t time.Time) *time.Time { return &t }
