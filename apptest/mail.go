package apptest

import (
	"testing"
	"time"

	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/mail"
	"github.com/jarimu/jarimu/mailtest"
)

// PublicURL is the console address reset links point at in tests with mail.
const PublicURL = "https://jarimu.example.org"

// MailFrom is the sender of test mail.
const MailFrom = "Jarimu Uji <noreply@jarimu.example.org>"

// WithMail sends the app's mail to smtpURL ("" means the test mail server,
// mailtest.SMTPURL, skipping or failing t without one), with a short retry
// backoff and a short least duration of reset requests, so that tests of
// retries and timing run quickly.
func WithMail(t testing.TB, smtpURL string) Option {
	t.Helper()
	if smtpURL == "" {
		smtpURL = mailtest.SMTPURL(t)
	}
	return func(o *app.Options) {
		o.SMTPURL, o.MailFrom, o.PublicURL = smtpURL, MailFrom, PublicURL
		o.Mail = mail.Options{Poll: 100 * time.Millisecond, Backoff: 200 * time.Millisecond, MaxBackoff: time.Second}
		o.ResetMinDuration = 150 * time.Millisecond
	}
}
