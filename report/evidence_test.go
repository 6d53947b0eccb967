package report_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/report"
)

// racingFiles is a disk store that runs before ahead of each Store and
// hook after it, with the Store's number (1: before AddEvidence's
// transaction, 2: inside it); fail, when it gives an error, is that
// Store's answer, the file left as it is.
type racingFiles struct {
	*evidence.Dir
	stores       int
	before, hook func(n int)
	fail         func(n int) error
}

func (f *racingFiles) Store(ctx context.Context, st *evidence.Staged) error {
	if f.before != nil {
		f.before(f.stores + 1)
	}
	var err error
	if f.fail != nil {
		err = f.fail(f.stores + 1)
	}
	if err == nil {
		err = f.Dir.Store(ctx, st)
	}
	f.stores++
	f.hook(f.stores)
	return err
}

// racingService is a report service over e's database whose evidence is
// in a fresh directory, through racingFiles (no hook yet).
func racingService(t *testing.T, e *apptest.Env) (*racingFiles, *report.Service) {
	t.Helper()
	dir, err := evidence.NewDir(filepath.Join(t.TempDir(), "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	files := &racingFiles{Dir: dir, hook: func(int) {}}
	return files, report.NewService(e.App.DB, e.App.Events, e.App.Orgs, e.App.Tasks, files)
}

// newPNG is a small PNG-looking file no other test uploads.
func newPNG() []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), rand.Text()...)
}

// A file of a deleted report, queued for deletion, that a new report
// brings again while the queue is worked through stays stored: deleted
// before the new report's row, it is stored again; checked while that row
// is being written, its deletion waits and finds it in use.
func TestEvidenceBroughtBackWhileDeleted(t *testing.T) {
	for _, tc := range []struct {
		name string
		// at is the Store after which the deletion runs; wait: whether it
		// must wait for AddEvidence's transaction.
		at   int
		wait bool
	}{
		{"deleted before the row", 1, false},
		{"deletion while the row is written", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apptest.Each(t, func(t *testing.T, e *apptest.Env) {
				ctx := context.Background()
				files, svc := racingService(t, e)
				dir := files.Dir
				content := newPNG()
				obj, err := dir.Put(ctx, bytes.NewReader(content), evidence.MaxSize)
				if err != nil {
					t.Fatal(err)
				}
				// The file of a deleted report: stored, queued, in no report.
				exec(t, e, "INSERT INTO evidence_deletions (sha256, queued_at) VALUES (?, ?)", obj.SHA256, time.Now().UTC())
				vol := e.User(t, "volunteer", "relawan", "3171")
				r := create(t, e, vol, "3171", "disinformation")

				type result struct {
					n   int
					err error
				}
				done := make(chan result, 1)
				files.hook = func(n int) {
					if n != tc.at {
						return
					}
					go func() {
						n, err := svc.DeleteFiles(ctx, []string{obj.SHA256})
						done <- result{n, err}
					}()
					if !tc.wait {
						got := <-done
						if got.n != 1 || got.err != nil {
							t.Errorf("the deletion before the row: %+v, want the file deleted", got)
						}
						done <- got
						return
					}
					select {
					case got := <-done:
						t.Errorf("the deletion ran while the file's row was written: %+v", got)
						done <- got
					case <-time.After(300 * time.Millisecond):
					}
				}
				if _, err := svc.AddEvidence(ctx, apptest.Principal(vol), r.ID, func() (io.Reader, error) {
					return bytes.NewReader(content), nil
				}); err != nil {
					t.Fatalf("add evidence: %v", err)
				}
				got := <-done
				if tc.wait && got.n != 0 {
					t.Errorf("the deletion deleted %d files, want none: the file is in use", got.n)
				}
				if files.stores != 2 {
					t.Errorf("%d stores, want 2: one before the transaction, one under the file's lock", files.stores)
				}
				rc, err := dir.Open(ctx, obj.SHA256, 0, -1)
				if err != nil {
					t.Fatalf("the file the new report refers to: %v", err)
				}
				defer rc.Close()
				if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, content) {
					t.Errorf("the stored file: %d bytes, %v; want the %d uploaded", len(b), err, len(content))
				}
				if n, err := e.App.DB.NewSelect().Table("evidence_deletions").Count(ctx); n != 0 || err != nil {
					t.Errorf("%d files queued (%v), want none: the file is in use", n, err)
				}
			})
		})
	}
}

