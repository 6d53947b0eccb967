package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// Mail settings are checked together at start, naming the setting at fault.
func TestMailSettings(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(o *app.Options)
		want string
	}{
		{"bad URL", func(o *app.Options) { o.SMTPURL = "http://mail" }, "JARIMU_SMTP_URL"},
		{"no sender", func(o *app.Options) { o.SMTPURL, o.PublicURL = "smtp://127.0.0.1:25", "https://x.example" }, "JARIMU_MAIL_FROM"},
		{"no public URL", func(o *app.Options) { o.SMTPURL, o.MailFrom = "smtp://127.0.0.1:25", "Jarimu <a@b.example>" }, "JARIMU_PUBLIC_URL"},
		{"bad sender", func(o *app.Options) {
			o.SMTPURL, o.MailFrom, o.PublicURL = "smtp://127.0.0.1:25", "bukan alamat", "https://x.example"
		}, "JARIMU_MAIL_FROM"},
	} {
		o := app.Options{DataDir: t.TempDir(), Keys: apptest.NewKeys(t), HashParams: &apptest.FastHash}
		c.set(&o)
		a, err := app.New(context.Background(), o)
		if err == nil {
			a.Close()
			t.Errorf("%s: started", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to name %s", c.name, err, c.want)
		}
	}
	e := apptest.Start(t, dbtest.SQLite, func(o *app.Options) {
		o.SMTPURL, o.MailFrom, o.PublicURL = "smtp://127.0.0.1:25", "Jarimu <noreply@jarimu.example>", "https://x.example"
	})
	if e.App.Mail == nil || !e.App.Auth.ResetEnabled() {
		t.Fatal("mail settings given, yet no outbox")
	}
	r := e.Do(t, "GET", "/metrics", nil)
	if !strings.Contains(string(r.Body), "jarimu_mail_sent_total") {
		t.Error("/metrics lacks the mail counters")
	}
}
