package server_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
	"github.com/jarimu/jarimu/s3test"
)

// Evidence uploaded through one instance downloads through the other: with
// a bucket, the file is in the bucket and on neither instance's disk.
func TestEvidenceAcrossInstances(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			bucket := s3test.New(t)
			var dataDirs []string
			a, c := apptest.Two(t, b, apptest.WithBucket(bucket), func(o *app.Options) { dataDirs = append(dataDirs, o.DataDir) })
			who := volunteer(t, a, "Pelapor")
			rep := submitReport(t, a, tok(who), reportBody("", "3171", ""))
			content, _ := io.ReadAll(pngOf(3 << 20))

			r := upload(t, a, tok(who), rep.ID, "file", "bukti.png", "image/png", bytes.NewReader(content))
			must(t, "upload through A", r, http.StatusCreated, "")
			var ev api.Evidence
			r.Decode(t, &ev)
			path := reportPath(rep.ID, "/evidence/"+ev.SHA256)
			r = call(t, c, tok(who), "GET", path, nil)
			if check(t, "download through B", r, http.StatusOK, "") && !bytes.Equal(r.Body, content) {
				t.Errorf("download through B: %d bytes differ from the %d uploaded", len(r.Body), len(content))
			}
			r = c.Do(t, "GET", path, nil, append(apptest.Bearer(tok(who)), "Range", "bytes=1048576-1048675")...)
			if check(t, "a range through B", r, http.StatusPartialContent, "") && !bytes.Equal(r.Body, content[1<<20:1<<20+100]) {
				t.Errorf("a range through B: got %d bytes, not bytes 1048576-1048675", len(r.Body))
			}
			r = call(t, a, tok(who), "GET", path, nil)
			check(t, "download through A", r, http.StatusOK, "")

			// The same file through B: the same answer, still one object.
			r = upload(t, c, tok(who), rep.ID, "file", "lagi.png", "image/png", bytes.NewReader(content))
			must(t, "the same file through B", r, http.StatusCreated, "")
			var again api.Evidence
			if r.Decode(t, &again); again != ev {
				t.Errorf("the same file through B: got %+v, want %+v", again, ev)
			}
			if keys := bucket.Keys(t); len(keys) != 1 || keys[0] != s3test.Key(ev.SHA256) {
				t.Errorf("bucket: got %q, want only %s", keys, s3test.Key(ev.SHA256))
			}
			for _, dir := range dataDirs {
				for _, f := range files(t, dir, nil) {
					if strings.Contains(f, ev.SHA256) {
						t.Errorf("the file is on an instance's disk: %s/%s", dir, f)
					}
				}
			}
		})
	}
}

// second applies opt to the second app of apptest.Two only (Two starts
// them in order): one instance of a deployment whose evidence store is
// misconfigured or cut off.
func second(opt apptest.Option) apptest.Option {
	n := 0
	return func(o *app.Options) {
		if n++; n == 2 {
			opt(o)
		}
	}
}

// checkUnavailable checks a 503 "unavailable" with a Retry-After, and that
// the instance logged the cause.
func checkUnavailable(t *testing.T, what string, e *apptest.Env, r apptest.Response, cause string) {
	t.Helper()
	if !check(t, what, r, http.StatusServiceUnavailable, "unavailable") {
		return
	}
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", what)
	}
	if logs := e.Logs.String(); !strings.Contains(logs, "dependency unavailable") || !strings.Contains(logs, cause) {
		t.Errorf("%s: the log does not show the cause %q:\n%s", what, cause, logs)
	}
}

