package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/s3test"
)

// Tiny files that start like the real thing: the signature and a few bytes.
var (
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 17)...)
	jpegFile = []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0xff, 0xd9}
	webpFile = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
	pdfFile  = []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
)

// store is what callers use of either store.
type store interface {
	Put(ctx context.Context, r io.Reader, max int64) (Object, error)
	Open(ctx context.Context, sha string, off, n int64) (io.ReadCloser, error)
}

// under is one store under test, with what the tests look at inside it.
type under struct {
	store
	dir    *Dir           // the disk store, or nil
	bucket *Bucket        // the S3 store, or nil
	s3     *s3test.Bucket // the S3 store's bucket, seen from outside
	tmp    string         // where uploads in progress are spooled
}

// eachStore runs fn on a fresh store of each kind: "disk" always, "s3" on
// the test S3 server (skipped without one, failed in CI without one).
func eachStore(t *testing.T, fn func(t *testing.T, u *under)) {
	t.Helper()
	t.Run("disk", func(t *testing.T) { fn(t, mustDirUnder(t)) })
	t.Run("s3", func(t *testing.T) { fn(t, mustBucketUnder(t)) })
}

func mustDirUnder(t testing.TB) *under {
	d := mustDir(t)
	return &under{store: d, dir: d, tmp: d.tmp}
}

func mustBucketUnder(t testing.TB) *under {
	t.Helper()
	sb := s3test.New(t)
	b := mustBucket(t, sb.URL, sb.AccessKey, sb.SecretKey)
	return &under{store: b, bucket: b, s3: sb, tmp: b.tmp}
}

// mustDir makes a disk store in a fresh directory.
func mustDir(t testing.TB) *Dir {
	t.Helper()
	s, err := NewDir(filepath.Join(t.TempDir(), "evidence"))
	if err != nil {
		t.Fatalf("NewDir: got error %v, want none", err)
	}
	return s
}

// mustBucket makes the S3 store of an s3:// URL, spooling in a fresh
// directory.
func mustBucket(t testing.TB, rawURL, accessKey, secretKey string) *Bucket {
	t.Helper()
	c, err := ParseURL(rawURL)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", rawURL, err)
	}
	c.AccessKey, c.SecretKey = accessKey, secretKey
	b, err := NewBucket(c, filepath.Join(t.TempDir(), "tmp"))
	if err != nil {
		t.Fatalf("NewBucket: %v", err)
	}
	return b
}

// mustPut stores content and fails the test on error.
func mustPut(t testing.TB, s store, content []byte) Object {
	t.Helper()
	obj, err := s.Put(t.Context(), bytes.NewReader(content), MaxSize)
	if err != nil {
		t.Fatalf("Put: got error %v, want none", err)
	}
	return obj
}

// read reads n bytes (n < 0: the rest) of a stored file from off.
func read(t testing.TB, s store, sha string, off, n int64) ([]byte, error) {
	t.Helper()
	r, err := s.Open(t.Context(), sha, off, n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func shaOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// stored lists the stored files as <2 hex>/<sha>, sorted: the files of the
// directory outside tmp/, or the bucket's objects under the prefix.
func (u *under) stored(t testing.TB) []string {
	t.Helper()
	if u.s3 != nil {
		var out []string
		for _, k := range u.s3.Keys(t) {
			rel, ok := strings.CutPrefix(k, s3test.Prefix)
			if !ok {
				t.Errorf("object %q outside the prefix %q", k, s3test.Prefix)
			}
			out = append(out, rel)
		}
		return out
	}
	var files []string
	err := filepath.WalkDir(u.dir.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == u.dir.tmp {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(u.dir.dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk store: %v", err)
	}
	slices.Sort(files)
	return files
}

// assertTmpEmpty fails the test when an upload left a temporary file behind.
func assertTmpEmpty(t testing.TB, tmp string) {
	t.Helper()
	entries, err := os.ReadDir(tmp)
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
