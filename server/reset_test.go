package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/mail"
	"github.com/jarimu/jarimu/mailtest"
)

// mailVolunteer signs up a volunteer with a mailbox no other test (or
// earlier run on the same Mailpit) uses.
func mailVolunteer(t testing.TB, e *apptest.Env, name, lang string) api.AuthResponse {
	t.Helper()
	email := fmt.Sprintf("%s.%s@example.org", strings.ToLower(name), auth.NewID()[19:])
	resp, err := e.App.Auth.Signup(context.Background(), api.SignupRequest{Email: email, Password: apptest.Password, Name: name,
		PrivacyVersion: e.App.Notice.Version, Language: lang})
	if err != nil {
		t.Fatalf("signup %s: %v", name, err)
	}
	return resp
}

func askReset(t testing.TB, e *apptest.Env, email string) apptest.Response {
	t.Helper()
	return call(t, e, "", "POST", "/v1/auth/password-reset", map[string]any{"email": email})
}

func confirmReset(t testing.TB, e *apptest.Env, token, password string) apptest.Response {
	t.Helper()
	return call(t, e, "", "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": token, "password": password})
}

// resetLink waits for the n-th mail to email and returns its reset link and
// the token the link carries.
func resetLink(t testing.TB, email string, n int) (link *url.URL, token string, m mailtest.Message) {
	t.Helper()
	m = mailtest.Await(t, email, n, 15*time.Second)
	s, err := mailtest.Link(m.Text, apptest.PublicURL+"/")
	if err != nil {
		t.Fatalf("%v:\n%s", err, m.Text)
	}
	link, err = url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	token = link.Query().Get("token")
	if token == "" || link.Fragment != "/reset-password" {
		t.Fatalf("link %s: want ?token=...#/reset-password", s)
	}
	return link, token, m
}

func waitRows(t testing.TB, e *apptest.Env, table, where string, want int, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for count(t, e, table, where, args...) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s where %s: got %d rows, want %d", table, where, count(t, e, table, where, args...), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const newPassword = "sandi-baru-pengawas-2029"

// The whole flow against a real SMTP server: the mail arrives in the
// account's language with the other after it, its link opens the console
// and carries the token, which sets the password once and ends every
// session; the database never holds the token itself.
func TestPasswordResetByMail(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := mailVolunteer(t, e, "Ana", "id")
		r := login(t, e, v.User.Email, apptest.Password, "")
		must(t, "second session", r, http.StatusOK, "")
		var second api.AuthResponse
		r.Decode(t, &second)

		r = askReset(t, e, strings.ToUpper(v.User.Email))
		must(t, "ask", r, http.StatusAccepted, "")
		var acc api.PasswordResetAccepted
		r.Decode(t, &acc)
		if acc.Status != "accepted" {
			t.Fatalf("answer %s", r.Body)
		}
		link, token, m := resetLink(t, v.User.Email, 1)
		if m.From.Address != "noreply@jarimu.example.org" || !strings.HasPrefix(m.Subject, "Atur ulang kata sandi") || !strings.Contains(m.Subject, "Reset your Jarimu password") {
			t.Errorf("from %v, subject %q", m.From, m.Subject)
		}
		if !strings.Contains(m.Text, "Halo Ana") || !strings.Contains(m.Text, "Hello Ana") || strings.Index(m.Text, "Halo") > strings.Index(m.Text, "Hello") {
			t.Errorf("text: want Indonesian, then English:\n%s", m.Text)
		}
		if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(link.String(), "&", "&amp;")+`"`) {
			t.Errorf("the HTML part lacks the link:\n%s", m.HTML)
		}
		sum := sha256.Sum256([]byte(token))
		if n := count(t, e, "password_resets", "user_id = ? AND token_hash = ?", v.User.ID, hex.EncodeToString(sum[:])); n != 1 {
			t.Errorf("got %d reset rows with the token's hash, want 1", n)
		}
		if n := count(t, e, "password_resets", "token_hash = ?", token); n != 0 {
			t.Error("the token itself is stored")
		}
		waitRows(t, e, "mail_outbox", "user_id = ?", 0, v.User.ID)

		// Follow the link: the console answers it.
		page := e.Do(t, "GET", "/?"+link.RawQuery, nil)
		if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET the link: %d %s", page.Status, page.Header.Get("Content-Type"))
		}
		must(t, "weak password", confirmReset(t, e, token, "1234567890"), http.StatusUnprocessableEntity, "validation")
		must(t, "confirm", confirmReset(t, e, token, newPassword), http.StatusNoContent, "")
		must(t, "first session", refresh(t, e, v.Tokens.RefreshToken), http.StatusUnauthorized, "invalid-refresh-token")
		must(t, "second session", refresh(t, e, second.Tokens.RefreshToken), http.StatusUnauthorized, "invalid-refresh-token")
		if n := count(t, e, "device_tokens", "user_id = ?", v.User.ID); n != 0 {
			t.Errorf("%d trusted devices left", n)
		}
		must(t, "old password", login(t, e, v.User.Email, apptest.Password, ""), http.StatusUnauthorized, "invalid-credentials")
		must(t, "new password", login(t, e, v.User.Email, newPassword, ""), http.StatusOK, "")
		must(t, "reuse", confirmReset(t, e, token, "sandi-ketiga-pengawas-2029"), http.StatusUnauthorized, "invalid-reset-token")
		must(t, "still the new password", login(t, e, v.User.Email, newPassword, ""), http.StatusOK, "")
		must(t, "made-up token", confirmReset(t, e, "bukan-token-yang-benar", newPassword), http.StatusUnauthorized, "invalid-reset-token")
		if n := auditRows(t, e, "user.password_reset"); n != 1 {
			t.Errorf("got %d user.password_reset audit rows, want 1", n)
		}
	}, apptest.WithMail(t, ""))
}

