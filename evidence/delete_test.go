package evidence

import (
	"context"
	"testing"
)

// Delete removes one file, leaves the others, refuses a malformed id, and
// is no error for a file already gone; on disk and in a bucket.
func TestDelete(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		ctx := context.Background()
		a, b := mustPut(t, u, pngFile), mustPut(t, u, pdfFile)
		del := func(sha string) error {
			if u.dir != nil {
				return u.dir.Delete(ctx, sha)
			}
			return u.bucket.Delete(ctx, sha)
		}
		if err := del(a.SHA256); err != nil {
			t.Fatal(err)
		}
		if _, err := read(t, u, a.SHA256, 0, -1); !isNotFound(err) {
			t.Errorf("after delete: %v, want not found", err)
		}
		if got, err := read(t, u, b.SHA256, 0, -1); err != nil || string(got) != string(pdfFile) {
			t.Errorf("the other file: %v", err)
		}
		if err := del(a.SHA256); err != nil {
			t.Errorf("deleting again: %v", err)
		}
		if err := del("../../etc/passwd"); err == nil {
			t.Error("a malformed id was accepted")
		}
	})
}
