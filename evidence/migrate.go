package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/jarimu/jarimu/problem"
)

// Outcome is what Migrate did with one file.
type Outcome string

// The outcomes of Migrate.
const (
	Copied  Outcome = "copied"  // uploaded, read back, hash verified
	Present Outcome = "present" // in the bucket already, hash verified
	Failed  Outcome = "failed"  // not copied, or not verified: see the error
)

// Migrate copies every file of the directory store d into the bucket b and
// verifies each by reading it back and comparing its SHA-256 with its name.
// An object already in the bucket with the right hash is left as it is; one
// with a wrong hash is replaced. A local file whose content does not hash
// to its name is not copied and fails. report (may be nil) hears of each
// file as it is done; the counts of each outcome are returned. A bucket that
// is unavailable stops the run with an error.
func Migrate(ctx context.Context, d *Dir, b *Bucket, report func(sha string, o Outcome, err error)) (map[Outcome]int, error) {
	counts := map[Outcome]int{}
	err := d.Each(ctx, func(sha string) error {
		o, err := migrateOne(ctx, d, b, sha)
		if problem.KindOf(err) == problem.Unavailable {
			return err
		}
		counts[o]++
		if report != nil {
			report(sha, o, err)
		}
		return nil
	})
	if err != nil {
		return counts, fmt.Errorf("migrate evidence: %w", err)
	}
	return counts, nil
}

// migrateOne copies and verifies one file.
func migrateOne(ctx context.Context, d *Dir, b *Bucket, sha string) (Outcome, error) {
	f, err := os.Open(d.path(sha))
	if err != nil {
		return Failed, err
	}
	defer f.Close()
	local, head, size, err := hashFile(f)
	if err != nil {
		return Failed, err
	}
	if local != sha {
		return Failed, fmt.Errorf("the local file is damaged: its content hashes to %s", local)
	}
	if remote, err := b.hash(ctx, sha); err == nil && remote == sha {
		return Present, nil
	} else if err != nil && !isNotFound(err) {
		return Failed, err
	}
	obj := Object{SHA256: sha, Size: size, ContentType: sniff(head)}
	if err := b.put(ctx, f, obj); err != nil {
		return Failed, err
	}
	remote, err := b.hash(ctx, sha)
	if err != nil {
		return Failed, fmt.Errorf("read back: %w", err)
	}
	if remote != sha {
		return Failed, fmt.Errorf("read back: the object hashes to %s", remote)
	}
	return Copied, nil
}

// hashFile reads f whole: its SHA-256, first bytes and size.
func hashFile(f *os.File) (sha string, head []byte, size int64, err error) {
	h := sha256.New()
	var first [sniffLen]byte
	n, _ := io.ReadFull(f, first[:])
	h.Write(first[:n])
	rest, err := io.Copy(h, f)
	if err != nil {
		return "", nil, 0, fmt.Errorf("read local file: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), first[:n], int64(n) + rest, nil
}

// hash reads the stored object with this sha whole and hashes it.
func (b *Bucket) hash(ctx context.Context, sha string) (string, error) {
	body, err := b.Open(ctx, sha, 0, -1)
	if err != nil {
		return "", err
	}
	defer body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, body); err != nil {
		return "", fmt.Errorf("read object: %w", b.fail(err))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
