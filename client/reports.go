package client

import (
	"context"
	"io"
	"iter"
	"net/http"
	"net/url"

	"github.com/jarimu/jarimu/api"
)

// ReportFilter selects reports (GET /v1/reports) among those the caller may
// see: their own, their orgs' as coordinator, their region's as officer.
// Empty fields are not sent.
type ReportFilter struct {
	// Status is api.ReportSubmitted, api.ReportEndorsed, api.ReportRejected,
	// api.ReportVerified or api.ReportDuplicate.
	Status string
	// OrgID keeps the reports filed for this org.
	OrgID string
	// Category is one of api.Categories.
	Category string
	// Region keeps the reports of this Kemendagri region code or below it.
	Region string
	ListOptions
}

func reportRoute(id string, segments ...string) route { return routeTo("/v1/reports", id, segments...) }

// CreateReport files a finding. Reports of the same normalized URL share a
// ClusterID.
func (c *Client) CreateReport(ctx context.Context, req api.CreateReportRequest, opts ...CallOption) (api.Report, error) {
	return call[api.Report](ctx, c, http.MethodPost, route{path: "/v1/reports"}, nil, req, opts...)
}

// Reports returns one page of the reports f selects, newest first.
func (c *Client) Reports(ctx context.Context, f ReportFilter) (api.Page[api.Report], error) {
	q := url.Values{}
	setNonEmpty(q, "status", f.Status)
	setNonEmpty(q, "org_id", f.OrgID)
	setNonEmpty(q, "category", f.Category)
	setNonEmpty(q, "region", f.Region)
	f.ListOptions.addTo(q)
	return call[api.Page[api.Report]](ctx, c, http.MethodGet, route{path: "/v1/reports"}, q, nil)
}

// AllReports yields every report f selects, following the pages from
// f.Cursor (see All).
func (c *Client) AllReports(ctx context.Context, f ReportFilter) iter.Seq2[api.Report, error] {
	return All(ctx, from(f.ListOptions, func(ctx context.Context, o ListOptions) (api.Page[api.Report], error) {
		g := f
		g.ListOptions = o
		return c.Reports(ctx, g)
	}))
}

// Report returns report id with its evidence and takedown history; 404 when
// it does not exist or the caller may not see it.
func (c *Client) Report(ctx context.Context, id string) (api.Report, error) {
	return call[api.Report](ctx, c, http.MethodGet, reportRoute(id), nil, nil)
}

// UploadEvidence adds a file to report reportID; its reporter only. The
// server keeps PNG, JPEG, WebP and PDF files (told by their content, not by
// filename) of at most 10 MiB, addressed by their SHA-256: sending the same
// file twice stores it once.
//
// The file is streamed as the multipart part "file" while it is read from
// r, never held whole in memory. An r that can seek (an *os.File) is sent
// again from where it stood when a retry is due; any other is sent once. r is
// not read after UploadEvidence returns.
//
// The Client's http.Client timeout (30 s by default) bounds the whole
// upload; on slow networks give a longer one with WithHTTPClient.
func (c *Client) UploadEvidence(ctx context.Context, reportID, filename string, r io.Reader) (api.Evidence, error) {
	var ev api.Evidence
	rt := reportRoute(reportID, "evidence")
	if rt.err != nil {
		return ev, rt.err
	}
	req, err := c.newRequest(http.MethodPost, rt.path, nil, nil, nil)
	if err != nil {
		return ev, err
	}
	req.upload = newUpload("file", filename, r)
	defer req.upload.stop()
	req.retry = req.retry && req.resendable()
	err = c.run(ctx, req, &ev)
	return ev, err
}

// Evidence opens the evidence file sha (its SHA-256, as api.Evidence names
// it) of report reportID, for those who may see the report. The caller reads
// and closes the file; contentType is the type decided at upload. The
// Client's http.Client timeout bounds the reading too.
func (c *Client) Evidence(ctx context.Context, reportID, sha string) (file io.ReadCloser, contentType string, err error) {
	d, err := fetch(ctx, c, reportRoute(reportID, "evidence", sha), nil, accept("*/*"))
	if err != nil {
		return nil, "", err
	}
	return d.body, d.header.Get("Content-Type"), nil
}

// Review endorses or rejects report id (a rejection needs a Note, shown to
// the reporter); coordinators of its org, never their own report.
func (c *Client) Review(ctx context.Context, id string, req api.ReviewRequest, opts ...CallOption) (api.Report, error) {
	return call[api.Report](ctx, c, http.MethodPost, reportRoute(id, "review"), nil, req, opts...)
}

// Verify records an officer's decision on report id: verified, rejected
// (with a Note) or duplicate (with DuplicateOf); officers of its region,
// never on their own report.
func (c *Client) Verify(ctx context.Context, id string, req api.VerificationRequest, opts ...CallOption) (api.Report, error) {
	return call[api.Report](ctx, c, http.MethodPost, reportRoute(id, "verification"), nil, req, opts...)
}

// Takedown records a step of the takedown of report id's content (requested,
// taken_down or refused by the platform); officers only. The answer holds
// the whole takedown history.
func (c *Client) Takedown(ctx context.Context, id string, req api.TakedownRequest, opts ...CallOption) (api.Report, error) {
	return call[api.Report](ctx, c, http.MethodPost, reportRoute(id, "takedown"), nil, req, opts...)
}
