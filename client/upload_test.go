package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

// filePart is the "file" part of a multipart upload as a server reads it.
type filePart struct {
	contentType string // of the request
	form        string
	filename    string
	data        []byte
	length      int64 // of the request; -1: unknown (streamed)
	auth        string
}

// readFilePart reads the first part of a multipart request.
func readFilePart(r *http.Request) (filePart, error) {
	fp := filePart{contentType: r.Header.Get("Content-Type"), length: r.ContentLength}
	mr, err := r.MultipartReader()
	if err != nil {
		return fp, err
	}
	part, err := mr.NextPart()
	if err != nil {
		return fp, err
	}
	fp.form, fp.filename = part.FormName(), part.FileName()
	if fp.data, err = io.ReadAll(part); err != nil {
		return fp, err
	}
	if _, err := mr.NextPart(); err != io.EOF {
		return fp, errors.New("more than one part")
	}
	return fp, nil
}

// gatedReader yields first, then blocks until gate is closed, then yields
// rest: a file that cannot be read whole before the server has started
// reading it.
type gatedReader struct {
	first, rest []byte
	gate        <-chan struct{}
	opened      bool
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if len(g.first) > 0 {
		n := copy(p, g.first)
		g.first = g.first[n:]
		return n, nil
	}
	if !g.opened {
		select {
		case <-g.gate:
			g.opened = true
		case <-time.After(10 * time.Second):
			return 0, errors.New("the server saw nothing of the file while the client held it: the upload is buffered")
		}
	}
	if len(g.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.rest)
	g.rest = g.rest[n:]
	return n, nil
}

// The upload is a proper multipart body with the part "file", and is
// streamed: the server reads the start of the file while the client has not
// read its end yet.
func TestUploadEvidenceStreams(t *testing.T) {
	first := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 64<<10) // 256 KiB
	rest := bytes.Repeat([]byte("IDAT"), 256<<10)              // 1 MiB
	gate := make(chan struct{})
	received := make(chan filePart, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			writeProblem(w, http.StatusUnsupportedMediaType, "unsupported-media-type", err.Error(), nil)
			return
		}
		part, err := mr.NextPart()
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "malformed", err.Error(), nil)
			return
		}
		head := make([]byte, 1024)
		if _, err := io.ReadFull(part, head); err != nil {
			writeProblem(w, http.StatusBadRequest, "malformed", err.Error(), nil)
			return
		}
		close(gate)
		tail, _ := io.ReadAll(part)
		got := filePart{contentType: r.Header.Get("Content-Type"), form: part.FormName(), filename: part.FileName(),
			data: append(head, tail...), length: r.ContentLength, auth: r.Header.Get("Authorization")}
		received <- got
		writeJSON(w, http.StatusCreated, api.Evidence{SHA256: "5ha", Size: int64(len(got.data)), ContentType: "image/png"})
	}))
	defer srv.Close()
	c := New(srv.URL, WithTokens(api.Tokens{AccessToken: "access-0", RefreshToken: "refresh-0", ExpiresIn: 900}))

	ev, err := c.UploadEvidence(context.Background(), "r 1", `tangkapan "layar".png`, &gatedReader{first: first, rest: rest, gate: gate})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), first...), rest...)
	got := <-received
	if got.form != "file" || got.filename != `tangkapan "layar".png` || !bytes.Equal(got.data, want) {
		t.Errorf("got part %q named %q with %d bytes (equal: %v), want part \"file\" with the %d bytes of the file",
			got.form, got.filename, len(got.data), bytes.Equal(got.data, want), len(want))
	}
	if got.length != -1 {
		t.Errorf("Content-Length: got %d, want none (streamed)", got.length)
	}
	if ev.SHA256 != "5ha" || ev.Size != int64(len(want)) {
		t.Errorf("answer: got %+v", ev)
	}
	mt, params, _ := mime.ParseMediaType(got.contentType)
	if mt != "multipart/form-data" || params["boundary"] == "" {
		t.Errorf("Content-Type: got %q, want multipart/form-data with a boundary", got.contentType)
	}
	if got.auth != "Bearer access-0" {
		t.Errorf("Authorization: got %q", got.auth)
	}
}

// uploadServer answers evidence uploads of report r1 with the given
// statuses in turn (then 201), recording each file part received.
type uploadServer struct {
	*fakeServer
	mu       sync.Mutex
	statuses []int
	parts    []filePart
}

