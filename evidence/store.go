// Package evidence keeps the files volunteers attach to reports: screenshots
// (PNG, JPEG, WebP) and PDFs. Files are content-addressed: each is stored
// once, under its SHA-256, however often it is uploaded, and its ID says
// nothing but its content. Uploads are streamed to disk and never held in
// memory, and a file's type is decided by its first bytes, never by its name
// or by what the client claims.
//
// The layout under the store's directory is <2 hex>/<sha256> for stored
// files (0600, directories 0700) and tmp/ for uploads in progress. A file
// appears under its name only once complete and synced, so readers never see
// a partial file.
package evidence

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jarimu/jarimu/problem"
)

// MaxSize is Jarimu's limit on one evidence file, 10 MiB; pass it to Put.
const MaxSize int64 = 10 << 20

// Store is a content-addressed file store in one directory. It is safe for
// concurrent use, also by several processes sharing the directory.
type Store struct {
	dir string // root: shard directories and tmp/
	tmp string // uploads in progress, on the same file system as dir
}

// NewStore opens the store in dir (conventionally the data directory's
// evidence/), creating dir and dir/tmp with mode 0700 if missing.
func NewStore(dir string) (*Store, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("new evidence store: %w", err)
	}
	return &Store{dir: dir, tmp: tmp}, nil
}

// Path is where the file with this SHA-256 is, or would be, stored. sha must
// be 64 lower-case hex digits, else the error is a problem of kind Invalid,
// type "evidence-id": no input can name a path outside the store. Path does
// not check that the file exists.
func (s *Store) Path(sha string) (string, error) {
	if !validSHA(sha) {
		return "", fmt.Errorf("evidence path: %w", badID())
	}
	return s.path(sha), nil
}

// Open opens the stored file with this SHA-256 for reading; the caller
// closes it. A malformed sha is refused as by Path; a missing file is a
// problem of kind NotFound that also matches fs.ErrNotExist.
func (s *Store) Open(sha string) (*os.File, error) {
	if !validSHA(sha) {
		return nil, fmt.Errorf("open evidence: %w", badID())
	}
	f, err := os.Open(s.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open evidence: %w: %w", problem.Errorf(problem.NotFound, "no evidence with this sha256"), err)
	}
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	return f, nil
}

// path is the stored name of a valid sha.
func (s *Store) path(sha string) string {
	return filepath.Join(s.dir, sha[:2], sha)
}

func badID() error {
	return problem.New(problem.Invalid, "evidence-id", "an evidence id is a sha256: 64 lower-case hex digits")
}

// validSHA reports whether sha is 64 lower-case hex digits, the only names
// the store ever makes; nothing else (no "/", "..", upper case) gets through.
func validSHA(sha string) bool {
	if len(sha) != 64 {
		return false
	}
	for i := 0; i < len(sha); i++ {
		c := sha[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
