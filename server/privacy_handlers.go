package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/problem"
)

// trackWriter notes whether anything was written, so a failure after the
// answer began aborts the connection instead of appending a problem to a
// half-written file.
type trackWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "zip" {
		return problem.BadQueryType.New("format must be json or zip")
	}
	name := "jarimu-data-" + time.Now().UTC().Format("2006-01-02") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	tw := &trackWriter{ResponseWriter: w}
	if format == "zip" {
		w.Header().Set("Content-Type", "application/zip")
		err = s.privacy.ExportZip(r.Context(), p.UserID, tw)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err = s.privacy.Export(r.Context(), p.UserID, tw)
	}
	if err != nil && tw.wrote {
		s.log.ErrorContext(r.Context(), "export failed midway; connection aborted", slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		w.Header().Del("Content-Disposition")
	}
	return err
}

func (s *Server) handleDeleteMe(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req api.DeleteMeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if _, err := s.privacy.EraseSelf(r.Context(), p, req.Password, clientIP(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleEraseUser(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if !p.IsAdmin() {
		return problem.Errorf(problem.Forbidden, "only admins erase other accounts")
	}
	var req api.EraseUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	out, err := s.privacy.EraseByAdmin(r.Context(), p, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, out)
	return nil
}
