package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/notice"
)

// ---- text that lies about itself is refused ---------------------------------------

// refusedField checks a 422 that names field and the character at fault.
func refusedField(t testing.TB, what string, r apptest.Response, field, char string) {
	t.Helper()
	if !check(t, what, r, http.StatusUnprocessableEntity, "validation") {
		return
	}
	for _, f := range r.Problem(t).Errors {
		if f.Field == field && strings.Contains(f.Message, char) {
			return
		}
	}
	t.Errorf("%s: the 422 does not name %s and %s: %s", what, field, char, r.Body)
}

// A name with a right-to-left override, or with invisible characters, is
// refused at signup and when an admin makes an account; nothing is stored;
// a plain name goes through.
func TestNamesRefuseBidiAndInvisibleCharacters(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		users := e.Count(t, "users")
		for name, char := range map[string]string{
			"Sari \u202egnp.exe":   "U+202E",
			"Ba\u200bwaslu":        "U+200B",
			"\u2066Sari\u2069":     "U+2066",
			"Sari\u00ad":           "U+00AD",
			"Petugas\u200d Resmi":  "U+200D",
			"\ufeffPetugas":        "U+FEFF",
			"Sari\u200e":           "U+200E",
			"\u3164":               "U+3164",
			"Sari\u2028Wulandari":  "U+2028",
			"Sari\u0007Wulandari":  "U+0007",
			"Sari\u061c Wulandari": "U+061C",
		} {
			r := call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"privacy_version": notice.Version, "email": "sari.bidi@example.org", "password": apptest.Password, "name": name})
			refusedField(t, "signup named "+char, r, "name", char)
			r = call(t, e, tok(admin), "POST", "/v1/admin/users", map[string]any{"email": "petugas.bidi@bawaslu.example", "password": apptest.Password, "name": name, "role": "officer"})
			refusedField(t, "staff account named "+char, r, "name", char)
		}
		if n := e.Count(t, "users"); n != users {
			t.Fatalf("refused names made %d accounts", n-users)
		}
		r := call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"privacy_version": notice.Version, "email": "sari.bidi@example.org", "password": apptest.Password, "name": "Sari Wulandari"})
		must(t, "signup with a plain name", r, http.StatusCreated, "")
	})
}

// Org names and accreditation numbers, task titles and alert titles refuse
// invisible characters; an alert's body refuses a bidi override (free text
// keeps the joiners emoji need); plain text goes through.
func TestTitlesRefuseInvisibleCharacters(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		w := newReportWorld(t, e, "")
		body := orgBody("31", "")
		body["name"] = "Komite\u200d Pemantau"
		refusedField(t, "org name with a zero-width joiner", call(t, e, tok(w.offNat), "POST", "/v1/orgs", body), "name", "U+200D")
		body = orgBody("31", "")
		body["accreditation_number"] = "123/PP\u202e.01"
		refusedField(t, "accreditation number with an override", call(t, e, tok(w.offNat), "POST", "/v1/orgs", body), "accreditation_number", "U+202E")
		body = orgBody("31", "")
		body["name"] = "Komite Pemantau Pemilu Jujur"
		must(t, "org with a plain name", call(t, e, tok(w.offNat), "POST", "/v1/orgs", body), http.StatusCreated, "")

		refusedField(t, "task title with a zero-width space", call(t, e, tok(w.coordA), "POST", "/v1/tasks",
			taskBody(w.orgA.ID, 1, "title", "Pantau\u200b akun")), "title", "U+200B")
		tk := createTask(t, e, tok(w.coordA), taskBody(w.orgA.ID, 1))
		refusedField(t, "task title changed to a soft hyphen", call(t, e, tok(w.coordA), "PATCH", taskPath(tk.ID, ""),
			map[string]any{"title": "Pan\u00adtau akun"}), "title", "U+00AD")

		a := alertBody("31")
		a["title"] = "Resmi: \u202eTPS ditutup"
		refusedField(t, "alert title with an override", call(t, e, tok(w.off31), "POST", "/v1/alerts", a), "title", "U+202E")
		a = alertBody("31")
		a["body"] = "Buka tautan \u202ekpu.go.id\u202c segera."
		refusedField(t, "alert body with an override", call(t, e, tok(w.off31), "POST", "/v1/alerts", a), "body", "U+202E")
		a = alertBody("31")
		a["body"] = "Keluarga \U0001F468\u200d\U0001F469\u200d\U0001F467 memilih di TPS 12."
		if got := createAlert(t, e, tok(w.off31), a); got.Body != a["body"] {
			t.Errorf("alert body: got %q, want %q", got.Body, a["body"])
		}
	})
}

// Text is stored in NFC: a name typed with a combining accent (e + U+0301)
// reads back with the composed é, from /v1/me and from the admin's view,
// and so does an org name on the public registry.
func TestTextIsStoredComposed(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		const decomposed, composed = "Rene\u0301 Situmorang", "Ren\u00e9 Situmorang"
		admin := e.User(t, "admin", "root", "")
		r := call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"privacy_version": notice.Version, "email": "rene@example.org", "password": apptest.Password, "name": decomposed})
		must(t, "signup", r, http.StatusCreated, "")
		var signed api.AuthResponse
		r.Decode(t, &signed)
		if got := me(t, e, tok(signed)).User.Name; got != composed {
			t.Errorf("/v1/me name: got %q, want %q", got, composed)
		}
		r = call(t, e, tok(admin), "GET", "/v1/admin/users/"+signed.User.ID, nil)
		must(t, "admin reads the account", r, http.StatusOK, "")
		var u api.User
		r.Decode(t, &u)
		if u.Name != composed {
			t.Errorf("admin view name: got %q, want %q", u.Name, composed)
		}

		body := orgBody("", "")
		body["name"] = "Pemantau Cafe\u0301 Demokrasi"
		r = call(t, e, tok(admin), "POST", "/v1/orgs", body)
		must(t, "create org", r, http.StatusCreated, "")
		var o api.Org
		r.Decode(t, &o)
		r = call(t, e, "", "GET", "/v1/orgs/"+o.ID, nil)
		must(t, "GET org", r, http.StatusOK, "")
		r.Decode(t, &o)
		if o.Name != "Pemantau Caf\u00e9 Demokrasi" {
			t.Errorf("registry name: got %q, want the composed form", o.Name)
		}
	})
}

