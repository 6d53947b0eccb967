package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// uniquePNG is a small PNG-looking file no other upload has.
func uniquePNG(label string) []byte {
	return append(append([]byte{}, pngHead...), fmt.Sprintf("bukti %s %d", label, reportSeq.Add(1))...)
}

// A decided report (verified, rejected, duplicate) takes no evidence and no
// further decision: 409 report-decided, after the permission checks, and
// nothing is stored. A verified report still takes its takedown steps; a
// report not yet decided still takes evidence.
func TestReportDecidedIsFrozen(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			var dataDir string
			e := apptest.Start(t, b, worldOptions(&dataDir))
			w := newReportWorld(t, e, dataDir)
			store := filepath.Join(dataDir, "evidence")
			stored := func() []string { return files(t, store, func(rel string) bool { return rel == "tmp" }) }

			verified := w.build(t, []string{"verification verified"})
			rejected := w.build(t, []string{"review reject"})
			byOfficer := w.build(t, []string{"verification rejected"})
			duplicate := w.build(t, []string{"verification duplicate"})
			decided := []api.Report{verified, rejected, byOfficer, duplicate}

			filesBefore := stored()
			for _, rep := range decided {
				what := "evidence on a " + rep.Status + " report"
				before := fingerprint(t, e, rep.ID)
				png := uniquePNG(rep.ID)
				// Permission first: an outsider 404, a coordinator 403.
				check(t, what+" by an outsider", upload(t, e, tok(w.vol), rep.ID, "file", "x.png", "image/png", bytes.NewReader(png)), http.StatusNotFound, "not-found")
				check(t, what+" by the coordinator", upload(t, e, tok(w.coordA), rep.ID, "file", "x.png", "image/png", bytes.NewReader(png)), http.StatusForbidden, "forbidden")
				// The reporter: 409, and neither a row nor a file.
				check(t, what, upload(t, e, tok(w.reporter), rep.ID, "file", "x.png", "image/png", bytes.NewReader(png)), http.StatusConflict, "report-decided")
				// Even a file that is not evidence at all: the decision is told first.
				check(t, what+" (a text file)", upload(t, e, tok(w.reporter), rep.ID, "file", "x.png", "image/png", bytes.NewReader([]byte("bukan gambar"))), http.StatusConflict, "report-decided")
				if got := fingerprint(t, e, rep.ID); got != before {
					t.Errorf("%s: refused, yet the report changed:\n before %s\n after  %s", what, before, got)
				}
				if n := count(t, e, "evidence", "report_id = ?", rep.ID); n != 0 {
					t.Errorf("%s: %d evidence rows, want 0", what, n)
				}
				if _, err := os.Stat(filepath.Join(store, sha(png)[:2], sha(png))); err == nil {
					t.Errorf("%s: the file was stored", what)
				}
			}
			if got := stored(); !slices.Equal(got, filesBefore) {
				t.Errorf("store after refused uploads: got %v, want %v", got, filesBefore)
			}

			// Every decision again, by callers who may decide: 409
			// report-decided; callers who may not: 403/404 first.
			for _, c := range []struct {
				rep    api.Report
				action string
				token  string
				status int
				typ    string
			}{
				{rejected, "verification verified", tok(w.off31), http.StatusConflict, "report-decided"},
				{rejected, "review endorse", tok(w.coordA), http.StatusConflict, "report-decided"},
				{rejected, "verification duplicate", tok(w.offNat), http.StatusConflict, "report-decided"},
				{byOfficer, "verification verified", tok(w.admin), http.StatusConflict, "report-decided"},
				{verified, "verification rejected", tok(w.off31), http.StatusConflict, "report-decided"},
				{verified, "verification verified", tok(w.off31), http.StatusConflict, "report-decided"},
				{verified, "review reject", tok(w.coordA), http.StatusConflict, "report-decided"},
				{duplicate, "verification duplicate", tok(w.off31), http.StatusConflict, "report-decided"},
				{duplicate, "verification verified", tok(w.offNat), http.StatusConflict, "report-decided"},
				{duplicate, "takedown requested", tok(w.off31), http.StatusConflict, "report-decided"},
				{rejected, "takedown requested", tok(w.off31), http.StatusConflict, "report-decided"},
				{rejected, "verification verified", tok(w.off32), http.StatusNotFound, "not-found"},
				{rejected, "verification verified", tok(w.coordA), http.StatusForbidden, "forbidden"},
				{verified, "review endorse", tok(w.off31), http.StatusForbidden, "forbidden"},
				{verified, "verification verified", tok(w.reporter), http.StatusForbidden, "own-report"},
			} {
				what := fmt.Sprintf("%s on a %s report", c.action, c.rep.Status)
				before := fingerprint(t, e, c.rep.ID)
				check(t, what, actionNamed(c.action).do(t, e, c.token, c.rep.ID, w.original.ID), c.status, c.typ)
				if got := fingerprint(t, e, c.rep.ID); got != before {
					t.Errorf("%s: refused, yet the report changed", what)
				}
			}

			// What stays allowed: the verified report's takedown, and
			// evidence on reports not decided yet (submitted, endorsed).
			r := actionNamed("takedown requested").do(t, e, tok(w.off31), verified.ID, "")
			must(t, "takedown requested on a verified report", r, http.StatusOK, "")
			must(t, "takedown taken_down on a verified report", actionNamed("takedown taken_down").do(t, e, tok(w.off31), verified.ID, ""), http.StatusOK, "")
			if got := getReport(t, e, tok(w.reporter), verified.ID); got.Status != api.ReportVerified || len(got.Takedown) != 2 {
				t.Errorf("verified report after takedown: status %s, %d steps, want verified with 2", got.Status, len(got.Takedown))
			}
			for _, rep := range []api.Report{w.build(t, nil), w.build(t, []string{"review endorse"})} {
				png := uniquePNG(rep.ID)
				r := upload(t, e, tok(w.reporter), rep.ID, "file", "bukti.png", "image/png", bytes.NewReader(png))
				must(t, "evidence on a "+rep.Status+" report", r, http.StatusCreated, "")
				if got := getReport(t, e, tok(w.coordA), rep.ID); len(got.Evidence) != 1 || got.Evidence[0].SHA256 != sha(png) {
					t.Errorf("%s report's evidence: %+v, want %s", rep.Status, got.Evidence, sha(png))
				}
			}
		})
	}
}

