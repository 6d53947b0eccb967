package evidence

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/minio/minio-go/v7"
)

// Delete removes the file with this SHA-256 from the directory. The caller
// makes sure no report refers to it any more (files are shared by content).
// A missing file is no error.
func (s *Dir) Delete(_ context.Context, sha string) error {
	if !validSHA(sha) {
		return fmt.Errorf("delete evidence: %w", badID())
	}
	if err := os.Remove(s.path(sha)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete evidence: %w", err)
	}
	return nil
}

// Delete removes the object of this SHA-256 from the bucket, as Dir.Delete.
func (b *Bucket) Delete(ctx context.Context, sha string) error {
	if !validSHA(sha) {
		return fmt.Errorf("delete evidence: %w", badID())
	}
	if err := b.core.RemoveObject(ctx, b.name, b.key(sha), minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("delete evidence: %w", b.fail(err))
	}
	return nil
}
