package evidence

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// stagingStore is what report.Service uses of either store.
type stagingStore interface {
	Stage(ctx context.Context, r io.Reader, max int64) (*Staged, error)
	Store(ctx context.Context, st *Staged) error
	Delete(ctx context.Context, sha string) error
}

// A staged upload is stored again after its file was deleted, as often as
// it takes, whether or not the first Store moved it into place; storing
// content that is there already changes nothing; Close leaves no
// temporary file.
func TestStoreAgainAfterDeletion(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		s := u.store.(stagingStore)
		for _, already := range []bool{false, true} {
			content := append(bytes.Clone(pdfFile), bytes.Repeat([]byte{byte('a' + btoi(already))}, 100<<10)...)
			if already {
				mustPut(t, u, content)
			}
			st, err := s.Stage(t.Context(), bytes.NewReader(content), MaxSize)
			if err != nil {
				t.Fatalf("Stage: %v", err)
			}
			if st.SHA256 != shaOf(content) || st.Size != int64(len(content)) || st.ContentType != "application/pdf" {
				t.Errorf("staged: got %+v", st.Object)
			}
			for i := range 3 {
				if err := s.Store(t.Context(), st); err != nil {
					t.Fatalf("Store %d: %v", i, err)
				}
				if got, err := read(t, u, st.SHA256, 0, -1); err != nil || !bytes.Equal(got, content) {
					t.Fatalf("after Store %d (stored before: %v): %d bytes, %v; want the %d staged", i, already, len(got), err, len(content))
				}
				if err := s.Delete(t.Context(), st.SHA256); err != nil {
					t.Fatalf("Delete: %v", err)
				}
			}
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if files := u.stored(t); len(files) != 0 {
				t.Errorf("stored files after the last deletion: %q", files)
			}
			assertTmpEmpty(t, u.tmp)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Storing again content that is stored reads nothing of the staged file
// (Store runs again under a lock on every upload): with its descriptor
// closed, the disk store's second Store still succeeds.
func TestStoreAgainWhenStoredCopiesNothing(t *testing.T) {
	d := mustDir(t)
	st, err := d.Stage(t.Context(), bytes.NewReader(pngFile), MaxSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Store(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	st.f.Close()
	if err := d.Store(t.Context(), st); err != nil {
		t.Errorf("Store of stored content: %v, want nothing done", err)
	}
	assertTmpEmpty(t, d.tmp)
}
