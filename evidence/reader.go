package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// RangeFunc opens n bytes (n < 0: all the rest) of one stored file from byte
// off: a store's Open with the sha bound.
type RangeFunc func(ctx context.Context, off, n int64) (io.ReadCloser, error)

// Reader reads a stored file of known size from any offset, the way
// http.ServeContent reads for Range requests, without holding the file: a
// seek only moves the offset, and the next read opens the store from there.
// Not for concurrent use.
type Reader struct {
	ctx     context.Context
	open    RangeFunc
	size    int64
	off     int64         // where the next Read starts
	body    io.ReadCloser // open at bodyOff, or nil
	bodyOff int64
}

// NewReader opens the whole file of size bytes through open at once, so
// that a missing file or a store that is down is an error here, before an
// answer is started; later reads and seeks use ctx. The caller closes it.
func NewReader(ctx context.Context, size int64, open RangeFunc) (*Reader, error) {
	body, err := open(ctx, 0, -1)
	if err != nil {
		return nil, err
	}
	return &Reader{ctx: ctx, open: open, size: size, body: body}, nil
}

// Read reads from the current offset, opening the store there if the last
// seek moved away from the open body.
func (r *Reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.body != nil && r.bodyOff != r.off {
		r.body.Close()
		r.body = nil
	}
	if r.body == nil {
		body, err := r.open(r.ctx, r.off, r.size-r.off)
		if err != nil {
			return 0, err
		}
		r.body, r.bodyOff = body, r.off
	}
	if rest := r.size - r.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	r.bodyOff += int64(n)
	if errors.Is(err, io.EOF) && r.off < r.size {
		err = io.ErrUnexpectedEOF // the store holds less than recorded
	}
	return n, err
}

// Seek moves the offset; nothing is read until the next Read.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return r.off, fmt.Errorf("seek evidence: whence %d", whence)
	}
	if offset < 0 {
		return r.off, errors.New("seek evidence: negative offset")
	}
	r.off = offset
	return offset, nil
}

// Close closes the open body, if any.
func (r *Reader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	return err
}
