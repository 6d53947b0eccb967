package evidence

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/s3test"
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
	eachStore(t, func(t *testing.T, u *under) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				obj := mustPut(t, u, tt.content)
				want := Object{SHA256: shaOf(tt.content), Size: int64(len(tt.content)), ContentType: tt.wantType}
				if obj != want {
					t.Errorf("Put: got %+v, want %+v", obj, want)
				}
				if got := u.stored(t); !slices.Contains(got, obj.SHA256[:2]+"/"+obj.SHA256) {
					t.Errorf("stored: got %q, want %s/%s among them", got, obj.SHA256[:2], obj.SHA256)
				}
				if got, err := read(t, u, obj.SHA256, 0, -1); err != nil || !bytes.Equal(got, tt.content) {
					t.Errorf("stored file: got %q, %v, want %q", got, err, tt.content)
				}
				if u.dir != nil {
					checkDiskFile(t, u.dir, obj.SHA256)
				}
				if u.s3 != nil {
					info, err := u.s3.Client.StatObject(t.Context(), u.s3.Name, s3test.Key(obj.SHA256), minio.StatObjectOptions{})
					if err != nil || info.ContentType != tt.wantType {
						t.Errorf("object: got Content-Type %q, %v, want %q", info.ContentType, err, tt.wantType)
					}
				}
				assertTmpEmpty(t, u.tmp)
			})
		}
	})
}

// checkDiskFile checks where and how the disk store keeps a file.
func checkDiskFile(t *testing.T, s *Dir, sha string) {
	t.Helper()
	path, err := s.Path(sha)
	if err != nil {
		t.Fatalf("Path: got error %v, want none", err)
	}
	if want := filepath.Join(s.dir, sha[:2], sha); path != want {
		t.Errorf("Path: got %q, want %q", path, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("stored file mode: got %v, %v, want 0600", fi, err)
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
	eachStore(t, func(t *testing.T, u *under) {
		for _, tt := range tests {
			t.Run(tt.file, func(t *testing.T) {
				path := filepath.Join(dir, tt.file)
				if err := os.WriteFile(path, tt.content, 0o600); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				obj, err := u.Put(t.Context(), f, MaxSize)
				if tt.wantType == "" {
					if !problem.Is(err, "evidence-type") || problem.KindOf(err) != problem.Invalid {
						t.Errorf("Put(%s): got %+v, %v, want an invalid evidence-type problem", tt.file, obj, err)
					}
				} else if err != nil || obj.ContentType != tt.wantType {
					t.Errorf("Put(%s): got %q, %v, want %q", tt.file, obj.ContentType, err, tt.wantType)
				}
				assertTmpEmpty(t, u.tmp)
			})
		}
	})
}

func TestPutRefusals(t *testing.T) {
	type test struct {
		name     string
		r        io.Reader
		max      int64
		wantKind problem.Kind
		wantType string
	}
	tests := func() []test { // readers are used up: fresh ones per store
		return []test{
			{"empty", bytes.NewReader(nil), MaxSize, problem.Invalid, "evidence-empty"},
			{"text", bytes.NewReader([]byte("hello")), MaxSize, problem.Invalid, "evidence-type"},
			{"one byte", bytes.NewReader([]byte{0xff}), MaxSize, problem.Invalid, "evidence-type"},
			{"one byte over small max", bytes.NewReader(append(jpegFile, 0)), int64(len(jpegFile)), problem.TooLarge, "too-large"},
			{"max shorter than signature", bytes.NewReader(pngFile), 4, problem.TooLarge, "too-large"},
			{"one byte over 10 MiB", &generator{head: jpegFile, n: MaxSize + 1}, MaxSize, problem.TooLarge, "too-large"},
		}
	}
	eachStore(t, func(t *testing.T, u *under) {
		for _, tt := range tests() {
			t.Run(tt.name, func(t *testing.T) {
				obj, err := u.Put(t.Context(), tt.r, tt.max)
				if problem.KindOf(err) != tt.wantKind || !problem.Is(err, tt.wantType) {
					t.Errorf("Put: got %+v, %v, want a %s problem of kind %d", obj, err, tt.wantType, tt.wantKind)
				}
				if files := u.stored(t); len(files) != 0 {
					t.Errorf("stored files: got %q, want none", files)
				}
				assertTmpEmpty(t, u.tmp)
			})
		}
	})
}

// Exactly the limit is accepted; 10 MiB goes to a bucket in two parts.
func TestPutExactlyMax(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		tests := []struct {
			name  string
			r     io.Reader
			max   int64
			parts int // of the S3 upload; 0: one PUT
		}{
			{"small max", bytes.NewReader(jpegFile), int64(len(jpegFile)), 0},
			{"10 MiB", &generator{head: jpegFile, n: MaxSize}, MaxSize, 2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				obj, err := u.Put(t.Context(), tt.r, tt.max)
				if err != nil || obj.Size != tt.max {
					t.Fatalf("Put: got size %d, %v, want %d", obj.Size, err, tt.max)
				}
				got, err := read(t, u, obj.SHA256, 0, -1)
				if err != nil || int64(len(got)) != tt.max || shaOf(got) != obj.SHA256 {
					t.Errorf("read back: got %d bytes hashing to %s, %v, want %d hashing to %s", len(got), shaOf(got), err, tt.max, obj.SHA256)
				}
				if u.s3 != nil {
					assertParts(t, u.s3, obj.SHA256, tt.parts)
				}
				assertTmpEmpty(t, u.tmp)
			})
		}
	})
}

