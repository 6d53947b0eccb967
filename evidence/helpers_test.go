package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Tiny files that start like the real thing: the signature and a few bytes.
var (
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 17)...)
	jpegFile = []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0xff, 0xd9}
	webpFile = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
	pdfFile  = []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
)

// mustStore makes a store in a fresh directory.
func mustStore(t testing.TB) *Store {
	t.Helper()
	s, err := NewStore(filepath.Join(t.TempDir(), "evidence"))
	if err != nil {
		t.Fatalf("NewStore: got error %v, want none", err)
	}
	return s
}

// mustPut stores content and fails the test on error.
func mustPut(t testing.TB, s *Store, content []byte) Object {
	t.Helper()
	obj, err := s.Put(t.Context(), bytes.NewReader(content), MaxSize)
	if err != nil {
		t.Fatalf("Put: got error %v, want none", err)
	}
	return obj
}

func shaOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// storedFiles lists the regular files of the store outside tmp/.
func storedFiles(t testing.TB, s *Store) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == s.tmp {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk store: %v", err)
	}
	return files
}

// assertTmpEmpty fails the test when an upload left a temporary file behind.
func assertTmpEmpty(t testing.TB, s *Store) {
	t.Helper()
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		t.Fatalf("read tmp: %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("tmp: got %d entries (first %q), want none", len(entries), entries[0].Name())
	}
}

// generator yields n bytes: head, then a repeating filler, without holding
// them all in memory.
type generator struct {
	head []byte
	n    int64 // bytes still to yield
	off  int64
}

func (g *generator) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	for i := range p {
		if g.off < int64(len(g.head)) {
			p[i] = g.head[g.off]
		} else {
			p[i] = byte(g.off)
		}
		g.off++
	}
	g.n -= int64(len(p))
	return len(p), nil
}
