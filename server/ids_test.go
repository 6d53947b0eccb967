package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

// malformedIDs are path, query and body values that cannot be ids: a NUL
// (which SQLite took for the end of the query: 500), a byte that is not
// UTF-8, a near-UUID, SQL.
var malformedIDs = []string{"\x00", "\xff", "x", "0190f1e2-0000-7000-8000-00000000000\x00", "0190f1e2-0000-7000-8000-0000000000000", "' OR '1'='1"}

// An id that is not well-formed (the API's ids are UUIDs; an evidence
// file's is its SHA-256) is refused before any database reads it: in the
// path with 404 on every route, after authentication; in the query with
// 400 bad-query; in a body with 422 naming the field, after permission, as
// an unknown id is. Nothing changes, and nothing is logged as an error.
func TestMalformedIDs(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := e.User(t, api.RoleAdmin, "Admin", "")
		national := e.User(t, api.RoleOfficer, "Pusat", "")
		regional := e.User(t, api.RoleOfficer, "Jakarta", "31")
		coord, o := taskOrg(t, e, admin, "")
		vol := volunteer(t, e, "Pelapor")
		rep := submitReport(t, e, tok(vol), reportBody("", "3171", ""))
		tk := createTask(t, e, tok(national), taskBody("", 5))
		tables := []string{"users", "orgs", "memberships", "tasks", "claims", "reports", "evidence", "takedowns",
			"alerts", "audit_log", "refresh_tokens", "device_tokens", "push_subscriptions"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = e.Count(t, tb)
		}

		type row struct {
			what   string
			who    api.AuthResponse
			method string
			path   string
			body   any
			status int
			typ    string
			field  string // of a 422
		}
		var rows []row
		// Every route with an id in its path, each id malformed in turn
		// (the others real or not: the malformed one names nothing).
		wildcard := regexp.MustCompile(`\{(id|user_id|sha)\}`)
		for _, rt := range e.App.Server.Routes() {
			method, pattern, _ := strings.Cut(rt, " ")
			names := wildcard.FindAllString(pattern, -1)
			for i := range names {
				for _, bad := range malformedIDs {
					k := 0
					path := wildcard.ReplaceAllStringFunc(pattern, func(w string) string {
						k++
						switch {
						case k-1 == i:
							return url.PathEscape(bad)
						case w == "{sha}":
							return sha([]byte("x"))
						}
						return rep.ID
					})
					var body any
					if method != "GET" && method != "DELETE" {
						body = map[string]any{}
					}
					rows = append(rows, row{"path " + names[i], admin, method, path, body, http.StatusNotFound, "not-found", ""})
				}
			}
		}
		withID := func(b map[string]any, k string, v any) map[string]any { b[k] = v; return b }
		for _, bad := range malformedIDs {
			q := url.QueryEscape(bad)
			rows = append(rows,
				// Authentication comes first.
				row{"anonymous", api.AuthResponse{}, "GET", "/v1/reports/" + url.PathEscape(bad), nil, http.StatusUnauthorized, "unauthenticated", ""},
				row{"evidence of a real report", vol, "GET", reportPath(rep.ID, "/evidence/"+url.PathEscape(bad)), nil, http.StatusNotFound, "not-found", ""},
				row{"reports by org", vol, "GET", "/v1/reports?org_id=" + q, nil, http.StatusBadRequest, "bad-query", ""},
				row{"tasks by org", coord, "GET", "/v1/tasks?scope=org&org_id=" + q, nil, http.StatusBadRequest, "bad-query", ""},
				row{"stats by org", national, "GET", "/v1/stats/findings?org_id=" + q, nil, http.StatusBadRequest, "bad-query", ""},
				row{"audit target", admin, "GET", "/v1/audit?target_type=report&target_id=" + q, nil, http.StatusBadRequest, "bad-query", ""},
				row{"audit membership", admin, "GET", "/v1/audit?target_type=membership&target_id=" + url.QueryEscape(o.ID+":"+bad), nil, http.StatusBadRequest, "bad-query", ""},
				row{"audit target type", admin, "GET", "/v1/audit?target_type=" + url.QueryEscape("report"+bad), nil, http.StatusBadRequest, "bad-query", ""},
				// A regional officer's org is an unknown one's answer.
				row{"regional audit", regional, "GET", "/v1/audit?target_type=org&target_id=" + q, nil, http.StatusNotFound, "not-found", ""},
				row{"report's org", vol, "POST", "/v1/reports", withID(reportBody("", "3171", ""), "org_id", bad), http.StatusUnprocessableEntity, "validation", "org_id"},
				row{"report's claim", vol, "POST", "/v1/reports", withID(reportBody("", "3171", ""), "claim_id", bad), http.StatusUnprocessableEntity, "validation", "claim_id"},
				row{"duplicate of", national, "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "duplicate", "duplicate_of": bad}, http.StatusUnprocessableEntity, "validation", "duplicate_of"},
				// Permission first: the reporter may not decide.
				row{"duplicate of, by the reporter", vol, "POST", reportPath(rep.ID, "/verification"), map[string]any{"decision": "duplicate", "duplicate_of": bad}, http.StatusForbidden, "own-report", ""},
				row{"task's org", coord, "POST", "/v1/tasks", taskBody(bad, 5), http.StatusUnprocessableEntity, "validation", "org_id"},
				row{"assignee", national, "POST", "/v1/tasks/" + tk.ID + "/assignments", map[string]any{"user_id": bad}, http.StatusUnprocessableEntity, "validation", "user_id"},
				// An ack's ids are checked as every id is (the server's tag
				// would not match either): 422, before any database reads it.
				row{"push ack's job", api.AuthResponse{}, "POST", "/v1/push/acks", map[string]any{"ack": bad + "." + rep.ID + ".AAAA"}, http.StatusUnprocessableEntity, "invalid-push-ack", ""},
				row{"push ack's device", api.AuthResponse{}, "POST", "/v1/push/acks", map[string]any{"ack": rep.ID + "." + bad + ".AAAA"}, http.StatusUnprocessableEntity, "invalid-push-ack", ""},
				row{"alert's reports", national, "POST", "/v1/alerts", map[string]any{"title": "Hoaks pemungutan ulang", "body": "Bukan dari KPU.", "severity": "warning", "report_ids": []string{rep.ID, bad}}, http.StatusUnprocessableEntity, "validation", "report_ids"},
			)
		}
		// The other spellings uuid.Parse takes name no push either.
		for _, other := range []string{"{" + rep.ID + "}", "urn:uuid:" + rep.ID, strings.ReplaceAll(rep.ID, "-", "")} {
			rows = append(rows, row{"push ack's job as " + other, api.AuthResponse{}, "POST", "/v1/push/acks",
				map[string]any{"ack": other + "." + rep.ID + ".AAAA"}, http.StatusUnprocessableEntity, "invalid-push-ack", ""})
		}
		logs := len(e.Logs.String())
		for _, r := range rows {
			what := r.what + ": " + r.method + " " + r.path
			res := call(t, e, tok(r.who), r.method, r.path, r.body)
			if check(t, what, res, r.status, r.typ) && r.field != "" && !fieldErr(t, res, r.field) {
				t.Errorf("%s: the problem does not name %s: %s", what, r.field, res.Body)
			}
		}
		if strings.Contains(e.Logs.String()[logs:], `"level":"ERROR"`) {
			t.Errorf("errors logged:\n%s", e.Logs.String()[logs:])
		}
		for _, tb := range tables {
			if n := e.Count(t, tb); n != before[tb] {
				t.Errorf("%s: %d rows, %d before", tb, n, before[tb])
			}
		}
	})
}
