package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/client"
	"github.com/jarimu/jarimu/report"
)

func runReport(ctx context.Context, con console, args []string) error {
	c := con.newCommand("report", "--url URL --platform P --category C --summary S [flags]",
		"Report a finding: content that may break election law, with screenshots or PDFs as\n"+
			"evidence (PNG, JPEG, WebP or PDF, at most 10 MiB each). Here --url is the content's\n"+
			"address; the server's is --server. Its sub-commands show a report and decide on it:\n"+
			"jarimu report show|review|verify|reject|duplicate|takedown (each takes --help).\n"+
			"A report is filed with --key, else a random key; when its outcome is unknown (the answer\n"+
			"was lost) or an evidence upload fails, the command to run again with that key and the\n"+
			"time observed is printed on standard error: run, it files the report once.",
		`jarimu report --url https://x.com/akun/status/123 --platform x --category disinformation --summary "Hoaks soal jadwal pencoblosan" --evidence layar.png`)
	content := c.fs.String("url", "", "the `URL` of the content reported")
	platform := c.fs.String("platform", "", "where it was seen: "+strings.Join(api.Platforms, ", "))
	category := c.fs.String("category", "", "what it breaks: "+strings.Join(api.Categories, ", "))
	summary := c.fs.String("summary", "", "what was seen, in a few sentences (10 to 4,000 characters)")
	regionCode := c.fs.String("region", "", "the region `CODE` it concerns (default: national)")
	orgID := c.fs.String("org", "", "the organisation `ID` to report for (its coordinators review it)")
	claimID := c.fs.String("claim", "", "the claim `ID` of the task this finding comes from")
	observed := c.fs.String("observed", "", "when it was seen, an RFC 3339 `TIME` such as 2029-02-14T08:30:00+07:00 (default now)")
	var evidence stringList
	c.fs.Var(&evidence, "evidence", "an evidence `FILE` to attach; give it once for each")
	key := c.keyFlag()
	if _, err := c.parse(args); err != nil {
		return err
	}
	if err := c.required("url", *content, "platform", *platform, "category", *category, "summary", *summary); err != nil {
		return err
	}
	var seen time.Time
	if *observed != "" {
		t, err := time.Parse(time.RFC3339, *observed)
		if err != nil {
			return usageError{fmt.Errorf("--observed %q: want an RFC 3339 time, such as 2029-02-14T08:30:00+07:00", *observed)}
		}
		seen = t
	}
	files, err := openEvidence(evidence)
	if err != nil {
		return err
	}
	defer closeAll(files)
	cl, _, err := c.session()
	if err != nil {
		return err
	}
	// The report is always filed with a key, named with the time observed
	// when the outcome is unknown: run again with both, it is filed once.
	if *key == "" {
		*key = rand.Text()
	}
	req, _, err := keyed(ctx, c, keyUse{key: *key}, func(at time.Time) (api.CreateReportRequest, error) {
		observed := seen
		if observed.IsZero() {
			observed = at.UTC()
		}
		return api.CreateReportRequest{ClaimID: optional(*claimID), OrgID: optional(*orgID), URL: *content, Platform: *platform,
			Category: *category, Summary: *summary, RegionCode: optional(*regionCode), ObservedAt: observed}, nil
	})
	if err != nil {
		return err
	}
	seen = req.ObservedAt
	rep, err := cl.CreateReport(ctx, req, client.IdempotencyKey(*key))
	if err != nil {
		if mayHaveRun(err) {
			c.rerunHint("the report may have been filed", args, *key, seen)
		}
		return err
	}
	if err := attachEvidence(ctx, cl, &rep, files); err != nil {
		c.rerunHint("report "+rep.ID+" was filed, without all its evidence", args, *key, seen)
		return err
	}
	if *c.json {
		return printJSON(c.stdout, rep)
	}
	return printReport(c, rep)
}

// mayHaveRun reports whether a request that failed with err may have been
// carried out all the same: its answer was lost (a network error, a
// timeout, an interruption), the server failed (5xx), or its key says it
// is running or has run. A refusal of the server (other 4xx) changed
// nothing.
func mayHaveRun(err error) bool {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Type == "idempotency-in-progress" || e.Type == "idempotency-applied"
	}
	return true
}