func newUploadServer(t *testing.T, statuses ...int) *uploadServer {
	u := &uploadServer{fakeServer: newFakeServer(t), statuses: statuses}
	u.mux.HandleFunc("POST /v1/reports/{id}/evidence", func(w http.ResponseWriter, r *http.Request) {
		if !u.authorized(w, r) {
			return
		}
		fp, err := readFilePart(r)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "malformed", err.Error(), nil)
			return
		}
		u.mu.Lock()
		u.parts = append(u.parts, fp)
		status := http.StatusCreated
		if len(u.statuses) > 0 {
			status, u.statuses = u.statuses[0], u.statuses[1:]
		}
		u.mu.Unlock()
		if status != http.StatusCreated {
			writeProblem(w, status, "unavailable", "try again", nil)
			return
		}
		writeJSON(w, status, api.Evidence{SHA256: "5ha", Size: int64(len(fp.data))})
	})
	return u
}

func (u *uploadServer) received() []filePart {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]filePart(nil), u.parts...)
}

// onlyReader hides every method of r but Read: it cannot seek.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestUploadEvidenceRetriesOnlyWhatCanSeek(t *testing.T) {
	ctx := context.Background()
	data := []byte("hdr-%PDF-1.7 tiny evidence")

	t.Run("seekable: sent again from where it stood", func(t *testing.T) {
		u := newUploadServer(t, http.StatusServiceUnavailable)
		c, s := u.client(WithTokens(u.tokens(0)))
		r := bytes.NewReader(data)
		r.Seek(4, io.SeekStart) // the caller skipped a header of its own
		if _, err := c.UploadEvidence(ctx, "r1", "bukti.pdf", r); err != nil {
			t.Fatal(err)
		}
		parts := u.received()
		if len(parts) != 2 || len(s.waits()) != 1 {
			t.Fatalf("got %d attempts after %d waits, want 2 after 1", len(parts), len(s.waits()))
		}
		for i, p := range parts {
			if string(p.data) != string(data[4:]) {
				t.Errorf("attempt %d: got %q, want %q", i+1, p.data, data[4:])
			}
		}
		keys := u.requests("/v1/reports/r1/evidence")
		if k0, k1 := keys[0].Header.Get("Idempotency-Key"), keys[1].Header.Get("Idempotency-Key"); k0 == "" || k0 != k1 {
			t.Errorf("Idempotency-Key: got %q then %q, want one key reused", k0, k1)
		}
	})

	t.Run("not seekable: sent once", func(t *testing.T) {
		u := newUploadServer(t, http.StatusServiceUnavailable)
		c, _ := u.client(WithTokens(u.tokens(0)))
		_, err := c.UploadEvidence(ctx, "r1", "bukti.pdf", onlyReader{bytes.NewReader(data)})
		if StatusOf(err) != http.StatusServiceUnavailable {
			t.Fatalf("got %v, want the 503", err)
		}
		if n := len(u.received()); n != 1 {
			t.Errorf("got %d attempts, want 1", n)
		}
	})

	t.Run("refused token: refreshed, then sent again", func(t *testing.T) {
		u := newUploadServer(t)
		c, _ := u.client(WithTokens(api.Tokens{AccessToken: "stale", RefreshToken: "refresh-0", ExpiresIn: 900}))
		if _, err := c.UploadEvidence(ctx, "r1", "bukti.pdf", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if parts := u.received(); len(parts) != 1 || string(parts[0].data) != string(data) || u.refreshHits.Load() != 1 {
			t.Errorf("got %d uploads received after %d refreshes, want 1 whole after 1", len(parts), u.refreshHits.Load())
		}
	})

	t.Run("refused token, not seekable: refreshed, error says to call again", func(t *testing.T) {
		u := newUploadServer(t)
		c, _ := u.client(WithTokens(api.Tokens{AccessToken: "stale", RefreshToken: "refresh-0", ExpiresIn: 900}))
		_, err := c.UploadEvidence(ctx, "r1", "bukti.pdf", onlyReader{bytes.NewReader(data)})
		if !IsProblem(err, "invalid-token") || !strings.Contains(err.Error(), "call again") {
			t.Fatalf("got %v, want the 401 saying to call again", err)
		}
		if c.Tokens().AccessToken != "access-1" {
			t.Errorf("tokens: got %+v, want refreshed", c.Tokens())
		}
		if _, err := c.UploadEvidence(ctx, "r1", "bukti.pdf", onlyReader{bytes.NewReader(data)}); err != nil {
			t.Errorf("called again: %v", err)
		}
	})
}

