package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
)

// A volunteer edits their account and changes their password at the
// command line; the session on this computer goes on, another one ends.
func TestCLIMeEditAndPassword(t *testing.T) {
	w := newWorld(t)
	w.volunteer("sari@example.org")
	other := w.client("sari@example.org")
	sari := w.person("sari@example.org")

	out := sari.must("me", "edit", "--name", "Sari Wulandari", "--region", "3273", "--language", "en")
	if !strings.Contains(out, "Sari Wulandari") || !strings.Contains(out, "3273") || !strings.Contains(out, "en") {
		t.Fatalf("me edit: %q", out)
	}
	if _, err := sari.run("me", "edit"); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Fatalf("me edit without flags: %v", err)
	}
	if _, err := sari.run("me", "edit", "--language", "jv"); err == nil || !strings.Contains(err.Error(), "language") {
		t.Fatalf("bad language: %v", err)
	}
	if _, err := sari.runIn("bukan-sandi-lama-2029\nsandi-baru-sari-2029\n", "password"); err == nil || !strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("wrong current password: %v", err)
	}
	out, err := sari.runIn(testPassword+"\nsandi-baru-sari-2029\n", "password")
	if err != nil || !strings.Contains(out, "password changed") {
		t.Fatalf("password: %q, %v", out, err)
	}
	if out := sari.must("me"); !strings.Contains(out, "Sari Wulandari") {
		t.Fatalf("me after the change: %q", out)
	}
	if _, err := other.Me(context.Background()); client.StatusOf(err) != 401 {
		if _, err := other.Refresh(context.Background()); client.StatusOf(err) != 401 {
			t.Fatalf("the other session still works: %v", err)
		}
	}
	if _, err := client.New(w.url).Login(context.Background(), "sari@example.org", "sandi-baru-sari-2029"); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
}

// Without SMTP an admin prints a reset link once; it sets the password.
func TestAdminResetPasswordCommand(t *testing.T) {
	dir := t.TempDir()
	env := envFunc(map[string]string{"JARIMU_DATA_DIR": dir, "JARIMU_PUBLIC_URL": "https://jarimu.example.org"})
	args := []string{"admin", "create-user", "--email", "lupa@bawaslu.go.id", "--name", "Lupa", "--role", "officer"}
	if err := run(context.Background(), args, env, strings.NewReader(testPassword+"\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "reset-password", "--email", "LUPA@bawaslu.go.id"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(out.String(), "https://jarimu.example.org/?token=")
	if i < 0 {
		t.Fatalf("no link in %q", out.String())
	}
	link, err := url.Parse(strings.TrimSpace(out.String()[i:]))
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"admin", "reset-password", "--email", "tidak.ada@bawaslu.go.id"}, env, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("a link for an unknown email")
	}
	in := serve(t, map[string]string{"JARIMU_DATA_DIR": dir})
	c := client.New(in.URL)
	if err := c.RequestPasswordReset(context.Background(), "lupa@bawaslu.go.id"); client.StatusOf(err) != 409 {
		t.Fatalf("reset by mail without SMTP: %v, want 409 reset-by-admin", err)
	}
	if err := c.ConfirmPasswordReset(context.Background(), link.Query().Get("token"), "sandi-baru-petugas-2029"); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	resp, err := c.Login(context.Background(), "lupa@bawaslu.go.id", "sandi-baru-petugas-2029")
	if err != nil || !resp.ConsentDue || resp.User.Role != api.RoleOfficer {
		t.Fatalf("login with the new password: %+v, %v", resp, err)
	}
	if err := c.ConfirmPasswordReset(context.Background(), link.Query().Get("token"), "sandi-ketiga-petugas-2029"); client.StatusOf(err) != 401 {
		t.Fatalf("the link twice: %v, want 401", err)
	}
}
