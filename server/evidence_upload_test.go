package server_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/jarimu/jarimu/api"
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
