package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/apptest"
)

// httpMethods are the keys of an OpenAPI path item that are operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

type openAPIDoc struct {
	raw   map[string]any
	paths map[string]map[string]map[string]any // path -> method -> operation
}

func fetchOpenAPI(t *testing.T, e *apptest.Env) openAPIDoc {
	t.Helper()
	r := e.Do(t, "GET", "/v1/openapi.json", nil)
	if r.Status != 200 {
		t.Fatalf("GET /v1/openapi.json: %d %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET /v1/openapi.json: Content-Type %q", ct)
	}
	doc := openAPIDoc{paths: map[string]map[string]map[string]any{}}
	if err := json.Unmarshal(r.Body, &doc.raw); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	paths, _ := doc.raw["paths"].(map[string]any)
	for p, item := range paths {
		item, _ := item.(map[string]any)
		for m, o := range item {
			if slices.Contains(httpMethods, m) {
				if doc.paths[p] == nil {
					doc.paths[p] = map[string]map[string]any{}
				}
				doc.paths[p][m], _ = o.(map[string]any)
			}
		}
	}
	return doc
}

// TestOpenAPIMatchesRoutes is the CI check of the document against the
// routes the server really registers: a route missing from the document,
// or an operation documented but not served, fails.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	doc := fetchOpenAPI(t, e)

	served := map[string]bool{}
	routes := e.App.Server.Routes()
	if len(routes) == 0 {
		t.Fatal("Server.Routes lists no routes")
	}
	for _, p := range routes {
		method, path, ok := strings.Cut(p, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") {
			t.Errorf("route %q does not name a method and a path; the document cannot describe it", p)
			continue
		}
		served[strings.ToUpper(method)+" "+path] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.paths {
		for m := range item {
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	var undocumented, unserved []string
	for r := range served {
		if !documented[r] {
			undocumented = append(undocumented, r)
		}
	}
	for r := range documented {
		if !served[r] {
			unserved = append(unserved, r)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unserved)
	if len(undocumented) > 0 {
		t.Errorf("%d route(s) served but missing from /v1/openapi.json (register them in a routes_*.go table with their operation):\n  %s",
			len(undocumented), strings.Join(undocumented, "\n  "))
	}
	if len(unserved) > 0 {
		t.Errorf("%d operation(s) in /v1/openapi.json that the server does not serve (a route table entry without a handler that nothing registers):\n  %s",
			len(unserved), strings.Join(unserved, "\n  "))
	}

	// The router agrees: each documented operation reaches a handler rather
	// than the router's own 404 or 405. No token and no body are sent, so
	// nothing changes.
	wildcard := regexp.MustCompile(`\{[^}]+\}`)
	for r := range documented {
		method, path, _ := strings.Cut(r, " ")
		concrete := wildcard.ReplaceAllString(path, "0190f1e2-0000-7000-8000-000000000000")
		resp := e.Do(t, method, concrete, nil)
		if resp.Status == http.StatusMethodNotAllowed {
			t.Errorf("%s: the router answers 405", r)
		}
		if resp.Status == http.StatusNotFound && strings.Contains(string(resp.Body), "nothing is served at") {
			t.Errorf("%s: the router serves nothing there", r)
		}
	}
}

// TestOpenAPIDocumentIsValid checks the document's own consistency: OpenAPI
// 3.1, every $ref resolves, operation ids are present and unique, every
// operation has a success answer, tags and security schemes are declared,
// path parameters match the path, and each problem type has its page.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	doc := fetchOpenAPI(t, e)
	raw := doc.raw

	if v := raw["openapi"]; v != "3.1.0" {
		t.Errorf("openapi is %v, want 3.1.0", v)
	}
	info, _ := raw["info"].(map[string]any)
	if info["title"] != "Jarimu API" || info["version"] != "1" || info["description"] == "" {
		t.Errorf("info: %v", info)
	}
	servers, _ := raw["servers"].([]any)
	if len(servers) != 1 || servers[0].(map[string]any)["url"] != "/" {
		t.Errorf("servers: %v", servers)
	}
	components, _ := raw["components"].(map[string]any)
	schemes, _ := components["securitySchemes"].(map[string]any)
	if b, _ := schemes["bearer"].(map[string]any); b["type"] != "http" || b["scheme"] != "bearer" || b["bearerFormat"] != "JWT" {
		t.Errorf("bearer security scheme: %v", schemes["bearer"])
	}
	schemas, _ := components["schemas"].(map[string]any)
	for _, name := range []string{"Problem", "FieldError", "Org", "Task", "Claim", "Report", "Alert", "User", "ClientFrame", "EventFrame"} {
		if schemas[name] == nil {
			t.Errorf("components.schemas lacks %s", name)
		}
	}

	// Every $ref resolves within the document.
	var refs []string
	walk(raw, func(m map[string]any) {
		if r, ok := m["$ref"].(string); ok {
			refs = append(refs, r)
		}
		// and every required property is a property
		if req, ok := m["required"].([]any); ok {
			props, _ := m["properties"].(map[string]any)
			for _, n := range req {
				if s, ok := n.(string); ok && props[s] == nil {
					t.Errorf("schema requires %q but has no such property", s)
				}
			}
		}
	})
	if len(refs) < 50 {
		t.Errorf("only %d $refs; the schemas are not being referenced", len(refs))
	}
	for _, r := range refs {
		if _, err := resolve(raw, r); err != nil {
			t.Errorf("$ref %q: %v", r, err)
		}
	}

	tags := map[string]bool{}
	for _, tg := range raw["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	ids := map[string]string{}
	problemTypes := map[string]bool{}
	count := 0
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for path, item := range doc.paths {
		for method, o := range item {
			count++
			where := strings.ToUpper(method) + " " + path
			id, _ := o["operationId"].(string)
			if id == "" {
				t.Errorf("%s has no operationId", where)
			} else if prev, dup := ids[id]; dup {
				t.Errorf("operationId %q is used by %s and %s", id, prev, where)
			} else {
				ids[id] = where
			}
			if s, _ := o["summary"].(string); s == "" {
				t.Errorf("%s has no summary", where)
			}
			otags, _ := o["tags"].([]any)
			if len(otags) == 0 {
				t.Errorf("%s has no tag", where)
			}
			for _, tg := range otags {
				if !tags[tg.(string)] {
					t.Errorf("%s: tag %v is not declared", where, tg)
				}
			}
			sec, ok := o["security"].([]any)
			if !ok {
				t.Errorf("%s does not say whether it needs a token", where)
			}
			for _, req := range sec {
				for name := range req.(map[string]any) {
					if schemes[name] == nil {
						t.Errorf("%s: security scheme %q is not declared", where, name)
					}
				}
			}

			responses, _ := o["responses"].(map[string]any)
			success := false
			for st, resp := range responses {
				n, err := strconv.Atoi(st)
				if err != nil || n < 100 || n > 599 {
					t.Errorf("%s: response key %q is not a status", where, st)
				}
				if n >= 200 && n < 300 || n == http.StatusSwitchingProtocols && o["x-websocket"] != nil {
					success = true
				}
				if d, _ := resp.(map[string]any)["description"].(string); d == "" {
					t.Errorf("%s: response %s has no description", where, st)
				}
			}
			if !success {
				t.Errorf("%s has no 2xx response", where)
			}
			walk(responses, func(m map[string]any) {
				if ty, ok := m["type"].(map[string]any); ok {
					for _, v := range ty["enum"].([]any) {
						if s, ok := v.(string); ok && strings.HasPrefix(s, "/v1/problems/") {
							problemTypes[s] = true
						}
					}
				}
			})

			// path parameters match the path's wildcards
			want := map[string]bool{}
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				want[m[1]] = true
			}
			params, _ := o["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if r, ok := pm["$ref"].(string); ok {
					v, err := resolve(raw, r)
					if err != nil {
						continue // reported above
					}
					pm = v.(map[string]any)
				}
				if pm["in"] == "path" {
					name, _ := pm["name"].(string)
					if !want[name] {
						t.Errorf("%s: path parameter %q is not in the path", where, name)
					}
					if pm["required"] != true {
						t.Errorf("%s: path parameter %q is not required", where, name)
					}
					delete(want, name)
				}
			}
			for name := range want {
				t.Errorf("%s: {%s} is not declared as a path parameter", where, name)
			}
		}
	}
	t.Logf("%d operations documented", count)
	if count < 50 {
		t.Errorf("only %d operations documented", count)
	}

	// every problem type the document names has its page
	if len(problemTypes) < 30 {
		t.Errorf("only %d problem types named in the responses", len(problemTypes))
	}
	for pt := range problemTypes {
		if r := e.Do(t, "GET", pt, nil); r.Status != 200 {
			t.Errorf("the document names problem type %s, which has no page (%d)", pt, r.Status)
		}
	}

	// built once and served with a validator
	first := e.Do(t, "GET", "/v1/openapi.json", nil)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on /v1/openapi.json")
	}
	if again := e.Do(t, "GET", "/v1/openapi.json", nil, "If-None-Match", etag); again.Status != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: %d, want 304", again.Status)
	}
}

