// Package evidence keeps the files volunteers attach to reports: screenshots
// (PNG, JPEG, WebP) and PDFs. Files are content-addressed: each is stored
// once, under its SHA-256, however often it is uploaded, and its ID says
// nothing but its content. Uploads are streamed and never held in memory,
// and a file's type is decided by its first bytes, never by its name or by
// what the client claims.
//
// Two stores keep the files, with the same rules: Dir, a directory (the
// embedded default, or a mount shared by every instance), and Bucket, an
// S3-compatible bucket that any instance reads and writes. Both name a file
// <2 hex>/<sha256> (under the directory, or under the bucket's prefix), so a
// directory copies into a bucket as it is (Migrate).
package evidence

import (
	"time"

	"github.com/jarimu/jarimu/problem"
)

// MaxSize is Jarimu's limit on one evidence file, 10 MiB; pass it to Put.
const MaxSize int64 = 10 << 20

// Object describes a stored file.
type Object struct {
	SHA256      string // lower-case hex; the file's ID
	Size        int64  // bytes
	ContentType string // image/png, image/jpeg, image/webp or application/pdf
}

// key is the stored name of a valid sha, relative to the store's root.
func key(sha string) string {
	return sha[:2] + "/" + sha
}

func badID() error {
	return BadID.New("an evidence id is a sha256: 64 lower-case hex digits")
}

func notFound() error {
	return problem.Errorf(problem.NotFound, "no evidence with this sha256")
}

func isNotFound(err error) bool {
	return problem.KindOf(err) == problem.NotFound
}

// unavailable is the refusal of a store that is down or refuses its
// credentials: 503 with a Retry-After, the same answer as for the database.
func unavailable() error {
	p := problem.Errorf(problem.Unavailable, "the evidence store is unavailable; retry shortly")
	p.RetryAfter = 2 * time.Second
	return p
}

// ValidSHA reports whether sha is an evidence file's id: its SHA-256 in 64
// lower-case hex digits.
func ValidSHA(sha string) bool { return validSHA(sha) }

// validSHA reports whether sha is 64 lower-case hex digits, the only names
// the stores ever make; nothing else (no "/", "..", upper case) gets through.
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
