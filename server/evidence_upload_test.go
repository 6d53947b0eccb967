package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
)

// multipartBody is a whole multipart/form-data body with content as its
// part "file", and the boundary it uses.
func multipartBody(t testing.TB, content []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile("file", "bukti.png")
	if err == nil {
		_, err = w.Write(content)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.Boundary()
}

// An upload whose media type is not spelt in lower case (media types are
// case-insensitive) is an upload like any other, with or without an
// Idempotency-Key (which uploads ignore): the key's middleware reads the
// media type as the handler does.
func TestUploadMediaTypeAnyCase(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		v := volunteer(t, e, "Pelapor")
		rep := submitReport(t, e, tok(v), reportBody("", "3171", ""))
		for i, mt := range []string{"multipart/form-data", "Multipart/Form-Data", "MULTIPART/FORM-DATA"} {
			for _, key := range []string{"", "unggah-" + fmt.Sprint(i)} {
				content := distinctPNG()
				body, boundary := multipartBody(t, content)
				hdr := append(apptest.Bearer(tok(v)), "Content-Type", mt+"; boundary="+boundary)
				if key != "" {
					hdr = append(hdr, "Idempotency-Key", key)
				}
				r := e.Do(t, "POST", reportPath(rep.ID, "/evidence"), body, hdr...)
				what := fmt.Sprintf("%s, Idempotency-Key %q", mt, key)
				if !check(t, what, r, http.StatusCreated, "") {
					continue
				}
				var ev api.Evidence
				r.Decode(t, &ev)
				if ev.SHA256 != sha(content) {
					t.Errorf("%s: stored %s, want %s", what, ev.SHA256, sha(content))
				}
				if r.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("%s: an upload was replayed", what)
				}
			}
		}
		if n := count(t, e, "evidence", "report_id = ?", rep.ID); n != 6 {
			t.Errorf("%d files attached, want 6", n)
		}
		if n := e.Count(t, "idempotency_keys"); n != 0 {
			t.Errorf("%d answers stored for Idempotency-Key, want none: uploads are not stored", n)
		}
	})
}

// slowServer serves e's app as `jarimu serve` does, with its read and write
// timeouts (60 s there) cut to half a second.
func slowServer(t testing.TB, e *apptest.Env) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(e.App.Server)
	srv.Config.ReadTimeout = 500 * time.Millisecond
	srv.Config.WriteTimeout = 500 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// rawUpload posts an evidence upload over a connection of its own: the
// headers, declaring declared bytes of body, then whatever send writes
// while the answer is awaited (its writes fail once the answer is in);
// with half, the connection's sending side is shut after send (a client
// that went away mid-body, as the server sees it). It returns the answer.
func rawUpload(t testing.TB, addr, token, reportID, contentType string, declared int, half bool, send func(w io.Writer) error) apptest.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		reportPath(reportID, "/evidence"), addr, token, contentType, declared)
	w := &stoppable{w: conn}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		if err := send(w); err == nil && half {
			conn.(*net.TCPConn).CloseWrite()
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	w.stop()
	<-sent
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// stoppable is a writer that fails once stopped.
type stoppable struct {
	mu      sync.Mutex
	w       io.Writer
	stopped bool
}

func (s *stoppable) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return 0, io.ErrClosedPipe
	}
	return s.w.Write(b)
}

func (s *stoppable) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

// trickle writes b in pieces of n bytes, one every pause.
func trickle(b []byte, n int, pause time.Duration) func(w io.Writer) error {
	return func(w io.Writer) error {
		for len(b) > 0 {
			k := min(n, len(b))
			if _, err := w.Write(b[:k]); err != nil {
				return err
			}
			b = b[k:]
			time.Sleep(pause)
		}
		return nil
	}
}

