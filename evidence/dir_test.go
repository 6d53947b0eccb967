package evidence

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/problem"
)

func TestNewDirCreatesDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "evidence")
	if _, err := NewDir(dir); err != nil {
		t.Fatalf("NewDir: got error %v, want none", err)
	}
	for _, d := range []string{dir, filepath.Join(dir, "tmp")} {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: got %v, %v, want a 0700 directory", d, fi, err)
		}
	}
	if _, err := NewDir(dir); err != nil {
		t.Errorf("NewDir again: got error %v, want none", err)
	}
}

func TestOpen(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		obj := mustPut(t, u, webpFile)
		got, err := read(t, u, obj.SHA256, 0, -1)
		if err != nil || !bytes.Equal(got, webpFile) {
			t.Errorf("Open then read: got %q, %v, want %q", got, err, webpFile)
		}
	})
}

// Open reads any range: from an offset, for a length, to the end.
func TestOpenRange(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		obj := mustPut(t, u, pdfFile)
		n := int64(len(pdfFile))
		tests := []struct {
			off, n int64
			want   []byte
		}{
			{0, 5, pdfFile[:5]},
			{9, 6, pdfFile[9:15]},
			{9, -1, pdfFile[9:]},
			{n - 1, 1, pdfFile[n-1:]},
			{3, 0, nil},
		}
		for _, tt := range tests {
			got, err := read(t, u, obj.SHA256, tt.off, tt.n)
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("Open(%d, %d): got %q, %v, want %q", tt.off, tt.n, got, err, tt.want)
			}
		}
	})
}

func TestOpenMissing(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		_, err := u.Open(t.Context(), shaOf([]byte("never stored")), 0, -1)
		if problem.KindOf(err) != problem.NotFound {
			t.Errorf("Open: got %v, want a NotFound problem", err)
		}
		if u.dir != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open on disk: got %v, want it to match fs.ErrNotExist", err)
		}
	})
}

func TestBadIDsRefused(t *testing.T) {
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
	eachStore(t, func(t *testing.T, u *under) {
		mustPut(t, u, pngFile)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if f, err := u.Open(t.Context(), tt.id, 0, -1); !problem.Is(err, "evidence-id") || problem.KindOf(err) != problem.Invalid {
					t.Errorf("Open(%q): got %v, %v, want an invalid evidence-id problem", tt.id, f, err)
				}
				if u.dir == nil {
					return
				}
				if p, err := u.dir.Path(tt.id); !problem.Is(err, "evidence-id") || p != "" {
					t.Errorf("Path(%q): got %q, %v, want an invalid evidence-id problem", tt.id, p, err)
				}
			})
		}
	})
}

// Each lists the stored files and nothing else that may lie in the
// directory.
func TestDirEach(t *testing.T) {
	s := mustDir(t)
	a, b := mustPut(t, s, pngFile), mustPut(t, s, pdfFile)
	stray := []string{filepath.Join(s.dir, "README"), filepath.Join(s.tmp, "put-123"), filepath.Join(s.dir, a.SHA256[:2], "x"),
		filepath.Join(s.dir, "zz", strings.Repeat("a", 64))}
	for _, p := range stray {
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if err := s.Each(t.Context(), func(sha string) error { got = append(got, sha); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !(got[0] == a.SHA256 && got[1] == b.SHA256 || got[0] == b.SHA256 && got[1] == a.SHA256) {
		t.Errorf("Each: got %q, want %s and %s", got, a.SHA256, b.SHA256)
	}
}