// TestOpenAPIOperationDetails spot-checks operations against docs/api.md.
func TestOpenAPIOperationDetails(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	doc := fetchOpenAPI(t, e)
	op := func(method, path string) map[string]any {
		o := doc.paths[path][method]
		if o == nil {
			t.Fatalf("%s %s is not documented", method, path)
		}
		return o
	}
	problems := func(o map[string]any, status string) []string {
		var out []string
		walk(o["responses"].(map[string]any)[status], func(m map[string]any) {
			if ty, ok := m["type"].(map[string]any); ok {
				for _, v := range ty["enum"].([]any) {
					out = append(out, strings.TrimPrefix(v.(string), "/v1/problems/"))
				}
			}
		})
		return out
	}

	claim := op("post", "/v1/tasks/{id}/claims")
	if got := problems(claim, "409"); !slices.Contains(got, "task-full") || !slices.Contains(got, "already-claimed") || !slices.Contains(got, "claim-limit") {
		t.Errorf("claim 409s: %v", got)
	}
	if sec := fmt.Sprint(claim["security"]); sec != "[map[bearer:[]]]" {
		t.Errorf("claim security: %s", sec)
	}
	if sec := fmt.Sprint(op("get", "/v1/orgs")["security"]); sec != "[]" {
		t.Errorf("the public registry needs no token, security: %s", sec)
	}
	params := fmt.Sprint(op("get", "/v1/tasks")["parameters"])
	for _, want := range []string{"scope", "available", "national", "#/components/parameters/limit", "#/components/parameters/cursor"} {
		if !strings.Contains(params, want) {
			t.Errorf("GET /v1/tasks parameters lack %q: %s", want, params)
		}
	}
	feed := op("get", "/v1/feed")
	if feed["responses"].(map[string]any)["101"] == nil || feed["x-websocket"] == nil {
		t.Errorf("the feed is not documented as a websocket upgrade: %v", feed["responses"])
	}
	if !strings.Contains(feed["description"].(string), "hello") {
		t.Error("the feed's description does not explain the protocol")
	}
	ev := op("post", "/v1/reports/{id}/evidence")
	if ev["requestBody"].(map[string]any)["content"].(map[string]any)["multipart/form-data"] == nil {
		t.Error("evidence is not documented as multipart")
	}

	// reflection: pointers are nullable, omitempty optional, enums present
	schemas := doc.raw["components"].(map[string]any)["schemas"].(map[string]any)
	task := schemas["Task"].(map[string]any)
	props := task["properties"].(map[string]any)
	if got := fmt.Sprint(props["org_id"].(map[string]any)["type"]); got != "[string null]" {
		t.Errorf("Task.org_id type %s, want [string null]", got)
	}
	if got := fmt.Sprint(props["created_at"]); !strings.Contains(got, "date-time") {
		t.Errorf("Task.created_at: %s", got)
	}
	req := fmt.Sprint(task["required"])
	if !strings.Contains(req, "title") || strings.Contains(req, "my_claim") {
		t.Errorf("Task required: %s", req)
	}
	if got := fmt.Sprint(props["platform"].(map[string]any)["enum"]); !strings.Contains(got, "tiktok") || !strings.Contains(got, "<nil>") {
		t.Errorf("Task.platform enum: %s", got)
	}
	cfResume := fmt.Sprint(schemas["ClientFrame"].(map[string]any)["properties"].(map[string]any)["resume"])
	if !strings.Contains(cfResume, "additionalProperties") {
		t.Errorf("ClientFrame.resume: %s", cfResume)
	}
	if ap := schemas["CreateTaskRequest"].(map[string]any)["additionalProperties"]; ap != false {
		t.Errorf("request bodies refuse unknown fields, CreateTaskRequest.additionalProperties: %v", ap)
	}
}