// assertParts checks from the object's ETag how it was uploaded: a
// multipart upload's ETag ends in "-<parts>".
func assertParts(t *testing.T, b *s3test.Bucket, sha string, parts int) {
	t.Helper()
	info, err := b.Client.StatObject(t.Context(), b.Name, s3test.Key(sha), minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("stat object: %v", err)
	}
	_, suffix, multipart := strings.Cut(strings.Trim(info.ETag, `"`), "-")
	switch {
	case parts == 0 && multipart:
		t.Errorf("ETag %q: got a multipart upload, want one PUT", info.ETag)
	case parts > 0 && suffix != strconv.Itoa(parts):
		t.Errorf("ETag %q: want a multipart upload of %d parts (ending -%d)", info.ETag, parts, parts)
	}
}

func TestPutNonPositiveMax(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		for _, max := range []int64{0, -1} {
			if _, err := u.Put(t.Context(), bytes.NewReader(pngFile), max); err == nil {
				t.Errorf("Put with max %d: got no error, want one", max)
			}
		}
		assertTmpEmpty(t, u.tmp)
	})
}

func TestPutDuplicateStoredOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		first := mustPut(t, u, pngFile)
		second := mustPut(t, u, pngFile)
		if first != second {
			t.Errorf("second Put: got %+v, want %+v", second, first)
		}
		mustPut(t, u, jpegFile)
		if files := u.stored(t); len(files) != 2 {
			t.Errorf("stored files: got %d (%q), want 2", len(files), files)
		}
		assertTmpEmpty(t, u.tmp)
	})
}

// A bucket that has the file already is sent nothing: the object, altered
// behind the store's back (same size), is left as it is by a repeated Put.
func TestBucketPutSendsNothingTwice(t *testing.T) {
	u := mustBucketUnder(t)
	obj := mustPut(t, u, pdfFile)
	altered := bytes.ToUpper(pdfFile)
	if _, err := u.s3.Client.PutObject(t.Context(), u.s3.Name, s3test.Key(obj.SHA256), bytes.NewReader(altered), int64(len(altered)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if again := mustPut(t, u, pdfFile); again != obj {
		t.Errorf("second Put: got %+v, want %+v", again, obj)
	}
	if got, err := read(t, u, obj.SHA256, 0, -1); err != nil || !bytes.Equal(got, altered) {
		t.Errorf("object after the second Put: got %q, %v, want %q (untouched)", got, err, altered)
	}
	assertTmpEmpty(t, u.tmp)
}

func TestPutConcurrentDuplicates(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) { putConcurrentDuplicates(t, u) })
}

func putConcurrentDuplicates(t *testing.T, u *under) {
	content := append(bytes.Clone(jpegFile), bytes.Repeat([]byte("x"), 256<<10)...)
	const n = 8
	objs := make([]Object, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			objs[i], errs[i] = u.Put(t.Context(), bytes.NewReader(content), MaxSize)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || objs[i].SHA256 != shaOf(content) {
			t.Errorf("Put %d: got %+v, %v, want sha256 %s", i, objs[i], errs[i], shaOf(content))
		}
	}
	files := u.stored(t)
	if len(files) != 1 {
		t.Fatalf("stored files: got %d (%q), want 1", len(files), files)
	}
	if got, err := read(t, u, shaOf(content), 0, -1); err != nil || !bytes.Equal(got, content) {
		t.Errorf("stored file: got %d bytes, %v, want the %d uploaded", len(got), err, len(content))
	}
	assertTmpEmpty(t, u.tmp)
}

func TestPutCancelled(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := u.Put(ctx, bytes.NewReader(pngFile), MaxSize); !errors.Is(err, context.Canceled) {
			t.Errorf("Put: got %v, want context.Canceled", err)
		}
		assertTmpEmpty(t, u.tmp)
	})
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
	eachStore(t, func(t *testing.T, u *under) {
		if _, err := u.Put(t.Context(), &failingReader{}, MaxSize); !errors.Is(err, errBroken) {
			t.Errorf("Put: got %v, want %v", err, errBroken)
		}
		if files := u.stored(t); len(files) != 0 {
			t.Errorf("stored files: got %q, want none", files)
		}
		assertTmpEmpty(t, u.tmp)
	})
}