// gate is a reader that gives head, then blocks until open is closed, then
// gives tail.
type gate struct {
	head, tail []byte
	open       chan struct{}
}

func (g *gate) Read(p []byte) (int, error) {
	if len(g.head) > 0 {
		n := copy(p, g.head)
		g.head = g.head[n:]
		return n, nil
	}
	<-g.open
	if len(g.tail) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.tail)
	g.tail = g.tail[n:]
	return n, nil
}

// A report verified while its evidence is still uploading: the upload,
// which passed the first check, is refused when it would be attached.
func TestReportDecidedDuringUpload(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			var dataDir string
			e := apptest.Start(t, b, worldOptions(&dataDir))
			w := newReportWorld(t, e, dataDir)
			rep := w.build(t, nil)
			png := uniquePNG(rep.ID)
			g := &gate{head: png[:len(pngHead)], tail: png[len(pngHead):], open: make(chan struct{})}
			answer := make(chan apptest.Response, 1)
			go func() { answer <- upload(t, e, tok(w.reporter), rep.ID, "file", "x.png", "image/png", g) }()
			// The store's temporary file shows the upload is past the
			// first check and streaming.
			tmp := filepath.Join(dataDir, "evidence", "tmp")
			deadline := time.Now().Add(10 * time.Second)
			for {
				if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
					break
				}
				if time.Now().After(deadline) {
					close(g.open)
					t.Fatalf("the upload never reached the store: %v", <-answer)
				}
				time.Sleep(5 * time.Millisecond)
			}
			must(t, "verify during the upload", actionNamed("verification verified").do(t, e, tok(w.off31), rep.ID, ""), http.StatusOK, "")
			close(g.open)
			select {
			case r := <-answer:
				check(t, "the upload that outlived the decision", r, http.StatusConflict, "report-decided")
			case <-time.After(30 * time.Second):
				t.Fatal("the upload never answered")
			}
			if n := count(t, e, "evidence", "report_id = ?", rep.ID); n != 0 {
				t.Errorf("%d evidence rows on the verified report, want 0", n)
			}
		})
	}
}
