package textrule

import (
	"errors"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error // nil: accepted
	}{
		{"plain", "Sari Wulandari", "Sari Wulandari", nil},
		{"trimmed", "  Komite Pemantau  ", "Komite Pemantau", nil},
		{"decomposed é composes", "Rene\u0301", "Ren\u00e9", nil},
		{"composed stays", "Ren\u00e9", "Ren\u00e9", nil},
		{"Arabic script", "\u0639\u0644\u064a", "\u0639\u0644\u064a", nil},
		{"emoji without joiner", "Relawan \U0001F5F3", "Relawan \U0001F5F3", nil},
		{"no-break space is a space", "Sari\u00a0W", "Sari\u00a0W", nil},
		{"right-to-left override", "Sari\u202egpj.exe", "", errInvisible},
		{"left-to-right embedding", "a\u202ab", "", errInvisible},
		{"pop directional formatting", "a\u202cb", "", errInvisible},
		{"isolate", "a\u2066b\u2069", "", errInvisible},
		{"first strong isolate", "a\u2068b", "", errInvisible},
		{"left-to-right mark", "a\u200eb", "", errInvisible},
		{"right-to-left mark", "a\u200fb", "", errInvisible},
		{"Arabic letter mark", "a\u061cb", "", errInvisible},
		{"zero-width space", "Ba\u200bwaslu", "", errInvisible},
		{"zero-width non-joiner", "a\u200cb", "", errInvisible},
		{"zero-width joiner", "a\u200db", "", errInvisible},
		{"word joiner", "a\u2060b", "", errInvisible},
		{"byte order mark", "\ufeffSari", "", errInvisible},
		{"soft hyphen", "Ba\u00adwaslu", "", errInvisible},
		{"Mongolian vowel separator", "a\u180eb", "", errInvisible},
		{"tag character", "a\U000E0041", "", errInvisible},
		{"Hangul filler", "\u3164", "", errInvisible},
		{"combining grapheme joiner", "a\u034fb", "", errInvisible},
		{"NUL", "a\x00b", "", errControl},
		{"newline", "a\nb", "", errControl},
		{"tab", "a\tb", "", errControl},
		{"DEL", "a\x7fb", "", errControl},
		{"C1 control", "a\u0085b", "", errControl},
		{"line separator", "a\u2028b", "", errBreak},
		{"paragraph separator", "a\u2029b", "", errBreak},
		{"private use", "a\ue000b", "", errPrivate},
		{"non-character", "a\ufffeb", "", errPrivate},
		{"invalid UTF-8", "a\xffb", "", ErrUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Line(tt.in)
			if !errors.Is(err, tt.err) || tt.err == nil && err != nil {
				t.Fatalf("Line(%q) error %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// A refusal names the character and where it is, so a person can find it.
func TestLineNamesTheCharacter(t *testing.T) {
	_, err := Line("ab\u202ec")
	if err == nil || !strings.Contains(err.Error(), "U+202E at byte 2") {
		t.Errorf("got %v, want it to name U+202E at byte 2", err)
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"paragraphs and tabs", "Baris satu\n\tbaris dua\r\n", "Baris satu\n\tbaris dua", nil},
		{"decomposed composes", "cafe\u0301", "caf\u00e9", nil},
		{"emoji sequence keeps its joiner", "keluarga \U0001F468\u200d\U0001F469\u200d\U0001F467", "keluarga \U0001F468\u200d\U0001F469\u200d\U0001F467", nil},
		{"right-to-left mark stays", "a\u200fb", "a\u200fb", nil},
		{"right-to-left override", "lihat \u202etxt.exe", "", errReorder},
		{"left-to-right override", "a\u202db", "", errReorder},
		{"isolate", "a\u2067b", "", errReorder},
		{"pop directional isolate", "a\u2069b", "", errReorder},
		{"NUL", "a\x00b", "", errControl},
		{"escape", "a\x1b[31mb", "", errControl},
		{"invalid UTF-8", "\xc3", "", ErrUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Lines(tt.in)
			if !errors.Is(err, tt.err) || tt.err == nil && err != nil {
				t.Fatalf("Lines(%q) error %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Lines(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", "sari@example.org", "sari@example.org", nil},
		{"lower-cased", "Sari.W@Example.ORG", "sari.w@example.org", nil},
		{"plus and dots", "sari.w+pemilu@mail.example.org", "sari.w+pemilu@mail.example.org", nil},
		{"internationalised domain", "ana@b\u00fccher.example", "ana@xn--bcher-kva.example", nil},
		{"upper-case internationalised domain", "ana@B\u00dcCHER.example", "ana@xn--bcher-kva.example", nil},
		{"already ASCII form", "ana@xn--bcher-kva.example", "ana@xn--bcher-kva.example", nil},
		{"Cyrillic o in the domain is another domain", "officer@bawaslu.g\u043e.id", "officer@bawaslu.xn--g-1tb.id", nil},
		{"Cyrillic o before the @", "\u043efficer@bawaslu.go.id", "", ErrEmailLocal},
		{"accented local part", "jos\u00e9@example.org", "", ErrEmailLocal},
		{"zero-width space in the domain", "ana@exam\u200bple.org", "", ErrEmail},
		{"soft hyphen in the domain", "ana@exam\u00adple.org", "", ErrEmail},
		{"space", "ana maria@example.org", "", ErrEmail},
		{"display name", "Ana <ana@example.org>", "", ErrEmail},
		{"no @", "ana.example.org", "", ErrEmail},
		{"nothing before @", "@example.org", "", ErrEmail},
		{"nothing after @", "ana@", "", ErrEmail},
		{"undotted domain", "ana@localhost", "", ErrEmailDomain},
		{"trailing dot", "ana@example.org.", "", ErrEmailDomain},
		{"underscore in the domain", "ana@ex_ample.org", "", ErrEmailDomain},
		{"leading hyphen label", "ana@-example.org", "", ErrEmailDomain},
		{"bad punycode", "ana@xn--zz-.org", "", ErrEmailDomain},
		{"label too long", "ana@" + strings.Repeat("a", 64) + ".org", "", ErrEmailDomain},
		{"too long", strings.Repeat("a", 64) + "@" + strings.Repeat(strings.Repeat("b", 60)+".", 4) + "org", "", ErrEmail},
		{"control character", "ana\x01@example.org", "", ErrEmail},
		{"invalid UTF-8", "ana@ex\xffample.org", "", ErrEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Email(tt.in)
			if !errors.Is(err, tt.err) || tt.err == nil && err != nil {
				t.Fatalf("Email(%q) error %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Email(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// The stored form is a fixed point: storing it again changes nothing, so a
// login with the stored address finds the account.
func TestEmailIdempotent(t *testing.T) {
	for _, in := range []string{"Ana@B\u00fccher.Example", "x@bawaslu.g\u043e.id", "Sari@Example.org"} {
		once, err := Email(in)
		if err != nil {
			t.Fatalf("Email(%q): %v", in, err)
		}
		if twice, err := Email(once); err != nil || twice != once {
			t.Errorf("Email(%q) = %q, %v; want %q", once, twice, err, once)
		}
	}
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{"Sari", "Rene\u0301", "a\u202eb", " x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Line(s)
		if err != nil {
			return
		}
		if again, err := Line(out); err != nil || again != out {
			t.Errorf("Line(%q) = %q, but Line of that = %q, %v", s, out, again, err)
		}
		for _, r := range out {
			if lineRune(r) != nil {
				t.Errorf("Line(%q) kept %U", s, r)
			}
		}
	})
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"sari@example.org", "ana@b\u00fccher.example", "\u043e@x.id", "a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Email(s)
		if err != nil {
			return
		}
		for i := 0; i < len(out); i++ {
			if out[i] <= ' ' || out[i] >= 0x7f {
				t.Fatalf("Email(%q) = %q, not printable ASCII", s, out)
			}
		}
		if again, err := Email(out); err != nil || again != out {
			t.Errorf("Email(%q) = %q, but Email of that = %q, %v", s, out, again, err)
		}
	})
}
