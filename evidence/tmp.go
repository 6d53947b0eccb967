package evidence

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// PurgeTemp removes the files in tmp/ last written more than olderThan ago
// and returns how many went: uploads that a crash or a kill left behind.
// An upload lasts at most the server's read timeout (60 s), so with
// olderThan an hour (the app's choice) none in progress is taken for one.
func (s *Store) PurgeTemp(olderThan time.Duration) (int64, error) {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return 0, fmt.Errorf("purge evidence tmp: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	var n int64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // finished or removed meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("purge evidence tmp: %w", err)
		}
		if !info.ModTime().Before(cutoff) {
			continue
		}
		err = os.Remove(filepath.Join(s.tmp, e.Name()))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			return n, fmt.Errorf("purge evidence tmp: %w", err)
		}
	}
	return n, nil
}
