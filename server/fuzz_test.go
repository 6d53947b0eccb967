package server

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/problem"
)

// FuzzDecodeBody feeds arbitrary bytes to the strict JSON decoder: it never
// panics, refuses with a 400/413 problem or accepts, and what it accepts is
// plain JSON with lower-case ASCII keys that decodes the same with Go's
// decoder alone.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@b.co","password":"xxxxxxxxxx","name":"A"}`, `{"email":"a@b.co","EMAIL":"c@d.co"}`,
		`{"email":"a","email":"b"}`, `{"paſsword":"x"}`, `[[[[[[[[]]]]]]]]`, `{} x`, `{"region_code":null}`,
		"{\"name\":\"\xff\"}", `{"email":1}`, ``, `null`, `{"role":"admin"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req api.SignupRequest
		err := decodeBytes(b, &req)
		if err != nil {
			if k := problem.KindOf(err); k != problem.Malformed && k != problem.TooLarge {
				t.Fatalf("refusal of kind %v, want a 400 or 413 problem: %v", k, err)
			}
			return
		}
		var again api.SignupRequest
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("accepted %q, but Go's decoder refuses it: %v", b, err)
		}
		if again.Email != req.Email || again.Name != req.Name || again.Password != req.Password {
			t.Fatalf("accepted %q as %+v, Go's decoder reads %+v", b, req, again)
		}
	})
}

// FuzzPageParams feeds arbitrary ?limit= and ?cursor= values: never a
// panic, a limit within 1..200 when accepted, and a 400 otherwise.
func FuzzPageParams(f *testing.F) {
	f.Add("50", "")
	f.Add("0", "")
	f.Add("201", "MDFhMjFm")
	f.Add("-1", "!!!")
	f.Add("1e3", "ZmFrZQ")
	f.Fuzz(func(t *testing.T, limit, cursor string) {
		r := httptest.NewRequest("GET", "/v1/orgs?"+url.Values{"limit": {limit}, "cursor": {cursor}}.Encode(), nil)
		pg, err := pageOf(r)
		if err != nil {
			if problem.KindOf(err) != problem.Malformed {
				t.Fatalf("refusal %v, want a 400", err)
			}
			return
		}
		if pg.Limit < 1 || pg.Limit > 200 {
			t.Fatalf("accepted limit %d", pg.Limit)
		}
		if _, err := pg.idCursor(); err != nil && problem.KindOf(err) != problem.Malformed {
			t.Fatalf("cursor refusal %v, want a 400", err)
		}
	})
}