// An email is ASCII before the @: a look-alike of an officer's address
// with a Cyrillic о is refused. In the domain, a Cyrillic о makes another
// domain, stored in its xn-- form, which is not the officer's account. An
// internationalised domain is stored as xn--, and its owner logs in with
// either spelling.
func TestEmailsAreASCII(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, "admin", "root", "")
		r := call(t, e, tok(admin), "POST", "/v1/admin/users", map[string]any{"email": "officer@bawaslu.go.id", "password": apptest.Password, "name": "Petugas", "role": "officer"})
		must(t, "the officer's account", r, http.StatusCreated, "")
		var officer api.User
		r.Decode(t, &officer)

		users := e.Count(t, "users")
		lookalike := "\u043efficer@bawaslu.go.id" // Cyrillic о
		r = call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"privacy_version": notice.Version, "email": lookalike, "password": apptest.Password, "name": "Petugas"})
		refusedField(t, "signup as the look-alike", r, "email", "ASCII")
		r = call(t, e, tok(admin), "POST", "/v1/admin/users", map[string]any{"email": lookalike, "password": apptest.Password, "name": "Petugas", "role": "officer"})
		refusedField(t, "staff account as the look-alike", r, "email", "ASCII")
		if n := e.Count(t, "users"); n != users {
			t.Fatalf("look-alike emails made %d accounts", n-users)
		}
		r = call(t, e, "", "POST", "/v1/auth/login", map[string]any{"email": lookalike, "password": apptest.Password})
		check(t, "login as the look-alike", r, http.StatusUnauthorized, "invalid-credentials")

		// A Cyrillic о in the domain is another domain, visibly.
		r = call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"privacy_version": notice.Version, "email": "officer@bawaslu.g\u043e.id", "password": apptest.Password, "name": "Bukan Petugas"})
		must(t, "signup in the look-alike domain", r, http.StatusCreated, "")
		var other api.AuthResponse
		r.Decode(t, &other)
		if other.User.Email != "officer@bawaslu.xn--g-1tb.id" || other.User.ID == officer.ID || other.User.Role != api.RoleVolunteer {
			t.Errorf("look-alike domain: got %s %s %s, want a volunteer officer@bawaslu.xn--g-1tb.id apart from the officer", other.User.ID, other.User.Email, other.User.Role)
		}
		r = call(t, e, "", "POST", "/v1/auth/login", map[string]any{"email": "officer@bawaslu.go.id", "password": apptest.Password})
		must(t, "the officer logs in", r, http.StatusOK, "")
		var in api.AuthResponse
		r.Decode(t, &in)
		if in.User.ID != officer.ID {
			t.Errorf("the officer's login reached account %s, want %s", in.User.ID, officer.ID)
		}

		// An internationalised domain: stored as xn--, logged in either way.
		r = call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"privacy_version": notice.Version, "email": "Ana@B\u00fccher.Example", "password": apptest.Password, "name": "Ana"})
		must(t, "signup with an internationalised domain", r, http.StatusCreated, "")
		var ana api.AuthResponse
		r.Decode(t, &ana)
		if ana.User.Email != "ana@xn--bcher-kva.example" {
			t.Errorf("stored email: got %q, want ana@xn--bcher-kva.example", ana.User.Email)
		}
		if got := me(t, e, tok(ana)).User.Email; got != "ana@xn--bcher-kva.example" {
			t.Errorf("/v1/me email: got %q", got)
		}
		for _, typed := range []string{"ana@b\u00fccher.example", "ANA@xn--bcher-kva.example"} {
			r = call(t, e, "", "POST", "/v1/auth/login", map[string]any{"email": typed, "password": apptest.Password})
			if check(t, "login as "+typed, r, http.StatusOK, "") {
				r.Decode(t, &in)
				if in.User.ID != ana.User.ID {
					t.Errorf("login as %s reached %s, want %s", typed, in.User.ID, ana.User.ID)
				}
			}
		}
		r = call(t, e, "", "POST", "/v1/auth/signup", map[string]any{"privacy_version": notice.Version, "email": "ana@xn--bcher-kva.example", "password": apptest.Password, "name": "Ana Lagi"})
		check(t, "the same address in its xn-- form", r, http.StatusConflict, "email-taken")

		// An org names its first coordinator by either spelling.
		r = call(t, e, tok(admin), "POST", "/v1/orgs", orgBody("", "ana@b\u00fccher.example"))
		must(t, "org with an internationalised coordinator email", r, http.StatusCreated, "")
		if ms := me(t, e, tok(ana)).Memberships; len(ms) != 1 || ms[0].Role != api.RoleCoordinator {
			t.Errorf("Ana's memberships: %+v, want one as coordinator", ms)
		}
	})
}
