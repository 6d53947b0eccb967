package evidence

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/problem"
)

func TestNewStoreCreatesDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "evidence")
	if _, err := NewStore(dir); err != nil {
		t.Fatalf("NewStore: got error %v, want none", err)
	}
	for _, d := range []string{dir, filepath.Join(dir, "tmp")} {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: got %v, %v, want a 0700 directory", d, fi, err)
		}
	}
	if _, err := NewStore(dir); err != nil {
		t.Errorf("NewStore again: got error %v, want none", err)
	}
}

func TestOpen(t *testing.T) {
	s := mustStore(t)
	obj := mustPut(t, s, webpFile)
	f, err := s.Open(obj.SHA256)
	if err != nil {
		t.Fatalf("Open: got error %v, want none", err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || string(got) != string(webpFile) {
		t.Errorf("Open then read: got %q, %v, want %q", got, err, webpFile)
	}
}

func TestOpenMissing(t *testing.T) {
	s := mustStore(t)
	_, err := s.Open(shaOf([]byte("never stored")))
	if problem.KindOf(err) != problem.NotFound || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open: got %v, want a NotFound problem matching fs.ErrNotExist", err)
	}
}

func TestBadIDsRefused(t *testing.T) {
	s := mustStore(t)
	valid := shaOf(pngFile)
	tests := []struct{ name, id string }{
		{"empty", ""},
		{"traversal", "../etc/passwd"},
		{"traversal of 64 bytes", "../../../../../../../../../../../../../../../../../../../etc/passwd"[:64]},
		{"absolute", "/etc/passwd"},
		{"upper-case hex", strings.ToUpper(valid)},
		{"short", valid[:63]},
		{"long", valid + "0"},
		{"not hex", strings.Repeat("g", 64)},
		{"slash inside", valid[:2] + "/" + valid[3:]},
		{"tmp", "tmp"},
		{"nul", valid[:63] + "\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, err := s.Open(tt.id); !problem.Is(err, "evidence-id") || problem.KindOf(err) != problem.Invalid {
				t.Errorf("Open(%q): got %v, %v, want an invalid evidence-id problem", tt.id, f, err)
			}
			if p, err := s.Path(tt.id); !problem.Is(err, "evidence-id") || p != "" {
				t.Errorf("Path(%q): got %q, %v, want an invalid evidence-id problem", tt.id, p, err)
			}
		})
	}
}
