package server

import (
	"bytes"
	"context"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/idempotency"
)

// idempotent replays the first answer to a POST retried with the same
// Idempotency-Key, user and body (see package idempotency). /v1/auth/* and
// /v1/me/password answers carry secrets and are never stored; multipart uploads are content-addressed
// and idempotent by themselves.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		p, authed := auth.PrincipalFrom(r.Context())
		if r.Method != http.MethodPost || key == "" || !authed ||
			strings.HasPrefix(r.URL.Path, "/v1/auth/") || r.URL.Path == "/v1/me/password" ||
			multipartBody(r) {
			next.ServeHTTP(w, r)
			return
		}
		if err := idempotency.CheckKey(key); err != nil {
			s.writeError(w, r, err)
			return
		}
		var body []byte
		if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
			var err error
			if body, err = readBody(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		hash := idempotency.Hash(r.Method, r.URL.Path, body)
		replay, attempt, err := s.idem.Begin(r.Context(), p.UserID, key, hash)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if replay != nil {
			w.Header().Set("Idempotent-Replayed", "true")
			writeRecord(w, replay)
			return
		}
		rec := &recorder{header: http.Header{}}
		ctx := event.WithBeforeCommit(withBody(r.Context(), body), func(ctx context.Context, tx bun.IDB) error {
			return idempotency.MarkApplied(ctx, tx, attempt)
		})
		next.ServeHTTP(rec, r.WithContext(ctx))
		s.settle(r.Context(), attempt, rec)
		if rec.status == 0 {
			return // nothing was written: the client went away
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
	})
}

// multipartBody reports whether r's body is multipart, by its media type as
// the handlers parse it (media types are case-insensitive).
func multipartBody(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && strings.HasPrefix(mt, "multipart/")
}

// settle stores a first attempt's answer, or forgets the attempt when the
// answer invites a retry (5xx, 429) or there is none: a handler writes
// nothing when its client went away mid-request. Forgetting leaves an
// attempt whose transaction committed (marked applied) in place, so its
// retry is refused (idempotency-applied) rather than carried out again.
func (s *Server) settle(ctx context.Context, attempt *idempotency.Attempt, rec *recorder) {
	ctx = context.WithoutCancel(ctx)
	var err error
	if rec.status < 100 || rec.status >= 500 || rec.status == http.StatusTooManyRequests {
		err = s.idem.Abandon(ctx, attempt)
	} else {
		err = s.idem.Finish(ctx, attempt, idempotency.Record{
			Status:      rec.status,
			ContentType: rec.header.Get("Content-Type"),
			Location:    rec.header.Get("Location"),
			Body:        rec.body.Bytes(),
		})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "idempotency store", slog.String("error", err.Error()))
	}
}

func writeRecord(w http.ResponseWriter, rec *idempotency.Record) {
	if rec.ContentType != "" {
		w.Header().Set("Content-Type", rec.ContentType)
	}
	if rec.Location != "" {
		w.Header().Set("Location", rec.Location)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rec.Body)))
	w.WriteHeader(rec.Status)
	w.Write(rec.Body)
}

// recorder buffers an answer so it can be stored before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
