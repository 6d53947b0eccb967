package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Server is where mail goes: an SMTP server and how to speak to it.
type Server struct {
	Host     string
	Port     int
	StartTLS bool // STARTTLS is required (submission, port 587)
	TLS      bool // implicit TLS (smtps://, port 465)
	Username string
	Password string
}

// ParseURL reads JARIMU_SMTP_URL:
//
//	smtp://HOST:PORT                              a relay without TLS or authentication (local)
//	smtp://USER:PASS@HOST:587?starttls=true       submission: STARTTLS required, then authentication
//	smtps://USER:PASS@HOST:465                    implicit TLS
//
// Credentials without TLS are refused unless the host is a loopback
// address: they would cross the network in the clear.
func ParseURL(s string) (Server, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Server{}, errors.New("not a URL like smtp://host:25 or smtp://user:pass@host:587?starttls=true")
	}
	var srv Server
	switch u.Scheme {
	case "smtp":
	case "smtps":
		srv.TLS = true
	default:
		return Server{}, errors.New("the scheme must be smtp:// or smtps://")
	}
	srv.Host = u.Hostname()
	if srv.Host == "" {
		return Server{}, errors.New("no host")
	}
	srv.Port = 25
	if srv.TLS {
		srv.Port = 465
	}
	if p := u.Port(); p != "" {
		if srv.Port, err = strconv.Atoi(p); err != nil || srv.Port < 1 || srv.Port > 65535 {
			return Server{}, errors.New("the port must be 1 to 65535")
		}
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" {
			return Server{}, fmt.Errorf("unknown parameter %q (only starttls)", k)
		}
	}
	if v := q.Get("starttls"); v != "" {
		if srv.StartTLS, err = strconv.ParseBool(v); err != nil {
			return Server{}, errors.New(`starttls must be "true" or "false"`)
		}
	}
	if u.User != nil {
		srv.Username = u.User.Username()
		srv.Password, _ = u.User.Password()
	}
	if srv.Username != "" && !srv.TLS && !srv.StartTLS && !loopback(srv.Host) {
		return Server{}, errors.New("credentials need TLS: add ?starttls=true or use smtps://")
	}
	if u.Path != "" && u.Path != "/" {
		return Server{}, errors.New("no path is expected")
	}
	return srv, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Redacted is the server's URL without the password, for logs.
func (s Server) Redacted() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if s.TLS {
		u.Scheme = "smtps"
	}
	if s.Username != "" {
		u.User = url.User(s.Username)
	}
	if s.StartTLS {
		u.RawQuery = "starttls=true"
	}
	return u.String()
}

// SMTP sends messages to one SMTP server, a connection per batch.
type SMTP struct {
	srv  Server
	from *mail.Address
}

// NewSMTP makes a sender to srv, with from (JARIMU_MAIL_FROM, such as
// "Jarimu <noreply@example.org>") as the sender of every message.
func NewSMTP(srv Server, from string) (*SMTP, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("the sender %q is not an address like \"Jarimu <noreply@example.org>\"", from)
	}
	return &SMTP{srv: srv, from: addr}, nil
}

// SendTimeout bounds one connection to the SMTP server: dial, TLS, auth and
// the messages of one batch.
const SendTimeout = 30 * time.Second

// Send delivers msgs over one connection. The error of each message is in
// the returned slice (nil for one the server took); err is set when the
// connection itself failed, and then nothing was sent.
func (s *SMTP) Send(ctx context.Context, msgs []Message) (errs []error, err error) {
	policy := gomail.NoTLS
	if s.srv.StartTLS {
		policy = gomail.TLSMandatory
	}
	opts := []gomail.Option{gomail.WithPort(s.srv.Port), gomail.WithTimeout(SendTimeout), gomail.WithTLSPolicy(policy)}
	if s.srv.TLS {
		opts = append(opts, gomail.WithSSL())
	}
	if s.srv.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if !s.srv.TLS && !s.srv.StartTLS {
			auth = gomail.SMTPAuthPlainNoEnc // loopback only, see ParseURL
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.srv.Username), gomail.WithPassword(s.srv.Password))
	}
	c, err := gomail.NewClient(s.srv.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	out := make([]*gomail.Msg, len(msgs))
	errs = make([]error, len(msgs))
	for i, m := range msgs {
		if out[i], errs[i] = s.compose(m); errs[i] != nil {
			out[i] = nil
		}
	}
	var send []*gomail.Msg
	for _, m := range out {
		if m != nil {
			send = append(send, m)
		}
	}
	if len(send) == 0 {
		return errs, nil
	}
	if err := c.DialAndSendWithContext(ctx, send...); err != nil {
		// Per-message failures come back joined, each a *SendError naming
		// its message; a failure before any message (dial, TLS, auth)
		// fails them all.
		var any bool
		for i, m := range out {
			if m != nil && m.HasSendError() {
				errs[i], any = m.SendError(), true
			}
		}
		if !any {
			return nil, err
		}
	}
	return errs, nil
}

// compose builds one message.
func (s *SMTP) compose(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, permanent{fmt.Errorf("recipient: %w", err)}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID(s.from.Address))
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}

// messageID is a new Message-ID in the sender's domain.
func messageID(from string) string {
	domain := "jarimu.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		domain = from[i+1:]
	}
	return newID() + "@" + domain
}

// permanent marks an error that retrying cannot cure (a malformed
// recipient, or the server's 5xx for the message).
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// isPermanent says whether retrying err cannot help.
func isPermanent(err error) bool {
	var p permanent
	if errors.As(err, &p) {
		return true
	}
	var se *gomail.SendError
	return errors.As(err, &se) && !se.IsTemp()
}
