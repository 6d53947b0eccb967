package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jarimu/jarimu/evidence"
)

const evidenceUsage = `Usage: jarimu evidence migrate [flags]

Copies the evidence files of a directory (JARIMU_EVIDENCE_DIR, by default
<data dir>/evidence) into the bucket of JARIMU_EVIDENCE_URL, and verifies
each: the object is read back and its SHA-256 compared with its name.
Objects already in the bucket with the right hash are left; a local file
whose content does not match its name is reported and not copied. Prints
each failure and a summary; exits non-zero if any file failed. Safe to run
again, and while instances serve.

The settings below come from flags or environment variables, as for serve.

`

// runEvidence runs `jarimu evidence migrate`.
func runEvidence(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evidence migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), evidenceUsage)
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "migrate" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil
		}
		return errors.New("usage: jarimu evidence migrate [flags] (jarimu evidence migrate --help)")
	}
	c, err := loadConfig(fs, args[1:], getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("evidence migrate takes no arguments, got %q", fs.Args())
	}
	if c.EvidenceURL == "" {
		return errors.New("JARIMU_EVIDENCE_URL (-evidence-url): the bucket to copy into is required")
	}
	dirPath := cmp.Or(c.EvidenceDir, filepath.Join(c.DataDir, "evidence"))
	if fi, err := os.Stat(dirPath); err != nil || !fi.IsDir() {
		return fmt.Errorf("JARIMU_EVIDENCE_DIR: no evidence directory at %s", dirPath)
	}
	dir, err := evidence.NewDir(dirPath)
	if err != nil {
		return err
	}
	bc, err := evidence.ParseURL(c.EvidenceURL)
	if err != nil {
		return fmt.Errorf("JARIMU_EVIDENCE_URL: %w", err)
	}
	bc.AccessKey, bc.SecretKey = c.S3AccessKey, c.S3SecretKey
	bucket, err := evidence.NewBucket(bc, filepath.Join(os.TempDir(), "jarimu-evidence-migrate"))
	if err != nil {
		return err
	}
	counts, err := evidence.Migrate(ctx, dir, bucket, func(sha string, o evidence.Outcome, err error) {
		if o == evidence.Failed {
			fmt.Fprintf(stdout, "failed  %s: %v\n", sha, err)
		}
	})
	total := counts[evidence.Copied] + counts[evidence.Present] + counts[evidence.Failed]
	fmt.Fprintf(stdout, "%d files in %s: %d copied and verified, %d already in the bucket and verified, %d failed\n",
		total, dirPath, counts[evidence.Copied], counts[evidence.Present], counts[evidence.Failed])
	if err != nil {
		return err
	}
	if n := counts[evidence.Failed]; n > 0 {
		return fmt.Errorf("%d of %d evidence files failed: see above", n, total)
	}
	return nil
}