// TestDocsPage checks the reference page: HTML listing the operations,
// nothing fetched from other hosts, no scripts, a strict CSP, its own
// stylesheet, and no broken links within the page.
func TestDocsPage(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	r := e.Do(t, "GET", "/docs", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	page := string(r.Body)
	for _, want := range []string{"/v1/auth/signup", "/v1/tasks/{id}/claims", "/v1/orgs/{id}/memberships/{user_id}/decision",
		"/v1/reports/{id}/evidence/{sha}", "/v1/alerts/{id}/reach", "/v1/feed", "/v1/open/stats.json", "/v1/openapi.json",
		"id=\"schema-Task\"", "task-full", "jarimu.v1"} {
		if !strings.Contains(page, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
	// every documented path is on the page
	doc := fetchOpenAPI(t, e)
	for path := range doc.paths {
		if !strings.Contains(page, ">"+path+"<") {
			t.Errorf("/docs does not show %s", path)
		}
	}

	external := regexp.MustCompile(`(?i)(src|href|action|srcset|poster|data|formaction)\s*=\s*["']?\s*(https?:)?//`)
	if m := external.FindString(page); m != "" {
		t.Errorf("/docs references another host: %s", m)
	}
	if strings.Contains(strings.ToLower(page), "<script") || strings.Contains(page, " style=") || strings.Contains(strings.ToLower(page), "<style") {
		t.Error("/docs has scripts or inline styles")
	}
	for _, h := range []string{"http://", "https://"} {
		for _, attr := range []string{`="` + h, `='` + h, `url(` + h} {
			if strings.Contains(page, attr) {
				t.Errorf("/docs has a resource reference %s...", attr)
			}
		}
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'self'") {
		t.Errorf("/docs CSP %q", csp)
	}
	if !strings.Contains(page, `<link rel="stylesheet" href="/docs/style.css">`) {
		t.Error("/docs does not link its stylesheet")
	}

	// links within the page land on an element
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		ids[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !ids[m[1]] {
			t.Errorf("/docs links to #%s, which is not on the page", m[1])
		}
	}

	css := e.Do(t, "GET", "/docs/style.css", nil)
	if css.Status != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || len(css.Body) < 100 {
		t.Errorf("GET /docs/style.css: %d %s, %d bytes", css.Status, css.Header.Get("Content-Type"), len(css.Body))
	}
	if strings.Contains(string(css.Body), "http://") || strings.Contains(string(css.Body), "https://") || strings.Contains(string(css.Body), "@import") {
		t.Error("the stylesheet fetches from elsewhere")
	}
}

// walk calls fn on every object in v.
func walk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walk(c, fn)
		}
	case []any:
		for _, c := range x {
			walk(c, fn)
		}
	}
}

// resolve follows a local JSON pointer reference ("#/components/...").
func resolve(root map[string]any, ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	var cur any = root
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("nothing at %q", tok)
		}
	}
	return cur, nil
}
