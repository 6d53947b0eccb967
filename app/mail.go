package app

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/mail"
)

// MailSealPurpose names the key that seals the secrets of queued mail.
const MailSealPurpose = "mail sealed secret"

// openMail makes the outbox worker when an SMTP server is set, and with it
// password reset by email. Without one, no mail is sent and resets are
// refused (an admin makes reset links instead).
func (a *App) openMail(o Options, cfg *auth.Config) error {
	if o.SMTPURL == "" {
		return nil
	}
	srv, err := mail.ParseURL(o.SMTPURL)
	if err != nil {
		return fmt.Errorf("JARIMU_SMTP_URL: %w", err)
	}
	if o.MailFrom == "" {
		return errors.New("JARIMU_MAIL_FROM: required with JARIMU_SMTP_URL (the sender of mail, such as \"Jarimu <noreply@example.org>\")")
	}
	if o.PublicURL == "" {
		return errors.New("JARIMU_PUBLIC_URL: required with JARIMU_SMTP_URL (the address people open the console at; links in mail point there)")
	}
	sender, err := mail.NewSMTP(srv, o.MailFrom)
	if err != nil {
		return fmt.Errorf("JARIMU_MAIL_FROM: %w", err)
	}
	// Reset links are sealed in the outbox under a key derived from the
	// Web Push key pair, which every instance holds and the database not.
	sealer, err := mail.NewSealer(a.VAPID.DerivedKey(MailSealPurpose))
	if err != nil {
		return err
	}
	mo := o.Mail
	mo.Sealer = sealer
	a.Mail = mail.NewOutbox(a.DB, sender, a.Log, mo)
	cfg.Reset = &auth.ResetConfig{PublicURL: o.PublicURL, Kick: a.Mail.Kick, MinDuration: o.ResetMinDuration, Sealer: sealer}
	a.Log.Info("mail", slog.String("smtp", srv.Redacted()))
	return nil
}