// An upload whose report is decided (or deleted) before its row is
// written leaves no file behind: the upload is recorded as under way from
// before the file is stored, and the file deleted when the upload fails,
// unless another report refers to it.
func TestEvidenceOfAFailedUploadDeleted(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		files, svc := racingService(t, e)
		dir := files.Dir
		vol := e.User(t, "volunteer", "relawan", "3171")
		for _, shared := range []bool{false, true} {
			content := newPNG()
			var sha string
			if shared {
				// Another report refers to the same file.
				other := create(t, e, vol, "3171", "disinformation")
				ev, err := svc.AddEvidence(ctx, apptest.Principal(vol), other.ID, func() (io.Reader, error) { return bytes.NewReader(content), nil })
				if err != nil {
					t.Fatal(err)
				}
				sha = ev.SHA256
			}
			r := create(t, e, vol, "3171", "disinformation")
			files.stores = 0
			files.hook = func(n int) {
				if n != 1 {
					return
				}
				var under int
				if err := e.App.DB.NewRaw("SELECT count(*) FROM evidence_uploads").Scan(ctx, &under); err != nil || under != 1 {
					t.Errorf("while the upload is stored: %d uploads under way (%v), want it", under, err)
				}
				exec(t, e, "UPDATE reports SET status = 'verified' WHERE id = ?", r.ID)
			}
			_, err := svc.AddEvidence(ctx, apptest.Principal(vol), r.ID, func() (io.Reader, error) { return bytes.NewReader(content), nil })
			if problem.KindOf(err) != problem.Conflict {
				t.Fatalf("upload to a report decided meanwhile: %v, want a conflict", err)
			}
			files.hook = func(int) {}
			var stored []string
			if err := dir.Each(ctx, func(s string) error { stored = append(stored, s); return nil }); err != nil {
				t.Fatal(err)
			}
			want := 0
			if shared {
				want = 1
			}
			if len(stored) != want || shared && stored[0] != sha {
				t.Errorf("another report refers to it: %v; stored after the failed upload: %q, want %d", shared, stored, want)
			}
			if n, err := e.App.DB.NewSelect().Table("evidence_deletions").Count(ctx); n != 0 || err != nil {
				t.Errorf("%d files queued (%v), want none", n, err)
			}
			if n, err := e.App.DB.NewSelect().Table("evidence_uploads").Count(ctx); n != 0 || err != nil {
				t.Errorf("%d uploads under way (%v), want none", n, err)
			}
			if shared {
				exec(t, e, "DELETE FROM evidence")
				must(t, dir.Delete(ctx, sha))
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// An upload's file is never left in the store with nothing naming it, even
// when the delete_evidence chore and a deletion of the same file (another
// report's erasure, another upload's failure) run while it is stored, and
// the upload then fails with the store or the database down, or never
// ends (its instance died after storing the file). The chore leaves an
// upload under way alone, and takes its file once it is older than any
// upload lasts. (The chore used to take the upload's queue entry at once,
// find no file yet, and drop the entry: the file stored next was kept for
// good, out of reach of erasure and retention.)
func TestUploadLeavesNoFileBehind(t *testing.T) {
	for _, tc := range []struct {
		name string
		// died: the upload stops for good once its file is stored;
		// otherwise its second Store answers unavailable.
		died bool
	}{
		{"the upload fails as unavailable", false},
		{"the instance dies", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apptest.Each(t, func(t *testing.T, e *apptest.Env) {
				ctx := context.Background()
				files, svc := racingService(t, e)
				dir := files.Dir
				vol := e.User(t, "volunteer", "relawan", "3171")
				r := create(t, e, vol, "3171", "disinformation")
				content := newPNG()
				sum := sha256.Sum256(content)
				sha := hex.EncodeToString(sum[:])
				stored := func() bool {
					rc, err := dir.Open(ctx, sha, 0, -1)
					if err == nil {
						rc.Close()
					}
					return err == nil
				}
				files.before = func(n int) {
					if n != 1 {
						return
					}
					// While the file is on its way: the chore, and a
					// deletion of the same file.
					if _, err := svc.SweepFiles(ctx); err != nil {
						t.Errorf("sweep during the upload: %v", err)
					}
					if _, err := svc.DeleteFiles(ctx, []string{sha}); err != nil {
						t.Errorf("a deletion during the upload: %v", err)
					}
				}
				landed, never, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
				release := sync.OnceFunc(func() { close(never) })
				defer func() { release(); <-finished }() // the dead upload's goroutine ends within the test
				files.hook = func(n int) {
					if n == 1 && tc.died {
						close(landed)
						<-never // the instance is gone
					}
				}
				files.fail = func(n int) error {
					if n == 2 {
						return problem.Errorf(problem.Unavailable, "the store is down")
					}
					return nil
				}
				var upErr error
				go func() {
					defer close(finished)
					_, upErr = svc.AddEvidence(ctx, apptest.Principal(vol), r.ID, func() (io.Reader, error) { return bytes.NewReader(content), nil })
				}()
				if tc.died {
					<-landed
				} else if <-finished; problem.KindOf(upErr) != problem.Unavailable {
					t.Fatalf("upload: %v, want unavailable", upErr)
				}
				if !stored() {
					t.Fatal("the file is not stored: the test stages nothing")
				}
				// The chore at once: an upload may still be under way (the
				// dead one cannot be told from a slow one yet).
				if _, err := svc.SweepFiles(ctx); err != nil {
					t.Fatal(err)
				}
				if tc.died && !stored() {
					t.Error("the chore took the file of an upload still under way")
				}
				// Past any upload's time, the chore deletes the file.
				exec(t, e, "UPDATE evidence_uploads SET started_at = ?", time.Now().UTC().Add(-2*time.Hour))
				if _, err := svc.SweepFiles(ctx); err != nil {
					t.Fatal(err)
				}
				if stored() {
					t.Error("the upload's file is still stored, named by nothing")
				}
				for _, table := range []string{"evidence", "evidence_deletions", "evidence_uploads"} {
					if n, err := e.App.DB.NewSelect().Table(table).Count(ctx); n != 0 || err != nil {
						t.Errorf("%s: %d rows (%v), want none", table, n, err)
					}
				}
			})
		})
	}
}