// A link past its 30 minutes sets nothing.
func TestPasswordResetExpired(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := mailVolunteer(t, e, "Budi", "en")
		must(t, "ask", askReset(t, e, v.User.Email), http.StatusAccepted, "")
		_, token, m := resetLink(t, v.User.Email, 1)
		if !strings.HasPrefix(m.Subject, "Reset your Jarimu password") || strings.Index(m.Text, "Hello") > strings.Index(m.Text, "Halo") {
			t.Errorf("an English account's mail: want English first: %q\n%s", m.Subject, m.Text)
		}
		// Thirty minutes pass (the expiry is read from the database clock).
		exec(t, e, "UPDATE password_resets SET expires_at = ? WHERE user_id = ?", time.Now().UTC().Add(-time.Second), v.User.ID)
		must(t, "expired", confirmReset(t, e, token, newPassword), http.StatusUnauthorized, "invalid-reset-token")
		must(t, "password unchanged", login(t, e, v.User.Email, apptest.Password, ""), http.StatusOK, "")
		must(t, "session kept", refresh(t, e, v.Tokens.RefreshToken), http.StatusOK, "")
	}, apptest.WithMail(t, ""))
}

// A link changes its own account's password only, and a password set ends
// the account's other links.
func TestPasswordResetOtherAccount(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		a := mailVolunteer(t, e, "Citra", "id")
		b := mailVolunteer(t, e, "Dewi", "id")
		must(t, "ask a", askReset(t, e, a.User.Email), http.StatusAccepted, "")
		must(t, "ask b", askReset(t, e, b.User.Email), http.StatusAccepted, "")
		_, tokenA, _ := resetLink(t, a.User.Email, 1)
		_, tokenB, _ := resetLink(t, b.User.Email, 1)
		must(t, "ask a again", askReset(t, e, a.User.Email), http.StatusAccepted, "")
		_, tokenA2, _ := resetLink(t, a.User.Email, 2)

		must(t, "a's token", confirmReset(t, e, tokenA, newPassword), http.StatusNoContent, "")
		must(t, "b unchanged", login(t, e, b.User.Email, apptest.Password, ""), http.StatusOK, "")
		must(t, "b's session", refresh(t, e, b.Tokens.RefreshToken), http.StatusOK, "")
		must(t, "b with a's password", login(t, e, b.User.Email, newPassword, ""), http.StatusUnauthorized, "invalid-credentials")
		must(t, "a's second link", confirmReset(t, e, tokenA2, "sandi-lain-pengawas-2029"), http.StatusUnauthorized, "invalid-reset-token")
		must(t, "b's token", confirmReset(t, e, tokenB, "sandi-dewi-pengawas-2029"), http.StatusNoContent, "")
		must(t, "a keeps hers", login(t, e, a.User.Email, newPassword, ""), http.StatusOK, "")
		must(t, "a with b's", login(t, e, a.User.Email, "sandi-dewi-pengawas-2029", ""), http.StatusUnauthorized, "invalid-credentials")
	}, apptest.WithMail(t, ""))
}

