package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/problem"
)

// MaxJSONBody is the largest JSON request body accepted (64 KiB).
const MaxJSONBody = 64 << 10

// maxJSONDepth bounds nesting of request bodies; none of ours nests deeper
// than a few levels.
const maxJSONDepth = 32

// encode writes v as JSON with status; headers are set before WriteHeader.
func encode(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"type":"/v1/problems/internal","title":"Internal error","status":500}`, 500)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// readBody reads a JSON request body: Content-Type application/json and at
// most MaxJSONBody bytes, else a 415 or 413 problem.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxJSONBody {
		return nil, problem.Errorf(problem.TooLarge, "the body is larger than %d bytes", MaxJSONBody)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, problem.Errorf(problem.UnsupportedMedia, "the body must be application/json")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	if err != nil {
		return nil, problem.Errorf(problem.Malformed, "the body could not be read")
	}
	if len(b) > MaxJSONBody {
		return nil, problem.Errorf(problem.TooLarge, "the body is larger than %d bytes", MaxJSONBody)
	}
	return b, nil
}

// decode reads the request's JSON body into v strictly: unknown fields,
// duplicate keys, keys not in their exact (lower-case) spelling, nesting past
// maxJSONDepth, trailing data and wrong types are all 400s. Go's decoder
// alone would match keys regardless of case and keep the last duplicate.
func decode(r *http.Request, v any) error {
	b, ok := bodyFromContext(r.Context())
	if !ok {
		var err error
		if b, err = readBody(r); err != nil {
			return err
		}
	}
	return decodeBytes(b, v)
}

func decodeBytes(b []byte, v any) error {
	if !utf8.Valid(b) {
		return problem.Errorf(problem.Malformed, "the body must be UTF-8")
	}
	if err := checkKeys(b); err != nil {
		return problem.Errorf(problem.Malformed, "%s", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problem.Errorf(problem.Malformed, "%s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.Errorf(problem.Malformed, "the body has data after the JSON value")
	}
	return nil
}

// checkKeys walks the JSON tokens once and refuses duplicate or non-lower-case
// object keys and excessive depth.
func checkKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object  bool
		wantKey bool
		seen    map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // the real decode reports syntax errors
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			key, _ := tok.(string)
			if !plainKey(key) {
				return fmt.Errorf("field %q must be spelled in lower-case ASCII letters, digits and underscores", key)
			}
			if top.seen[key] {
				return fmt.Errorf("field %q is given more than once", key)
			}
			top.seen[key] = true
			top.wantKey = false
			continue
		}
		if top != nil && top.object {
			top.wantKey = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, seen: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > maxJSONDepth {
			return fmt.Errorf("the body nests deeper than %d levels", maxJSONDepth)
		}
	}
}

// plainKey reports whether an object key is spelled as every field of the
// API is: lower-case ASCII letters, digits and underscores. Go's decoder folds
// case, even Unicode case ("paſsword" fills password), so anything else is
// refused before it can reach a field.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var pt *time.ParseError
	switch {
	case errors.As(err, &pt):
		return fmt.Sprintf("%q is not an RFC 3339 time such as 2029-02-14T07:00:00Z", pt.Value)
	case errors.As(err, &syn):
		return fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be of JSON type %s", typ.Field, jsonKind(typ.Type.Kind().String()))
		}
		return "the body must be a JSON object"
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is not valid JSON (it ends too early)"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "the body is not valid JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	}
	return "number"
}

// writeError renders err as problem+json. Errors outside the vocabulary are
// logged once with the request id and shown only as "internal".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := problem.As(err)
	if !ok {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			p = problem.Errorf(problem.TooLarge, "the body is too large")
		case db.IsUnavailable(err):
			p = problem.Errorf(problem.Unavailable, "the database is unavailable; retry shortly")
			p.RetryAfter = 2 * time.Second
		default:
			s.log.ErrorContext(r.Context(), "internal error", slog.String("error", err.Error()))
			p = problem.Errorf(problem.Internal, "something went wrong; the request id identifies it")
		}
	}
	if p.Kind == problem.Unavailable {
		// Once per failed request, with its route and the cause (a
		// database or a store that is down, or refuses the credentials):
		// the operator sees which calls an outage stopped, the client
		// only that it may retry.
		route := r.Pattern
		if route == "" { // refused before routing (authentication)
			route = r.Method + " " + r.URL.Path
		}
		s.log.WarnContext(r.Context(), "dependency unavailable", slog.String("route", route),
			slog.String("problem", p.Type), slog.String("error", err.Error()))
	}
	writeProblem(w, r, p)
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *problem.Error) {
	infoOf(r).problem = p.Type
	body := api.Problem{
		Type:      api.ProblemTypePrefix + p.Type,
		Title:     titleOf(p.Kind),
		Status:    statusOf(p.Kind),
		Detail:    p.Detail,
		Instance:  r.URL.Path,
		RequestID: requestID(r.Context()),
		Errors:    p.Fields,
	}
	if p.RetryAfter > 0 {
		secs := int((p.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(body.Status)
	w.Write(append(b, '\n'))
}

// emptyBody accepts a call that takes no body: none at all, or an empty JSON
// object. Anything else is refused rather than silently ignored.
func emptyBody(r *http.Request) error {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return nil
	}
	var v struct{}
	return decode(r, &v)
}

// command makes the handler of an authenticated JSON call, the shape most
// writes have: the caller, the body decoded strictly into Req, the
// capability's answer encoded with status. location, when set, names the
// Location of a created resource. The handler does not validate Req's
// fields: the capability does (problem.Validate) once it has decided that
// the caller may act, so a caller without permission gets its 403 or 404
// whatever the body holds, and a 422 reveals nothing to them.
func command[Req, Resp any](status int, do func(r *http.Request, p auth.Principal, req Req) (Resp, error), location func(Resp) string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := principal(r)
		if err != nil {
			return err
		}
		var req Req
		if err := decode(r, &req); err != nil {
			return err
		}
		resp, err := do(r, p, req)
		if err != nil {
			return err
		}
		if location != nil {
			w.Header().Set("Location", location(resp))
		}
		encode(w, status, resp)
		return nil
	}
}

// answer makes the handler of an authenticated call that sends no body to
// decode (reads, and the few writes without one): the caller, the
// capability's answer, encoded with status.
func answer[Resp any](status int, do func(r *http.Request, p auth.Principal) (Resp, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := principal(r)
		if err != nil {
			return err
		}
		resp, err := do(r, p)
		if err != nil {
			return err
		}
		encode(w, status, resp)
		return nil
	}
}
