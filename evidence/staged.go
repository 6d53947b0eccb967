package evidence

import (
	"context"
	"fmt"
	"io"
	"os"
)

// Staged is an upload checked, hashed and kept in a temporary file until
// Close, so that it can be stored under its name again: a file of deleted
// reports may be deleted from the store between a first Store and the
// moment a report refers to it, and the caller, holding the lock that
// deletions take, stores it once more (report.Service.AddEvidence).
type Staged struct {
	Object
	f *os.File // the temporary file, open for reading
	// placed: the temporary file was moved into the store (or dropped as
	// stored already); f is still open and still reads the content.
	placed bool
}

// Close drops the temporary file.
func (s *Staged) Close() error {
	err := s.f.Close()
	if !s.placed {
		if rerr := os.Remove(s.f.Name()); err == nil {
			err = rerr
		}
	}
	return err
}

// stage streams r, at most max bytes, to a temporary file in dir while
// checking and hashing it, with Put's rules and refusals; the file is synced
// (the disk store moves it into place as it is). Nothing is left on error.
func stage(ctx context.Context, dir string, r io.Reader, max int64) (*Staged, error) {
	if max <= 0 {
		return nil, fmt.Errorf("put evidence: limit of %d bytes is not positive", max)
	}
	f, err := os.CreateTemp(dir, "put-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("put evidence: %w", err)
	}
	obj, err := fill(ctx, f, r, max)
	if err == nil {
		if err = f.Sync(); err != nil {
			err = fmt.Errorf("sync: %w", err)
		}
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("put evidence: %w", err)
	}
	return &Staged{Object: obj, f: f}, nil
}

// Stage checks, hashes and spools the content of r, at most max bytes, for
// Store; the caller closes it. The refusals are Put's.
func (s *Dir) Stage(ctx context.Context, r io.Reader, max int64) (*Staged, error) {
	return stage(ctx, s.tmp, r, max)
}

// Store makes the staged file stored under its name, unless it is there
// already; it may be called again, after a deletion, as often as needed.
// The first time, the temporary file is moved into place; after that, if
// the stored file is gone, its content (still open) is copied to a new one.
func (s *Dir) Store(_ context.Context, st *Staged) error {
	src := st.f.Name()
	if st.placed {
		if _, err := os.Lstat(s.path(st.SHA256)); err == nil {
			return nil // stored: nothing to copy
		}
		tmp, err := s.copyStaged(st)
		if err != nil {
			return fmt.Errorf("put evidence: %w", err)
		}
		src = tmp
	}
	st.placed = true
	if err := s.commit(src, st.SHA256); err != nil {
		os.Remove(src)
		return fmt.Errorf("put evidence: %w", err)
	}
	return nil
}

// copyStaged copies the staged content to a new synced temporary file.
func (s *Dir) copyStaged(st *Staged) (string, error) {
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, io.NewSectionReader(st.f, 0, st.Size))
	if err == nil {
		err = syncClose(f)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("copy staged file: %w", err)
	}
	return f.Name(), nil
}

// Put stores the content of r, at most max bytes (normally MaxSize), and
// describes it: Stage, then Store. Content already stored is kept once and
// the new copy dropped, so concurrent Puts of one file both succeed and
// leave one file. Refusals are problems, with nothing left on disk: kind
// TooLarge type "too-large" past max bytes; kind Invalid type
// "evidence-empty" for no bytes and "evidence-type" for content that is not
// PNG, JPEG, WebP or PDF (decided from the first bytes, before the rest is
// read). Errors of r and the end of ctx stop the upload too.
func (s *Dir) Put(ctx context.Context, r io.Reader, max int64) (Object, error) {
	return put(ctx, s, r, max)
}

// Stage checks, hashes and spools the content of r for Store, as
// Dir.Stage does.
func (b *Bucket) Stage(ctx context.Context, r io.Reader, max int64) (*Staged, error) {
	return stage(ctx, b.tmp, r, max)
}

// Store sends the staged file unless an object of its name and size is in
// the bucket already; it may be called again, as Dir.Store.
func (b *Bucket) Store(ctx context.Context, st *Staged) error {
	if err := b.upload(ctx, st.f, st.Object); err != nil {
		return fmt.Errorf("put evidence: %w", err)
	}
	return nil
}

// Put stores the content of r, at most max bytes, with Dir.Put's rules and
// refusals; content the bucket holds already is not sent again.
func (b *Bucket) Put(ctx context.Context, r io.Reader, max int64) (Object, error) {
	return put(ctx, b, r, max)
}

// stager is either store, seen by put.
type stager interface {
	Stage(ctx context.Context, r io.Reader, max int64) (*Staged, error)
	Store(ctx context.Context, st *Staged) error
}

func put(ctx context.Context, s stager, r io.Reader, max int64) (Object, error) {
	st, err := s.Stage(ctx, r, max)
	if err != nil {
		return Object{}, err
	}
	defer st.Close()
	if err := s.Store(ctx, st); err != nil {
		return Object{}, err
	}
	return st.Object, nil
}