// rerunHint tells on standard error how to run report again, with args,
// its key and the time observed, so that the server files it once.
func (c *command) rerunHint(what string, args []string, key string, observed time.Time) {
	line := []string{"jarimu", "report"}
	for _, a := range args {
		line = append(line, shellQuote(a))
	}
	if !c.isSet("key") {
		line = append(line, "--key", shellQuote(key))
	}
	if !c.isSet("observed") {
		line = append(line, "--observed", observed.Format(time.RFC3339))
	}
	fmt.Fprintf(c.stderr, "jarimu: %s; its key is %s, observed %s. To try again without filing it twice, run:\n  %s\n",
		what, key, observed.Format(time.RFC3339), strings.Join(line, " "))
}

// shellQuote is s as one word of a POSIX shell.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// attachEvidence uploads files to rep, adding them to its evidence.
func attachEvidence(ctx context.Context, cl *client.Client, rep *api.Report, files []*os.File) error {
	for _, f := range files {
		ev, err := cl.UploadEvidence(ctx, rep.ID, filepath.Base(f.Name()), f)
		if err != nil {
			return fmt.Errorf("report %s was filed, but the evidence %s was not added: %w", rep.ID, f.Name(), explain(err))
		}
		rep.Evidence = appendEvidence(rep.Evidence, ev)
	}
	return nil
}

// openEvidence opens the evidence files, all before the report is filed, so
// that a missing or oversized one is found first.
func openEvidence(paths []string) ([]*os.File, error) {
	var files []*os.File
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			closeAll(files)
			return nil, fmt.Errorf("evidence: %w", err)
		}
		files = append(files, f)
		st, err := f.Stat()
		switch {
		case err != nil:
			closeAll(files)
			return nil, fmt.Errorf("evidence: %w", err)
		case !st.Mode().IsRegular():
			closeAll(files)
			return nil, fmt.Errorf("evidence %s: not a regular file", p)
		case st.Size() > report.MaxEvidence:
			closeAll(files)
			return nil, fmt.Errorf("evidence %s: %d bytes, more than the %d an evidence file may have", p, st.Size(), report.MaxEvidence)
		}
		if err := checkEvidenceType(f); err != nil {
			closeAll(files)
			return nil, fmt.Errorf("evidence %s: %w", p, err)
		}
	}
	return files, nil
}

// evidenceTypes are the types the server keeps, told by content.
var evidenceTypes = []string{"image/png", "image/jpeg", "image/webp", "application/pdf"}

// checkEvidenceType tells f's type by its content, as the server does,
// and leaves f at its start.
func checkEvidenceType(f *os.File) error {
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if ct := http.DetectContentType(head[:n]); !slices.Contains(evidenceTypes, ct) {
		return fmt.Errorf("%s is not evidence: only PNG, JPEG, WebP and PDF files are kept", ct)
	}
	return nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// appendEvidence adds ev to list unless a file of the same content is
// there: the server stores a file once.
func appendEvidence(list []api.Evidence, ev api.Evidence) []api.Evidence {
	for _, e := range list {
		if e.SHA256 == ev.SHA256 {
			return list
		}
	}
	return append(list, ev)
}

// printReport writes a report as key: value lines, then its evidence.
func printReport(c *command, r api.Report) error {
	cluster := r.ClusterID
	if r.ClusterSize > 1 {
		cluster += fmt.Sprintf(" (%d reports of this content)", r.ClusterSize)
	}
	err := printFields(c.stdout, "report", r.ID, "status", r.Status, "url", r.URL, "platform", r.Platform,
		"category", r.Category, "region", regionLabel(r.RegionCode), "observed", when(r.ObservedAt),
		"cluster", cluster, "organisation", deref(r.OrgID, ""), "claim", deref(r.ClaimID, ""), "summary", r.Summary,
		"review note", r.ReviewNote, "verification", r.VerifyNote, "published as", deref(r.PublicSummary, ""), "duplicate of", deref(r.DuplicateOf, ""))
	if err == nil && len(r.Evidence) > 0 {
		fmt.Fprintln(c.stdout, "\nevidence:")
		t := newTable(c.stdout, "  SHA-256", "SIZE", "TYPE")
		for _, e := range r.Evidence {
			t.row("  "+e.SHA256, strconv.FormatInt(e.Size, 10), e.ContentType)
		}
		err = t.flush()
	}
	if err == nil && len(r.Takedown) > 0 {
		fmt.Fprintln(c.stdout, "\ntakedown:")
		t := newTable(c.stdout, "  AT", "STATUS", "REFERENCE", "NOTE")
		for _, s := range r.Takedown {
			t.row("  "+when(s.At), s.Status, s.PlatformRef, short(s.Note, 60))
		}
		err = t.flush()
	}
	return err
}
