package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/jarimu/jarimu/problem"
)

// fill copies r to w, checking its type and size and hashing it.
func fill(ctx context.Context, w io.Writer, r io.Reader, max int64) (Object, error) {
	limit := max
	if limit < math.MaxInt64 {
		limit++ // one byte past max tells "too large" from "exactly max"
	}
	src := io.LimitReader(ctxReader{ctx, r}, limit)
	var head [sniffLen]byte
	n, err := io.ReadFull(src, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Object{}, fmt.Errorf("read: %w", err)
	}
	typ, err := check(head[:n], max)
	if err != nil {
		return Object{}, err
	}
	h := sha256.New()
	size, err := copyAll(io.MultiWriter(w, h), head[:n], src)
	if err != nil {
		return Object{}, err
	}
	if size > max {
		return Object{}, tooLarge(max)
	}
	return Object{SHA256: hex.EncodeToString(h.Sum(nil)), Size: size, ContentType: typ}, nil
}

// syncClose makes f's content durable and closes it.
func syncClose(f *os.File) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// check refuses, from the first bytes alone, an empty or oversized upload or
// one of an unaccepted type, and otherwise names its type.
func check(head []byte, max int64) (string, error) {
	if len(head) == 0 {
		return "", Empty.New("the evidence file is empty")
	}
	if int64(len(head)) > max {
		return "", tooLarge(max)
	}
	typ := sniff(head)
	if typ == "" {
		return "", BadType.New("only png, jpeg, webp or pdf")
	}
	return typ, nil
}

func tooLarge(max int64) error {
	return problem.Errorf(problem.TooLarge, "an evidence file is at most %d bytes", max)
}

// buffers recycles copy buffers between uploads.
var buffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// copyAll writes head and then the rest of src to w, returning the bytes
// written.
func copyAll(w io.Writer, head []byte, src io.Reader) (int64, error) {
	if _, err := w.Write(head); err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	buf := buffers.Get().(*[32 << 10]byte)
	defer buffers.Put(buf)
	n, err := io.CopyBuffer(w, src, buf[:])
	if err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	return int64(len(head)) + n, nil
}

// commit moves the finished temporary file to its stored name, or drops it
// when the content is stored already. Two commits of one content racing past
// the existence check both rename; the second replaces the first with
// identical bytes, atomically, so either way one complete file remains.
func (s *Dir) commit(tmp, sha string) error {
	dst := s.path(sha)
	shard := filepath.Dir(dst)
	err := os.Mkdir(shard, 0o700)
	created := err == nil
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("make shard: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return os.Remove(tmp)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	if created {
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	return syncDir(shard)
}

// syncDir makes the entries of dir durable: a renamed file's new name, a
// new shard directory.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// ctxReader stops reading once ctx is done, so a cancelled request ends a
// slow upload.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