func TestEvidenceDownload(t *testing.T) {
	f := newFakeServer(t)
	png := []byte("\x89PNG\r\n\x1a\nrest")
	f.mux.HandleFunc("GET /v1/reports/{id}/evidence/{sha}", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(w, r) {
			return
		}
		if r.PathValue("sha") != "5ha" {
			writeProblem(w, http.StatusNotFound, "not-found", "no such evidence", nil)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	})
	c, _ := f.client(WithTokens(f.tokens(0)))
	ctx := context.Background()

	body, ct, err := c.Evidence(ctx, "r/1", "5ha")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if !bytes.Equal(got, png) || ct != "image/png" {
		t.Errorf("got %q (%s), want %q (image/png)", got, ct, png)
	}
	s := f.requests("/v1/reports/r%2F1/evidence/5ha")
	if len(s) != 1 || s[0].Header.Get("Accept") != "*/*" || s[0].Header.Get("Authorization") != "Bearer access-0" {
		t.Errorf("got requests %+v, want one with Accept */* and the token", s)
	}
	if _, _, err := c.Evidence(ctx, "r1", "other"); !IsProblem(err, "not-found") {
		t.Errorf("unknown file: got %v, want not-found", err)
	}
}

func TestOpenExport(t *testing.T) {
	f := newFakeServer(t)
	const csv = "id,name\r\no1,Perludem\r\n"
	f.mux.HandleFunc("GET /v1/open/orgs.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		io.WriteString(w, csv)
	})
	c, _ := f.client(WithTokens(f.tokens(0)))
	ctx := context.Background()

	body, err := c.OpenExport(ctx, "orgs", "csv")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if string(got) != csv {
		t.Errorf("got %q, want %q", got, csv)
	}
	s := f.requests("/v1/open/orgs.csv")
	if len(s) != 1 || s[0].Header.Get("Authorization") != "" || !strings.HasPrefix(s[0].Header.Get("Accept"), "text/csv") {
		t.Errorf("got requests %+v, want one without a token, accepting text/csv", s)
	}
	for _, bad := range [][2]string{{"orgs", "xml"}, {"../me", "json"}, {"", "csv"}} {
		if _, err := c.OpenExport(ctx, bad[0], bad[1]); err == nil {
			t.Errorf("OpenExport(%q, %q): got no error", bad[0], bad[1])
		}
	}
	if _, err := c.OpenExport(ctx, "alerts", "json"); StatusOf(err) != http.StatusNotFound {
		t.Errorf("unserved dataset: got %v, want a 404 *Error", err)
	}
	if n := len(f.all()); n != 2 {
		t.Errorf("got %d requests, want 2", n)
	}
}

// The iterators of tasks, reports and alerts keep their filter on every
// page and follow the cursors.
func TestAllTasksReportsAlerts(t *testing.T) {
	f := newFakeServer(t)
	page := func(cursor string) (ids []string, next string) {
		switch cursor {
		case "":
			return []string{"a", "b"}, "c2"
		case "c2":
			return []string{"c"}, ""
		}
		return nil, ""
	}
	for _, p := range []string{"GET /v1/tasks", "GET /v1/reports", "GET /v1/alerts"} {
		f.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			ids, next := page(r.URL.Query().Get("cursor"))
			items := make([]map[string]string, len(ids))
			for i, id := range ids {
				items[i] = map[string]string{"id": id}
			}
			writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": next})
		})
	}
	c, _ := f.client(WithTokens(f.tokens(0)))
	ctx := context.Background()
	collect := func(seq func(yield func(string, error) bool)) []string {
		var ids []string
		for id, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	tests := []struct {
		path, firstQuery string
		ids              []string
	}{
		{"/v1/tasks", "limit=2&scope=mine", collect(func(yield func(string, error) bool) {
			for x, err := range c.AllTasks(ctx, TaskFilter{Scope: ScopeMine, ListOptions: ListOptions{Limit: 2}}) {
				if !yield(x.ID, err) {
					return
				}
			}
		})},
		{"/v1/reports", "limit=2&status=verified", collect(func(yield func(string, error) bool) {
			for x, err := range c.AllReports(ctx, ReportFilter{Status: api.ReportVerified, ListOptions: ListOptions{Limit: 2}}) {
				if !yield(x.ID, err) {
					return
				}
			}
		})},
		{"/v1/alerts", "limit=2&region=31", collect(func(yield func(string, error) bool) {
			for x, err := range c.AllAlerts(ctx, AlertFilter{Region: "31", ListOptions: ListOptions{Limit: 2}}) {
				if !yield(x.ID, err) {
					return
				}
			}
		})},
	}
	for _, tt := range tests {
		if strings.Join(tt.ids, " ") != "a b c" {
			t.Errorf("%s: got %v, want [a b c]", tt.path, tt.ids)
		}
		var queries []string
		for _, s := range f.requests(tt.path) {
			queries = append(queries, s.Query)
		}
		if want := []string{tt.firstQuery, "cursor=c2&" + tt.firstQuery}; strings.Join(queries, " ") != strings.Join(want, " ") {
			t.Errorf("%s: got queries %q, want %q", tt.path, queries, want)
		}
	}
}
