package app

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/mail"
)

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
	a.Mail = mail.NewOutbox(a.DB, sender, a.Log, o.Mail)
	cfg.Reset = &auth.ResetConfig{PublicURL: o.PublicURL, Kick: a.Mail.Kick, MinDuration: o.ResetMinDuration}
	a.Log.Info("mail", slog.String("smtp", srv.Redacted()))
	return nil
}
