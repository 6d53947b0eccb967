package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/report"
)

func (s *Server) handleCreateReport(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusCreated, func(r *http.Request, p auth.Principal, req api.CreateReportRequest) (api.Report, error) {
		return s.reports.Create(r.Context(), p, req)
	}, func(x api.Report) string { return "/v1/reports/" + x.ID })(w, r)
}

func (s *Server) handleListReports(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q, err := readList(r, enum{"status", []string{api.ReportSubmitted, api.ReportEndorsed, api.ReportRejected, api.ReportVerified, api.ReportDuplicate}},
		enum{"category", api.Categories})
	if err != nil {
		return err
	}
	orgID, err := idQuery(r, "org_id", "an organisation's id")
	if err != nil {
		return err
	}
	rs, err := s.reports.List(r.Context(), p, report.Filter{Status: q.enums["status"], OrgID: orgID,
		Category: q.enums["category"], Region: q.region, Before: q.before, Limit: q.fetch()})
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, paginate(rs, q.page, func(x api.Report) string { return x.ID }))
	return nil
}

func (s *Server) handleGetReport(w http.ResponseWriter, r *http.Request) error {
	return answer(http.StatusOK, func(r *http.Request, p auth.Principal) (api.Report, error) {
		return s.reports.Get(r.Context(), p, r.PathValue("id"))
	})(w, r)
}

func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.ReviewRequest) (api.Report, error) {
		return s.reports.Review(r.Context(), p, r.PathValue("id"), req)
	}, nil)(w, r)
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.VerificationRequest) (api.Report, error) {
		return s.reports.Verify(r.Context(), p, r.PathValue("id"), req)
	}, nil)(w, r)
}

func (s *Server) handleTakedown(w http.ResponseWriter, r *http.Request) error {
	return command(http.StatusOK, func(r *http.Request, p auth.Principal, req api.TakedownRequest) (api.Report, error) {
		return s.reports.Takedown(r.Context(), p, r.PathValue("id"), req)
	}, nil)(w, r)
}

// maxUpload bounds an evidence request: the file plus multipart overhead.
const maxUpload = report.MaxEvidence + 64<<10

// handleAddEvidence streams the multipart "file" part to the store; nothing
// is held whole in memory. The body has the upload deadlines (paceUpload),
// and a failed read of it is the request's problem (400, 408, 413), never
// taken for the database's.
func (s *Server) handleAddEvidence(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return problem.Errorf(problem.UnsupportedMedia, "evidence is sent as multipart/form-data with a part named file")
	}
	if r.ContentLength > maxUpload {
		return problem.Errorf(problem.TooLarge, "evidence files are at most %d bytes", report.MaxEvidence)
	}
	paceUpload(w, r, s.uploadIdle, s.uploadTotal)
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return problem.Errorf(problem.Malformed, "the multipart body cannot be read")
	}
	ev, err := s.reports.AddEvidence(r.Context(), p, r.PathValue("id"), func() (io.Reader, error) {
		part, err := filePart(mr)
		if err != nil {
			return nil, err
		}
		return partReader{part}, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/reports/"+r.PathValue("id")+"/evidence/"+ev.SHA256)
	encode(w, http.StatusCreated, ev)
	return nil
}

// filePart reads a multipart body up to its part named file (other parts
// are skipped): 400 when the body cannot be read (408 when it stopped
// arriving, 413 when it is too large), 422 when it has no file.
func filePart(mr *multipart.Reader) (io.Reader, error) {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, problem.Validation(api.FieldError{Field: "file", Message: "is required"})
		}
		var mbe *http.MaxBytesError
		if _, ok := problem.As(err); ok || errors.As(err, &mbe) {
			return nil, err
		}
		if err != nil {
			return nil, problem.Errorf(problem.Malformed, "the multipart body cannot be read")
		}
		if part.FormName() == "file" {
			return part, nil
		}
		part.Close()
	}
}

// handleGetEvidence serves a file to those who may see its report, always
// as a download with the type decided at upload, never sniffed. The file is
// streamed from the store; a Range of one span answers 206 with those bytes
// (a request for several spans gets the whole file: each span would be one
// more read of the store). The ETag is the content's SHA-256, so If-Range
// and If-None-Match work.
func (s *Server) handleGetEvidence(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	f, ev, err := s.reports.OpenEvidence(r.Context(), p, r.PathValue("id"), r.PathValue("sha"))
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", ev.ContentType)
	h.Set("Content-Disposition", `attachment; filename="`+ev.SHA256+evidence.Extension(ev.ContentType)+`"`)
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("ETag", `"`+ev.SHA256+`"`)
	if strings.Contains(r.Header.Get("Range"), ",") {
		r.Header.Del("Range")
	}
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}
