package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/mail"
)

// sent keeps what the outbox sends.
type sent struct{ msgs []mail.Message }

func (s *sent) Send(_ context.Context, msgs []mail.Message) ([]error, error) {
	s.msgs = append(s.msgs, msgs...)
	return make([]error, len(msgs)), nil
}

// A sealed secret is in neither body of the queued row, only in the mail
// sent; one sealed under another key (another instance's, during a
// rolling rotation of the Web Push keys) is never sent with its stand-in:
// it is left for a later try, and an instance holding its key sends it.
func TestSealedSecret(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
		sealer, err := mail.NewSealer(key)
		if err != nil {
			t.Fatal(err)
		}
		stale, _ := mail.NewSealer(other)
		standIn, link := "https://jarimu.example.org/#/forgot", "https://jarimu.example.org/?token=RAHASIA-tautan#/reset-password"
		now, err := d.Now(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []*mail.Sealer{sealer, stale} {
			m, err := mail.PasswordReset("id", "Ana", standIn, 30)
			if err != nil {
				t.Fatal(err)
			}
			m.To = "ana@example.org"
			if err := s.Seal(&m, standIn, link); err != nil {
				t.Fatal(err)
			}
			if err := mail.Enqueue(ctx, d, m, now, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		var stored []string
		if err := d.NewSelect().Table("mail_outbox").ColumnExpr("text_body || html_body || sealed").Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		for _, s := range stored {
			if strings.Contains(s, "RAHASIA") || !strings.Contains(s, standIn) {
				t.Errorf("a queued row holds the secret, or not the stand-in:\n%s", s)
			}
		}
		out := &sent{}
		o := mail.NewOutbox(d, out, slog.New(slog.DiscardHandler), mail.Options{Sealer: sealer})
		if _, err := o.Work(ctx); err != nil {
			t.Fatal(err)
		}
		if len(out.msgs) != 1 || !strings.Contains(out.msgs[0].Text, link) || strings.Contains(out.msgs[0].Text, standIn) ||
			!strings.Contains(out.msgs[0].HTML, `href="`+link+`"`) {
			t.Fatalf("sent %d mails, want the one sealed under the key, with the link:\n%+v", len(out.msgs), out.msgs)
		}
		// The other is left for an instance that holds its key (a rolling
		// rotation), not dropped; that instance sends it, link and all.
		if n, _ := d.NewSelect().Table("mail_outbox").Count(ctx); n != 1 || o.Stats.Dropped.Load() != 0 || o.Stats.Failed.Load() != 1 {
			t.Errorf("%d mails left, %d dropped, %d failed; want the one under another key left for a later try", n, o.Stats.Dropped.Load(), o.Stats.Failed.Load())
		}
		if _, err := d.NewUpdate().Table("mail_outbox").Set("next_attempt_at = ?", now).Where("1 = 1").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		elsewhere := &sent{}
		if _, err := mail.NewOutbox(d, elsewhere, slog.New(slog.DiscardHandler), mail.Options{Sealer: stale}).Work(ctx); err != nil {
			t.Fatal(err)
		}
		if len(elsewhere.msgs) != 1 || !strings.Contains(elsewhere.msgs[0].Text, link) {
			t.Fatalf("the instance with the other key sent %d mails, want the one left, with its link:\n%+v", len(elsewhere.msgs), elsewhere.msgs)
		}
	})
}