// storeRefuses checks an instance whose evidence store refuses (down, or
// wrong credentials) next to one whose store works: uploads and downloads
// on the first answer 503 and store nothing, the second serves as usual,
// and /readyz of the first says "degraded".
func storeRefuses(t *testing.T, good, bad *apptest.Env, cause string) {
	t.Helper()
	who := volunteer(t, good, "Pelapor")
	rep := submitReport(t, good, tok(who), reportBody("", "3171", ""))
	png := append(append([]byte{}, pngHead...), []byte("bukti tangkapan layar")...)
	r := upload(t, good, tok(who), rep.ID, "file", "bukti.png", "image/png", bytes.NewReader(png))
	must(t, "upload where the store works", r, http.StatusCreated, "")
	path := reportPath(rep.ID, "/evidence/"+sha(png))

	checkUnavailable(t, "download where the store refuses", bad, call(t, bad, tok(who), "GET", path, nil), cause)
	other := append(bytes.Clone(png), '2')
	checkUnavailable(t, "upload where the store refuses", bad, upload(t, bad, tok(who), rep.ID, "file", "x.png", "image/png", bytes.NewReader(other)), cause)
	if n := count(t, good, "evidence", "report_id = ?", rep.ID); n != 1 {
		t.Errorf("evidence rows: got %d, want 1 (the refused upload recorded nothing)", n)
	}
	// Refusals that need no store still come first.
	r = upload(t, bad, tok(who), rep.ID, "file", "x.png", "image/png", strings.NewReader("teks biasa"))
	check(t, "text where the store refuses", r, http.StatusUnprocessableEntity, "evidence-type")
	r = call(t, bad, tok(who), "GET", reportPath(rep.ID, "/evidence/"+sha(other)), nil)
	check(t, "a file the report does not have", r, http.StatusNotFound, "not-found")

	r = call(t, good, tok(who), "GET", path, nil)
	if check(t, "download where the store works", r, http.StatusOK, "") && !bytes.Equal(r.Body, png) {
		t.Errorf("download where the store works: got %q", r.Body)
	}
	r = bad.Do(t, "GET", "/readyz", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"degraded"`) || !strings.Contains(string(r.Body), `"evidence"`) {
		t.Errorf("/readyz where the store refuses: got %d %s, want 200 degraded with evidence", r.Status, r.Body)
	}
	if r := good.Do(t, "GET", "/readyz", nil); strings.Contains(string(r.Body), "evidence") {
		t.Errorf("/readyz where the store works: got %s", r.Body)
	}
}

// An instance whose bucket is down (nothing listens) answers 503, never 500.
func TestEvidenceStoreDown(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			down := second(func(o *app.Options) {
				o.EvidenceURL, o.EvidenceAccessKey, o.EvidenceSecretKey = s3test.Unreachable(t), "key", "secret"
			})
			good, bad := apptest.Two(t, b, down) // the first keeps evidence in the data dir
			storeRefuses(t, good, bad, "connection refused")
		})
	}
}

// An instance with a wrong secret key for the bucket answers 503, never 500.
func TestEvidenceWrongCredentials(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			bucket := s3test.New(t)
			wrong := second(func(o *app.Options) { o.EvidenceSecretKey += "-salah" })
			good, bad := apptest.Two(t, b, apptest.WithBucket(bucket), wrong)
			storeRefuses(t, good, bad, "signature")
		})
	}
}

// BenchmarkEvidenceHTTP measures evidence uploads (a new file each time)
// and downloads through the API over loopback, on SQLite, with each store:
// MB/s of file content, one client at a time.
func BenchmarkEvidenceHTTP(b *testing.B) {
	for _, st := range apptest.Stores {
		for _, size := range []int{1 << 20, 10 << 20} {
			name := fmt.Sprintf("store=%s/size=%dMiB", st, size>>20)
			b.Run(name+"/op=upload", func(b *testing.B) {
				e, token, repID := evidenceBenchServer(b, st)
				payload, _ := io.ReadAll(pngOf(int64(size)))
				b.SetBytes(int64(size))
				var i uint64
				for b.Loop() {
					i++
					binary.LittleEndian.PutUint64(payload[len(pngHead):], i) // new content, new file
					if r := upload(b, e, token, repID, "file", "b.png", "image/png", bytes.NewReader(payload)); r.Status != http.StatusCreated {
						b.Fatalf("upload: %d %s", r.Status, r.Body)
					}
				}
			})
			b.Run(name+"/op=download", func(b *testing.B) {
				e, token, repID := evidenceBenchServer(b, st)
				payload, _ := io.ReadAll(pngOf(int64(size)))
				if r := upload(b, e, token, repID, "file", "b.png", "image/png", bytes.NewReader(payload)); r.Status != http.StatusCreated {
					b.Fatalf("upload: %d %s", r.Status, r.Body)
				}
				req, _ := http.NewRequest("GET", e.URL+reportPath(repID, "/evidence/"+sha(payload)), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				buf := make([]byte, 32<<10)
				b.SetBytes(int64(size))
				for b.Loop() {
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.CopyBuffer(io.Discard, resp.Body, buf)
					resp.Body.Close()
					if err != nil || n != int64(size) || resp.StatusCode != http.StatusOK {
						b.Fatalf("download: %d, %d bytes, %v", resp.StatusCode, n, err)
					}
				}
			})
		}
	}
}

// evidenceBenchServer starts a server on SQLite with the store and files a
// report to attach files to.
func evidenceBenchServer(b *testing.B, store string) (*apptest.Env, string, string) {
	b.Helper()
	opt, _ := apptest.StoreOption(b, store)
	e := apptest.Start(b, dbtest.SQLite, opt)
	who := volunteer(b, e, "Pelapor")
	rep := submitReport(b, e, tok(who), reportBody("", "3171", ""))
	return e, tok(who), rep.ID
}