// An unknown email gets the same answer in about the same time, and no
// mail; an account asked for too often gets the same answer and no more
// mail.
func TestPasswordResetUnknownEmail(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		var known, unknown []time.Duration
		var bodies []string
		var users []api.AuthResponse
		for i := 0; i < 5; i++ {
			v := mailVolunteer(t, e, "Eka", "id")
			users = append(users, v)
			for j, email := range []string{v.User.Email, "tidak.ada." + auth.NewID()[19:] + "@example.org"} {
				start := time.Now()
				r := askReset(t, e, email)
				took := time.Since(start)
				must(t, "ask", r, http.StatusAccepted, "")
				bodies = append(bodies, string(r.Body))
				if j == 0 {
					known = append(known, took)
				} else {
					unknown = append(unknown, took)
				}
			}
		}
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Fatalf("answers differ: %s vs %s", b, bodies[0])
			}
		}
		slices.Sort(known)
		slices.Sort(unknown)
		mk, mu := known[len(known)/2], unknown[len(unknown)/2]
		if mk < 150*time.Millisecond || mu < 150*time.Millisecond || (mk-mu).Abs() > 60*time.Millisecond {
			t.Errorf("median answer times: known %v, unknown %v; want both at least 150 ms and within 60 ms", mk, mu)
		}
		for _, v := range users {
			mailtest.Await(t, v.User.Email, 1, 15*time.Second)
		}
		if n := count(t, e, "password_resets", "1 = 1"); n != len(users) {
			t.Errorf("got %d reset rows, want %d (none for unknown emails)", n, len(users))
		}
		waitRows(t, e, "mail_outbox", "1 = 1", 0)

		// Three mails per account, then the same answer and no mail.
		flood := users[0]
		for i := 0; i < 3; i++ {
			must(t, "ask again", askReset(t, e, flood.User.Email), http.StatusAccepted, "")
		}
		mailtest.Await(t, flood.User.Email, 3, 15*time.Second)
		time.Sleep(500 * time.Millisecond)
		if n := len(mailtest.Find(t, flood.User.Email)); n != 3 {
			t.Errorf("got %d mails to one account asked for 4 times, want 3", n)
		}
	}, apptest.WithMail(t, ""))
}

// With the SMTP server down the mail waits in the outbox, retried, and goes
// out once the server answers; its link then works.
func TestPasswordResetSMTPDown(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			addr := apptest.UnusedAddr(t) // nothing listens there until the relay starts
			e := apptest.Start(t, b, apptest.WithMail(t, "smtp://"+addr))
			v := mailVolunteer(t, e, "Fajar", "id")
			must(t, "ask", askReset(t, e, v.User.Email), http.StatusAccepted, "")
			deadline := time.Now().Add(10 * time.Second)
			for count(t, e, "mail_outbox", "user_id = ? AND attempts >= 2 AND last_error <> ''", v.User.ID) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the mail was not retried")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := len(mailtest.Find(t, v.User.Email)); n != 0 {
				t.Fatalf("%d mails arrived with the server down", n)
			}
			relay(t, addr, mailtest.SMTPAddr(t))
			_, token, _ := resetLink(t, v.User.Email, 1)
			waitRows(t, e, "mail_outbox", "user_id = ?", 0, v.User.ID)
			must(t, "confirm", confirmReset(t, e, token, newPassword), http.StatusNoContent, "")
			must(t, "new password", login(t, e, v.User.Email, newPassword, ""), http.StatusOK, "")
		})
	}
}

