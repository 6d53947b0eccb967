package client

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
)

// errUploadStopped ends the writer of an attempt that is over.
var errUploadStopped = errors.New("jarimu: upload attempt over")

// upload is a multipart/form-data body of one file part, written while it is
// sent, through a pipe: the file is never held whole in memory.
//
// An attempt's writer runs on its own goroutine; open and stop, called one
// after the other by the call that owns the upload, start it and end it, so
// that the reader is never read by two attempts at once, nor after the call
// returns.
type upload struct {
	field, filename string
	r               io.Reader
	start           int64 // the offset of r when the call began; -1: r cannot seek
	sent            bool  // an attempt has read from r

	pr   *io.PipeReader // the body of the current attempt; nil: none
	done chan struct{}  // closed when the current attempt's writer returned
}

// newUpload makes the body of a file part named field, with the given file
// name, holding what r yields. An r that can seek (an *os.File, say) can be
// sent again from where it stood; any other is sent once.
func newUpload(field, filename string, r io.Reader) *upload {
	u := &upload{field: field, filename: filename, r: r, start: -1}
	if s, ok := r.(io.Seeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			u.start = off
		}
	}
	return u
}

// rewindable reports whether the upload can be sent again.
func (u *upload) rewindable() bool { return u.start >= 0 }

// open ends the attempt before, if any, rewinds the reader when it was read
// already, and starts writing the body of a new attempt. It returns the body
// and its Content-Type.
func (u *upload) open() (io.Reader, string, error) {
	u.stop()
	if u.sent {
		if !u.rewindable() {
			return nil, "", errors.New("the upload cannot be sent again: its reader cannot seek")
		}
		if _, err := u.r.(io.Seeker).Seek(u.start, io.SeekStart); err != nil {
			return nil, "", fmt.Errorf("rewind %s: %w", u.filename, err)
		}
	}
	u.sent = true
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	u.pr, u.done = pr, make(chan struct{})
	go func(done chan<- struct{}) {
		defer close(done)
		pw.CloseWithError(u.write(mw)) // nil: the reader sees io.EOF
	}(u.done)
	return pr, mw.FormDataContentType(), nil
}

// write writes the whole multipart body into mw.
func (u *upload) write(mw *multipart.Writer) error {
	part, err := mw.CreateFormFile(u.field, u.filename)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, u.r); err != nil {
		return fmt.Errorf("read %s: %w", u.filename, err)
	}
	return mw.Close()
}

// stop ends the current attempt's writer, if any, and waits for it. The
// transport may still hold the body after the answer came; closing the pipe
// makes the writer's next write fail, so it returns at its next write.
func (u *upload) stop() {
	if u.pr == nil {
		return
	}
	u.pr.CloseWithError(errUploadStopped)
	<-u.done
	u.pr, u.done = nil, nil
}
