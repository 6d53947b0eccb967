package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a content-addressed file store in one directory: <2 hex>/<sha256>
// for stored files (0600, directories 0700) and tmp/ for uploads in
// progress. A file appears under its name only once complete and synced, so
// readers never see a partial file. It is safe for concurrent use, also by
// several processes sharing the directory.
type Dir struct {
	dir string // root: shard directories and tmp/
	tmp string // uploads in progress, on the same file system as dir
}

// NewDir opens the store in dir (by default the data directory's
// evidence/), creating dir and dir/tmp with mode 0700 if missing.
func NewDir(dir string) (*Dir, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("new evidence store: %w", err)
	}
	return &Dir{dir: dir, tmp: tmp}, nil
}

// Path is where the file with this SHA-256 is, or would be, stored. sha must
// be 64 lower-case hex digits, else the error is a problem of kind Invalid,
// type "evidence-id": no input can name a path outside the store. Path does
// not check that the file exists.
func (s *Dir) Path(sha string) (string, error) {
	if !validSHA(sha) {
		return "", fmt.Errorf("evidence path: %w", badID())
	}
	return s.path(sha), nil
}

// Open reads n bytes (n < 0: all the rest) of the stored file with this
// SHA-256, from byte off; the caller closes the reader. A malformed sha is
// refused as by Path; a missing file is a problem of kind NotFound that also
// matches fs.ErrNotExist.
func (s *Dir) Open(ctx context.Context, sha string, off, n int64) (io.ReadCloser, error) {
	if !validSHA(sha) {
		return nil, fmt.Errorf("open evidence: %w", badID())
	}
	f, err := os.Open(s.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open evidence: %w: %w", notFound(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("open evidence: %w", err)
		}
	}
	if n < 0 {
		return f, nil
	}
	return limitedFile{io.LimitReader(f, n), f}, nil
}

// limitedFile reads part of a file and closes the whole.
type limitedFile struct {
	io.Reader
	io.Closer
}

// Each calls fn with the SHA-256 of every stored file, in no set order,
// skipping tmp/ and any name the store would not make. It stops at fn's
// first error, or when ctx ends.
func (s *Dir) Each(ctx context.Context, fn func(sha string) error) error {
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list evidence: %w", err)
	}
	for _, shard := range shards {
		if !shard.IsDir() || len(shard.Name()) != 2 {
			continue
		}
		names, err := os.ReadDir(filepath.Join(s.dir, shard.Name()))
		if err != nil {
			return fmt.Errorf("list evidence: %w", err)
		}
		for _, e := range names {
			sha := e.Name()
			if !e.Type().IsRegular() || !validSHA(sha) || sha[:2] != shard.Name() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(sha); err != nil {
				return err
			}
		}
	}
	return nil
}

// path is the stored name of a valid sha.
func (s *Dir) path(sha string) string {
	return filepath.Join(s.dir, filepath.FromSlash(key(sha)))
}