// An upload slower than the server's read timeout, but progressing, is
// stored; one that stops arriving for the idle limit, or that is still
// arriving at the upload's limit, gets 408 request-timeout, and nothing is
// stored or recorded (not a 500: the server's read timeout covered the
// whole body, so a slow phone's upload always failed).
func TestSlowUploads(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		addr := slowServer(t, e)
		v := volunteer(t, e, "Pelapor")
		rep := submitReport(t, e, tok(v), reportBody("", "3171", ""))

		// About 1.2 s for 24 KiB: more than twice the read timeout, well
		// within the upload's 4 s.
		content := append(distinctPNG(), bytes.Repeat([]byte{7}, 24<<10)...)
		body, boundary := multipartBody(t, content)
		ct := "multipart/form-data; boundary=" + boundary
		r := rawUpload(t, addr, tok(v), rep.ID, ct, len(body), false, trickle(body, 1<<10, 50*time.Millisecond))
		if check(t, "a slow upload", r, http.StatusCreated, "") {
			var ev api.Evidence
			r.Decode(t, &ev)
			if ev.SHA256 != sha(content) || ev.Size != int64(len(content)) {
				t.Errorf("a slow upload: stored %+v, want %s of %d bytes", ev, sha(content), len(content))
			}
		}

		for _, tc := range []struct {
			name   string
			send   func(body []byte) func(w io.Writer) error
			detail string
		}{
			// Half the body, then nothing for longer than the idle limit.
			{"stalled", func(body []byte) func(w io.Writer) error {
				return func(w io.Writer) error {
					_, err := w.Write(body[:len(body)/2])
					return err
				}
			}, "no data arrived"},
			// Bytes keep coming, too slowly to end within the limit.
			{"too slow in all", func(body []byte) func(w io.Writer) error {
				return trickle(body, 256, 100*time.Millisecond)
			}, "not complete after"},
		} {
			content := append(distinctPNG(), bytes.Repeat([]byte{9}, 48<<10)...)
			body, boundary := multipartBody(t, content)
			evidence, logs := e.Count(t, "evidence"), len(e.Logs.String())
			r := rawUpload(t, addr, tok(v), rep.ID, "multipart/form-data; boundary="+boundary, len(body), false, tc.send(body))
			if check(t, tc.name, r, http.StatusRequestTimeout, "request-timeout") {
				if d := r.Problem(t).Detail; !strings.Contains(d, tc.detail) {
					t.Errorf("%s: detail %q, want it to say %q", tc.name, d, tc.detail)
				}
			}
			if n := e.Count(t, "evidence"); n != evidence {
				t.Errorf("%s: %d files attached, want %d", tc.name, n, evidence)
			}
			if strings.Contains(e.Logs.String()[logs:], "dependency unavailable") {
				t.Errorf("%s: logged as a dependency's trouble", tc.name)
			}
		}
	}, func(o *app.Options) { o.UploadIdle, o.UploadTotal = time.Second, 4*time.Second })
}

// An upload cut off (the connection's sending side shut before the
// declared length, or a body that ends in the middle of its file part) is
// the request's fault: 400 malformed, nothing stored or recorded, and not
// 503 "the database is unavailable" with a warning of a dependency down,
// which it was taken for.
func TestCutOffUploads(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		addr := strings.TrimPrefix(e.URL, "http://")
		v := volunteer(t, e, "Pelapor")
		rep := submitReport(t, e, tok(v), reportBody("", "3171", ""))
		content := append(distinctPNG(), bytes.Repeat([]byte{5}, 64<<10)...)
		body, boundary := multipartBody(t, content)
		ct := "multipart/form-data; boundary=" + boundary
		cut := body[:len(body)/2]
		for _, tc := range []struct {
			name     string
			declared int
			half     bool
		}{
			{"the connection shut before the declared length", len(body), true},
			{"the body ends inside the file", len(cut), false},
		} {
			logs := len(e.Logs.String())
			r := rawUpload(t, addr, tok(v), rep.ID, ct, tc.declared, tc.half, func(w io.Writer) error {
				_, err := w.Write(cut)
				return err
			})
			check(t, tc.name, r, http.StatusBadRequest, "malformed")
			if r.Header.Get("Retry-After") != "" {
				t.Errorf("%s: Retry-After %q", tc.name, r.Header.Get("Retry-After"))
			}
			if strings.Contains(e.Logs.String()[logs:], "dependency unavailable") {
				t.Errorf("%s: logged as a dependency's trouble", tc.name)
			}
		}
		if n := count(t, e, "evidence", "report_id = ?", rep.ID); n != 0 {
			t.Errorf("%d files attached, want none", n)
		}
		// The whole body still goes through.
		r := rawUpload(t, addr, tok(v), rep.ID, ct, len(body), false, func(w io.Writer) error {
			_, err := w.Write(body)
			return err
		})
		check(t, "the whole body", r, http.StatusCreated, "")
	})
}
