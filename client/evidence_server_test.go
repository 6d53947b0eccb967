package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/app"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/dbtest"
	privacy "github.com/jarimu/jarimu/notice"
	"github.com/jarimu/jarimu/s3test"
)

// onlyReader hides every method of r but Read: the client sends it once.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// reporter signs a volunteer up on e and files a report.
func reporter(t *testing.T, e *apptest.Env) (*client.Client, api.Report) {
	t.Helper()
	ctx := context.Background()
	c := client.New(e.URL)
	email := "saksi" + time.Now().Format("150405.000000000") + "@example.org"
	if _, err := c.Signup(ctx, api.SignupRequest{Email: email, Password: apptest.Password, Name: "Saksi", PrivacyVersion: privacy.Version}); err != nil {
		t.Fatal(err)
	}
	rep, err := c.CreateReport(ctx, api.CreateReportRequest{URL: "https://x.com/akun/status/" + email[5:20], Platform: "x",
		Category: "disinformation", Summary: "Unggahan menyebut TPS dipindah tanpa pengumuman KPU.", ObservedAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return c, rep
}

// The SDK's upload and download against a real server, on each database and
// each evidence store: a file past the bucket's part size streams up and
// comes back intact, the same file again is the same evidence, and a
// refusal is the server's problem.
func TestEvidenceRoundTripOnEachStore(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		for _, st := range apptest.Stores {
			t.Run(string(b)+"/"+st, func(t *testing.T) {
				opt, bucket := apptest.StoreOption(t, st)
				e := apptest.Start(t, b, opt)
				c, rep := reporter(t, e)
				ctx := context.Background()
				file := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("laporan pelanggaran kampanye\n"), 250_000)...) // 7 MiB
				sum := sha256.Sum256(file)
				want := api.Evidence{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(file)), ContentType: "application/pdf"}
				ev, err := c.UploadEvidence(ctx, rep.ID, "laporan.pdf", onlyReader{bytes.NewReader(file)})
				if err != nil || ev != want {
					t.Fatalf("upload: got %+v, %v, want %+v", ev, err, want)
				}
				if again, err := c.UploadEvidence(ctx, rep.ID, "lagi.pdf", bytes.NewReader(file)); err != nil || again != want {
					t.Errorf("the same file again: got %+v, %v, want %+v", again, err, want)
				}
				body, ct, err := c.Evidence(ctx, rep.ID, ev.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(body)
				body.Close()
				if err != nil || !bytes.Equal(got, file) || ct != "application/pdf" {
					t.Errorf("download: got %d bytes of %s, %v, want the %d uploaded as application/pdf", len(got), ct, err, len(file))
				}
				_, err = c.UploadEvidence(ctx, rep.ID, "foto.png", strings.NewReader("bukan gambar"))
				if !client.IsProblem(err, "evidence-type") {
					t.Errorf("a text file: got %v, want evidence-type", err)
				}
				if bucket != nil {
					if keys := bucket.Keys(t); len(keys) != 1 || keys[0] != s3test.Key(ev.SHA256) {
						t.Errorf("bucket: got %q, want only %s", keys, s3test.Key(ev.SHA256))
					}
				}
			})
		}
	}
}

// With the evidence store down the SDK reports the server's 503
// "unavailable", and the report is left without the file.
func TestEvidenceStoreDownThroughSDK(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite, func(o *app.Options) {
		o.EvidenceURL, o.EvidenceAccessKey, o.EvidenceSecretKey = s3test.Unreachable(t), "key", "secret"
	})
	c, rep := reporter(t, e)
	_, err := c.UploadEvidence(context.Background(), rep.ID, "foto.png", onlyReader{strings.NewReader("\x89PNG\r\n\x1a\n tangkapan layar")})
	if client.StatusOf(err) != http.StatusServiceUnavailable || !client.IsProblem(err, "unavailable") {
		t.Errorf("upload: got %v, want 503 unavailable", err)
	}
	if got, err := c.Report(context.Background(), rep.ID); err != nil || len(got.Evidence) != 0 {
		t.Errorf("report: got %+v, %v, want no evidence", got.Evidence, err)
	}
}
