package evidence

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/s3test"
)

// Migrate copies a directory's files into a bucket, verifying each; files
// there already are left, a wrong object is replaced, a damaged local file
// is reported and not copied.
func TestMigrate(t *testing.T) {
	u := mustBucketUnder(t)
	d := mustDir(t)
	big := mustPut(t, d, benchPayload(6<<20)) // past the part size: two parts
	fresh := mustPut(t, d, pngFile)
	there := mustPut(t, d, jpegFile)
	wrong := mustPut(t, d, webpFile)
	damaged := mustPut(t, d, pdfFile)
	mustPut(t, u, jpegFile) // `there` is in the bucket already
	bad := bytes.ToUpper(webpFile)
	if _, err := u.s3.Client.PutObject(t.Context(), u.s3.Name, s3test.Key(wrong.SHA256), bytes.NewReader(bad), int64(len(bad)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	path, _ := d.Path(damaged.SHA256)
	if err := os.WriteFile(path, bytes.Replace(pdfFile, []byte("obj"), []byte("OBJ"), 1), 0o600); err != nil {
		t.Fatal(err)
	}

	got := map[string]Outcome{}
	var damagedErr error
	counts, err := Migrate(t.Context(), d, u.bucket, func(sha string, o Outcome, err error) {
		got[sha] = o
		if sha == damaged.SHA256 {
			damagedErr = err
		}
	})
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	want := map[string]Outcome{big.SHA256: Copied, fresh.SHA256: Copied, there.SHA256: Present, wrong.SHA256: Copied, damaged.SHA256: Failed}
	for sha, o := range want {
		if got[sha] != o {
			t.Errorf("%s: got %q, want %q", sha[:8], got[sha], o)
		}
	}
	if counts[Copied] != 3 || counts[Present] != 1 || counts[Failed] != 1 {
		t.Errorf("counts: got %v, want 3 copied, 1 present, 1 failed", counts)
	}
	if damagedErr == nil || !strings.Contains(damagedErr.Error(), "damaged") {
		t.Errorf("damaged file: got %v, want an error saying so", damagedErr)
	}
	for _, obj := range []Object{big, fresh, there, wrong} {
		if b, err := read(t, u, obj.SHA256, 0, -1); err != nil || shaOf(b) != obj.SHA256 {
			t.Errorf("%s in the bucket: got %d bytes, %v, want its content", obj.SHA256[:8], len(b), err)
		}
	}
	if _, err := u.Open(t.Context(), damaged.SHA256, 0, -1); problem.KindOf(err) != problem.NotFound {
		t.Errorf("the damaged file in the bucket: got %v, want none", err)
	}
	assertParts(t, u.s3, big.SHA256, 2)

	// Again: everything good is present now; the damaged file still fails.
	counts, err = Migrate(t.Context(), d, u.bucket, nil)
	if err != nil || counts[Present] != 4 || counts[Failed] != 1 || counts[Copied] != 0 {
		t.Errorf("second run: got %v, %v, want 4 present and 1 failed", counts, err)
	}
}

// A bucket that is down stops the run at once.
func TestMigrateBucketDown(t *testing.T) {
	d := mustDir(t)
	mustPut(t, d, pngFile)
	mustPut(t, d, pdfFile)
	b := mustBucket(t, s3test.Unreachable(t), "key", "secret")
	calls := 0
	_, err := Migrate(t.Context(), d, b, func(string, Outcome, error) { calls++ })
	if problem.KindOf(err) != problem.Unavailable || calls != 0 {
		t.Errorf("Migrate: got %v after %d files, want unavailable before any", err, calls)
	}
}