// A queued reset mail holds no working link: the outbox keeps a link to
// ask again in its place and the link sealed, so the database (or a backup
// of it) does not let anyone in; the mail sent carries the working link.
func TestPasswordResetLinkSealedInOutbox(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			addr := apptest.UnusedAddr(t)
			e := apptest.Start(t, b, apptest.WithMail(t, "smtp://"+addr))
			v := mailVolunteer(t, e, "Segel", "id")
			must(t, "ask", askReset(t, e, v.User.Email), http.StatusAccepted, "")
			var queued []string
			err := e.App.DB.NewSelect().Table("mail_outbox").ColumnExpr("text_body || html_body || sealed").
				Where("user_id = ?", v.User.ID).Scan(context.Background(), &queued)
			if err != nil || len(queued) != 1 {
				t.Fatalf("queued mail: %d rows, %v", len(queued), err)
			}
			if !strings.Contains(queued[0], apptest.PublicURL+"/#/forgot") || strings.Contains(queued[0], "token=") {
				t.Errorf("the queued mail holds a reset link, or does not point at asking again:\n%s", queued[0])
			}
			// What goes out (needs the test mail server).
			relay(t, addr, mailtest.SMTPAddr(t))
			_, token, m := resetLink(t, v.User.Email, 1)
			if strings.Contains(queued[0], token) {
				t.Errorf("the outbox held the reset link's token")
			}
			if strings.Contains(m.Text, "#/forgot") {
				t.Errorf("the mail sent still holds the stand-in:\n%s", m.Text)
			}
			must(t, "confirm", confirmReset(t, e, token, newPassword), http.StatusNoContent, "")
		})
	}
}

// A reset mail still queued (the SMTP server is down) when its link ends
// is withdrawn, not sent later with a link that no longer works: the link
// ends when the password changes, or when an admin suspends the account.
func TestPasswordResetMailWithdrawn(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			addr := apptest.UnusedAddr(t) // nothing listens there until the relay starts
			e := apptest.Start(t, b, apptest.WithMail(t, "smtp://"+addr))
			admin := e.User(t, "admin", "root", "")
			changed, suspended, waiting := mailVolunteer(t, e, "Gita", "id"), mailVolunteer(t, e, "Hadi", "id"), mailVolunteer(t, e, "Indah", "id")
			for _, v := range []api.AuthResponse{changed, suspended, waiting} {
				must(t, "ask", askReset(t, e, v.User.Email), http.StatusAccepted, "")
				waitRows(t, e, "mail_outbox", "user_id = ?", 1, v.User.ID)
			}
			must(t, "change password", call(t, e, tok(changed), "POST", "/v1/me/password",
				map[string]any{"current_password": apptest.Password, "new_password": newPassword}), http.StatusOK, "")
			must(t, "suspend", call(t, e, tok(admin), "PATCH", "/v1/admin/users/"+suspended.User.ID, map[string]any{"status": "suspended"}), http.StatusOK, "")
			for _, v := range []api.AuthResponse{changed, suspended} {
				if n := count(t, e, "mail_outbox", "user_id = ?", v.User.ID); n != 0 {
					t.Errorf("%s: %d reset mails still queued after the link ended, want 0", v.User.Name, n)
				}
			}
			relay(t, addr, mailtest.SMTPAddr(t))
			_, token, _ := resetLink(t, waiting.User.Email, 1)
			must(t, "the link still in force", confirmReset(t, e, token, newPassword), http.StatusNoContent, "")
			waitRows(t, e, "mail_outbox", "1 = 1", 0)
			for _, v := range []api.AuthResponse{changed, suspended} {
				if n := len(mailtest.Find(t, v.User.Email)); n != 0 {
					t.Errorf("%s: %d mails arrived with a link that had ended", v.User.Name, n)
				}
			}
		})
	}
}

// relay listens on addr and forwards each connection to target, until the
// test ends: the SMTP server "comes back" at the address the app was given.
func relay(t testing.TB, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("relay on %s: %v", addr, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { io.Copy(s, c); s.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, s)
			})
		}
	})
}

