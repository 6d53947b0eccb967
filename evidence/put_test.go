package evidence

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jarimu/jarimu/problem"
)

func TestPutAcceptsByContent(t *testing.T) {
	tests := []struct {
		name, wantType string
		content        []byte
	}{
		{"png", "image/png", pngFile},
		{"jpeg", "image/jpeg", jpegFile},
		{"webp", "image/webp", webpFile},
		{"pdf", "application/pdf", pdfFile},
		{"shortest pdf", "application/pdf", []byte("%PDF-")},
		{"shortest jpeg", "image/jpeg", []byte{0xff, 0xd8, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStore(t)
			obj := mustPut(t, s, tt.content)
			want := Object{SHA256: shaOf(tt.content), Size: int64(len(tt.content)), ContentType: tt.wantType}
			if obj != want {
				t.Errorf("Put: got %+v, want %+v", obj, want)
			}
			path, err := s.Path(obj.SHA256)
			if err != nil {
				t.Fatalf("Path: got error %v, want none", err)
			}
			if want := filepath.Join(s.dir, obj.SHA256[:2], obj.SHA256); path != want {
				t.Errorf("Path: got %q, want %q", path, want)
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, tt.content) {
				t.Errorf("stored file: got %q, %v, want %q", got, err, tt.content)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("stored file mode: got %v, %v, want 0600", fi.Mode().Perm(), err)
			}
			assertTmpEmpty(t, s)
		})
	}
}

// Put takes no name, so a file's name cannot change its type: only bytes.
func TestPutIgnoresFileNames(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		file     string
		content  []byte
		wantType string // "" for refused
	}{
		{"bukti.pdf", pngFile, "image/png"},
		{"tangkapan-layar.png", []byte("ini bukan gambar, hanya teks biasa\n"), ""},
		{"laporan.jpg", pdfFile, "application/pdf"},
		{"foto.webp", []byte("RIFF\x1a\x00\x00\x00WAVEfmt "), ""},
		{"poster.png", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := mustStore(t)
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			obj, err := s.Put(t.Context(), f, MaxSize)
			if tt.wantType == "" {
				if !problem.Is(err, "evidence-type") || problem.KindOf(err) != problem.Invalid {
					t.Errorf("Put(%s): got %+v, %v, want an invalid evidence-type problem", tt.file, obj, err)
				}
			} else if err != nil || obj.ContentType != tt.wantType {
				t.Errorf("Put(%s): got %q, %v, want %q", tt.file, obj.ContentType, err, tt.wantType)
			}
			assertTmpEmpty(t, s)
		})
	}
}

func TestPutRefusals(t *testing.T) {
	tests := []struct {
		name     string
		r        io.Reader
		max      int64
		wantKind problem.Kind
		wantType string
	}{
		{"empty", bytes.NewReader(nil), MaxSize, problem.Invalid, "evidence-empty"},
		{"text", bytes.NewReader([]byte("hello")), MaxSize, problem.Invalid, "evidence-type"},
		{"one byte", bytes.NewReader([]byte{0xff}), MaxSize, problem.Invalid, "evidence-type"},
		{"one byte over small max", bytes.NewReader(append(jpegFile, 0)), int64(len(jpegFile)), problem.TooLarge, "too-large"},
		{"max shorter than signature", bytes.NewReader(pngFile), 4, problem.TooLarge, "too-large"},
		{"one byte over 10 MiB", &generator{head: jpegFile, n: MaxSize + 1}, MaxSize, problem.TooLarge, "too-large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStore(t)
			obj, err := s.Put(t.Context(), tt.r, tt.max)
			if problem.KindOf(err) != tt.wantKind || !problem.Is(err, tt.wantType) {
				t.Errorf("Put: got %+v, %v, want a %s problem of kind %d", obj, err, tt.wantType, tt.wantKind)
			}
			if files := storedFiles(t, s); len(files) != 0 {
				t.Errorf("stored files: got %q, want none", files)
			}
			assertTmpEmpty(t, s)
		})
	}
}

func TestPutExactlyMax(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
		max  int64
	}{
		{"small max", bytes.NewReader(jpegFile), int64(len(jpegFile))},
		{"10 MiB", &generator{head: jpegFile, n: MaxSize}, MaxSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStore(t)
			obj, err := s.Put(t.Context(), tt.r, tt.max)
			if err != nil || obj.Size != tt.max {
				t.Errorf("Put: got size %d, %v, want %d", obj.Size, err, tt.max)
			}
			assertTmpEmpty(t, s)
		})
	}
}

func TestPutNonPositiveMax(t *testing.T) {
	s := mustStore(t)
	for _, max := range []int64{0, -1} {
		if _, err := s.Put(t.Context(), bytes.NewReader(pngFile), max); err == nil {
			t.Errorf("Put with max %d: got no error, want one", max)
		}
	}
	assertTmpEmpty(t, s)
}

func TestPutDuplicateStoredOnce(t *testing.T) {
	s := mustStore(t)
	first := mustPut(t, s, pngFile)
	second := mustPut(t, s, pngFile)
	if first != second {
		t.Errorf("second Put: got %+v, want %+v", second, first)
	}
	mustPut(t, s, jpegFile)
	if files := storedFiles(t, s); len(files) != 2 {
		t.Errorf("stored files: got %d (%q), want 2", len(files), files)
	}
	assertTmpEmpty(t, s)
}

func TestPutConcurrentDuplicates(t *testing.T) {
	s := mustStore(t)
	content := append(bytes.Clone(jpegFile), bytes.Repeat([]byte("x"), 256<<10)...)
	const n = 8
	objs := make([]Object, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			objs[i], errs[i] = s.Put(t.Context(), bytes.NewReader(content), MaxSize)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || objs[i].SHA256 != shaOf(content) {
			t.Errorf("Put %d: got %+v, %v, want sha256 %s", i, objs[i], errs[i], shaOf(content))
		}
	}
	files := storedFiles(t, s)
	if len(files) != 1 {
		t.Fatalf("stored files: got %d (%q), want 1", len(files), files)
	}
	if got, err := os.ReadFile(files[0]); err != nil || !bytes.Equal(got, content) {
		t.Errorf("stored file: got %d bytes, %v, want the %d uploaded", len(got), err, len(content))
	}
	assertTmpEmpty(t, s)
}

func TestPutCancelled(t *testing.T) {
	s := mustStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Put(ctx, bytes.NewReader(pngFile), MaxSize); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: got %v, want context.Canceled", err)
	}
	assertTmpEmpty(t, s)
}

// failingReader yields a valid header, then fails.
type failingReader struct{ sent bool }

var errBroken = errors.New("connection reset")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.sent {
		return 0, errBroken
	}
	f.sent = true
	return copy(p, pdfFile), nil
}

func TestPutReadError(t *testing.T) {
	s := mustStore(t)
	if _, err := s.Put(t.Context(), &failingReader{}, MaxSize); !errors.Is(err, errBroken) {
		t.Errorf("Put: got %v, want %v", err, errBroken)
	}
	if files := storedFiles(t, s); len(files) != 0 {
		t.Errorf("stored files: got %q, want none", files)
	}
	assertTmpEmpty(t, s)
}
