package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/jarimu/jarimu/problem"
)

// The limits of an evidence upload's body. The server's own read timeout
// (cmd/jarimu: 60 s) would cover the whole body, so a 10 MiB file would
// need about 1.4 Mbit/s; an upload instead has its own deadlines, kept on
// the connection: no byte for UploadIdle ends it, and so does a body that
// has not arrived UploadTotal after the handler began. Both end with 408
// request-timeout.
const (
	DefaultUploadIdle  = 60 * time.Second
	DefaultUploadTotal = 15 * time.Minute
	// uploadAnswer is how long the answer may take to write once the body
	// is in (the file stored, the row written, the answer sent).
	uploadAnswer = 60 * time.Second
)

// uploadBody is an upload's request body: each read that brings bytes
// pushes the connection's read deadline to idle from then, never past
// end; and a read that fails is a problem of the client's request, never
// a server's (the database's) trouble: 408 when a deadline passed, 400
// otherwise (the connection broke, the body ended before its declared
// length, a chunk was malformed).
type uploadBody struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	idle   time.Duration
	total  time.Duration
	end    time.Time
	pushed time.Time // when the deadline was last pushed
}

// paceUpload gives r's body the upload deadlines, from now, and lets the
// answer be written until uploadAnswer past the last of them.
func paceUpload(w http.ResponseWriter, r *http.Request, idle, total time.Duration) {
	now := time.Now()
	b := &uploadBody{body: r.Body, rc: http.NewResponseController(w), idle: idle, total: total, end: now.Add(total)}
	b.push(now)
	// A writer that cannot (a test's recorder) leaves the server's own.
	b.rc.SetWriteDeadline(b.end.Add(uploadAnswer))
	r.Body = b
}

// push moves the read deadline to idle from now, or to end if sooner.
func (b *uploadBody) push(now time.Time) {
	d := now.Add(b.idle)
	if d.After(b.end) {
		d = b.end
	}
	b.rc.SetReadDeadline(d)
	b.pushed = now
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if n > 0 {
		// Not at every read: bytes arrive in many small ones.
		if now := time.Now(); now.Sub(b.pushed) >= min(time.Second, b.idle/8) {
			b.push(now)
		}
	}
	if err != nil && err != io.EOF {
		err = b.fail(err)
	}
	return n, err
}

func (b *uploadBody) Close() error { return b.body.Close() }

// fail makes a failed read of the body a problem of the request.
func (b *uploadBody) fail(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err // 413, as writeError renders it
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		what := fmt.Sprintf("no data arrived for %s", b.idle)
		if !time.Now().Before(b.end) {
			what = fmt.Sprintf("the upload was not complete after %s", b.total)
		}
		return fmt.Errorf("%w: %w", problem.Errorf(problem.Timeout, "%s; nothing was recorded, send it again", what), err)
	}
	return bodyBroken(err)
}

// bodyBroken is a body that could not be read to its end: 400.
func bodyBroken(err error) error {
	return fmt.Errorf("%w: %w", problem.Errorf(problem.Malformed, "the body could not be read to its end (the connection broke, or the body is cut short)"), err)
}

// partReader reads the file part of a multipart body: a read that fails
// is the request's problem (see uploadBody; the multipart framing's own
// errors, such as a body that ends before its closing boundary, are 400
// too), never the server's.
type partReader struct{ r io.Reader }

func (p partReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		if _, ok := problem.As(err); !ok && !errors.As(err, &mbe) {
			err = bodyBroken(err)
		}
	}
	return n, err
}