// Without an SMTP server the reset is refused alike for every email, and an
// admin's reset link (jarimu admin reset-password) works instead.
func TestPasswordResetWithoutSMTP(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := volunteer(t, e, "Gita")
		known, unknown := askReset(t, e, v.User.Email), askReset(t, e, "tidak.ada@example.org")
		must(t, "known", known, http.StatusConflict, "reset-by-admin")
		must(t, "unknown", unknown, http.StatusConflict, "reset-by-admin")
		if pk, pu := known.Problem(t), unknown.Problem(t); pk.Detail != pu.Detail {
			t.Errorf("details differ: %q, %q", pk.Detail, pu.Detail)
		}
		link, err := e.App.Auth.AdminResetLink(context.Background(), v.User.Email, "http://127.0.0.1:8080")
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(link)
		if err != nil || u.Query().Get("token") == "" || u.Fragment != "/reset-password" {
			t.Fatalf("link %q", link)
		}
		must(t, "confirm", confirmReset(t, e, u.Query().Get("token"), newPassword), http.StatusNoContent, "")
		must(t, "new password", login(t, e, v.User.Email, newPassword, ""), http.StatusOK, "")
		if _, err := e.App.Auth.AdminResetLink(context.Background(), "tidak.ada@example.org", "http://x"); err == nil {
			t.Error("a link for an unknown email")
		}
	})
}

// A coordinator has no way to a member's password: the admin calls refuse
// them, and asking for a reset of the member's email sends the link to the
// member's mailbox alone, never in an answer.
func TestCoordinatorCannotResetMember(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		coord := mailVolunteer(t, e, "Koordinator", "id")
		member := mailVolunteer(t, e, "Anggota", "id")
		officer := e.User(t, api.RoleOfficer, "Petugas", "")
		o := createOrg(t, e, tok(officer), "", coord.User.Email)
		addMember(t, e, tok(coord), o, member)

		must(t, "suspend member", call(t, e, tok(coord), "PATCH", "/v1/admin/users/"+member.User.ID, map[string]any{"status": "suspended"}), http.StatusForbidden, "")
		must(t, "read member", call(t, e, tok(coord), "GET", "/v1/admin/users/"+member.User.ID, nil), http.StatusForbidden, "")
		r := call(t, e, tok(coord), "POST", "/v1/auth/password-reset", map[string]any{"email": member.User.Email})
		must(t, "reset member", r, http.StatusAccepted, "")
		if strings.Contains(string(r.Body), "token") {
			t.Fatalf("the answer carries a token: %s", r.Body)
		}
		mailtest.Await(t, member.User.Email, 1, 15*time.Second)
		if n := len(mailtest.Find(t, coord.User.Email)); n != 0 {
			t.Errorf("the coordinator got %d mails", n)
		}
		must(t, "member's password unchanged", login(t, e, member.User.Email, apptest.Password, ""), http.StatusOK, "")
	}, apptest.WithMail(t, ""))
}

// Instances share one outbox: every message goes out once, whichever
// instance sends it (PostgreSQL: FOR UPDATE SKIP LOCKED).
func TestMailOutboxSharedByInstances(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			one, two := apptest.Two(t, b, apptest.WithMail(t, ""))
			ctx := context.Background()
			tag := auth.NewID()[19:]
			var to []string
			err := one.App.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				now, err := one.App.DB.Now(ctx, tx)
				if err != nil {
					return err
				}
				for i := 0; i < 30; i++ {
					addr := fmt.Sprintf("antrian.%s.%d@example.org", tag, i)
					to = append(to, addr)
					m := mail.Message{Kind: "test", To: addr, Subject: "Uji antrian " + tag, Text: "isi", HTML: "<p>isi</p>"}
					if err := mail.Enqueue(ctx, tx, m, now, time.Hour); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			one.App.Mail.Kick()
			two.App.Mail.Kick()
			for _, addr := range to {
				mailtest.Await(t, addr, 1, 20*time.Second)
			}
			waitRows(t, one, "mail_outbox", "1 = 1", 0)
			time.Sleep(300 * time.Millisecond)
			sent := one.App.Mail.Stats.Sent.Load() + two.App.Mail.Stats.Sent.Load()
			for _, addr := range to {
				if n := len(mailtest.Find(t, addr)); n != 1 {
					t.Errorf("%s got %d mails, want 1", addr, n)
				}
			}
			if sent != 30 {
				t.Errorf("the instances sent %d messages, want 30", sent)
			}
		})
	}
}
