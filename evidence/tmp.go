package evidence

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// PurgeTemp removes the files in the directory's tmp/ last written more
// than olderThan ago and returns how many went: uploads that a crash or a
// kill left behind. An upload's body arrives within 15 minutes (the
// server's upload deadlines), and it is stored and recorded within 5
// minutes after (report.Service.AddEvidence), so with olderThan an hour
// (the app's choice) none in progress is taken for one.
func (d *Dir) PurgeTemp(olderThan time.Duration) (int64, error) { return purgeTemp(d.tmp, olderThan) }

// PurgeTemp removes the spooled uploads a crash or a kill left behind in
// this instance's spool directory, as Dir.PurgeTemp does.
func (b *Bucket) PurgeTemp(olderThan time.Duration) (int64, error) {
	return purgeTemp(b.tmp, olderThan)
}

func purgeTemp(tmp string, olderThan time.Duration) (int64, error) {
	entries, err := os.ReadDir(tmp)
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
		err = os.Remove(filepath.Join(tmp, e.Name()))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			return n, fmt.Errorf("purge evidence tmp: %w", err)
		}
	}
	return n, nil
}
