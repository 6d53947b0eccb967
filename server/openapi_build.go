package server

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/report"
)

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// pathParam describes a path wildcard by the collection it follows.
func pathParam(path, name string) *docParam {
	p := &docParam{Name: name, In: "path", Required: true, Schema: &Schema{Type: "string", Format: "uuid"}}
	switch name {
	case "user_id":
		p.Description = "The member's user id."
	case "sha":
		p.Description = "The file's SHA-256, in lower-case hexadecimal."
		p.Schema = &Schema{Type: "string", Pattern: "^[0-9a-f]{64}$"}
	case "type":
		p.Description = "A problem type slug."
		slugs := make([]string, 0, len(catalogue))
		for s := range catalogue {
			slugs = append(slugs, s)
		}
		sort.Strings(slugs)
		p.Schema = &Schema{Type: "string", Enum: enumOf(slugs...)}
	case "id":
		whose := map[string]string{"orgs": "organisation", "users": "account", "tasks": "task", "claims": "claim", "reports": "report", "alerts": "alert"}
		seg := strings.Split(path, "/")
		for i, s := range seg {
			if s == "{id}" && i > 0 {
				p.Description = "The " + whose[seg[i-1]] + "'s id."
			}
		}
	}
	return p
}

func buildOpenAPI(routes []route) *openAPIDoc {
	g := newSchemaGen()
	g.names[goType[report.Stat]()] = "ReportStat"
	g.typeDocs, g.fieldDocs, g.commonDocs = typeDocs, fieldDocs, commonDocs
	problem := schemaRef(g.define(goType[api.Problem]()))

	doc := &openAPIDoc{
		OpenAPI: "3.1.0",
		Info:    docInfo{Title: "Jarimu API", Version: "1", Description: apiDescription},
		Servers: []docServer{{URL: "/", Description: "the server that serves this document"}},
		Tags:    docTags,
		Paths:   map[string]map[string]*docOperation{},
		Components: docComponents{
			Schemas: g.defs,
			Parameters: map[string]*docParam{
				"limit": {Name: "limit", In: "query", Description: "Items per page, 1 to 200.",
					Schema: &Schema{Type: "integer", Minimum: int64Ptr(1), Maximum: int64Ptr(200), Default: 50}},
				"cursor": {Name: "cursor", In: "query", Description: "The `next_cursor` of the previous page, unchanged.", Schema: strSchema()},
				"IdempotencyKey": {Name: "Idempotency-Key", In: "header", Description: "Makes a retry safe: the same key, user and body within 24 hours gets the first answer again and changes nothing. With a key the body is read first, so a POST without a body must then send `{}` as JSON.",
					Schema: &Schema{Type: "string", Pattern: `^[!-~]{1,128}$`}},
			},
			Headers: map[string]*docHeader{
				"Location":            {Description: "Where the created thing is.", Schema: strSchema()},
				"ETag":                {Description: "The version of the answer, for If-None-Match.", Schema: strSchema()},
				"Last-Modified":       {Description: "The time of the latest change.", Schema: strSchema()},
				"Content-Disposition": {Description: "Sent as an attachment, with a file name.", Schema: strSchema()},
				"Content-Range":       {Description: "The span sent: `bytes FIRST-LAST/SIZE`.", Schema: strSchema()},
				"Retry-After":         {Description: "Seconds to wait before trying again.", Schema: &Schema{Type: "integer", Minimum: int64Ptr(0)}},
				"Idempotent-Replayed": {Description: "`true` on an answer replayed for a retried Idempotency-Key.", Schema: &Schema{Type: "string", Enum: enumOf("true")}},
			},
			SecuritySchemes: map[string]*docSecurityScheme{
				"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
					Description: "An access token from signup, login or refresh: a JWT signed with EdDSA (Ed25519), valid at most 15 minutes. The account must be active; role and region are read from the database on every call."},
			},
		},
	}
	for _, t := range []reflect.Type{goType[api.ClientFrame](), goType[api.Welcome](), goType[api.EventFrame](), goType[api.ResetFrame](), goType[api.StreamFrame](), goType[pongFrame](), goType[api.FeedChange]()} {
		g.define(t)
	}

	for _, r := range routes {
		o := r.op
		d := &docOperation{OperationID: o.id, Summary: o.summary, Description: o.desc, Tags: []string{o.tag},
			Responses: map[string]*docResponse{}, Websocket: o.ws, method: o.method, path: o.path, problems: map[int][]string{}}
		switch o.auth {
		case authNone:
			d.Security = []map[string][]string{}
		case authBearer:
			d.Security = []map[string][]string{{"bearer": {}}}
		case authOptional:
			d.Security = []map[string][]string{{}, {"bearer": {}}}
		}
		slugs := slices.Clone(o.problems)
		for _, m := range pathParamRE.FindAllStringSubmatch(o.path, -1) {
			d.Parameters = append(d.Parameters, pathParam(o.path, m[1]))
			if pathRules[m[1]] != nil {
				slugs = append(slugs, "not-found") // an id that is not one (checkPath)
			}
		}

		if o.ws == nil {
			slugs = append(slugs, "invalid-token", "internal") // a bad Authorization header fails every call
		}
		if o.auth == authBearer {
			slugs = append(slugs, "unauthenticated")
		}
		jsonBody := o.body != nil && o.bodyMedia == ""
		idempotent := o.method == "POST" && o.auth == authBearer && o.bodyMedia == "" && !strings.HasPrefix(o.path, "/v1/auth/")
		if jsonBody || idempotent {
			slugs = append(slugs, "malformed", "too-large", "unsupported-media-type")
		}
		if idempotent {
			d.Parameters = append(d.Parameters, &docParam{Ref: "#/components/parameters/IdempotencyKey"})
			slugs = append(slugs, "bad-idempotency-key", "idempotency-in-progress", "idempotency-key-reused")
		}
		if o.list {
			d.Parameters = append(d.Parameters, &docParam{Ref: "#/components/parameters/limit"}, &docParam{Ref: "#/components/parameters/cursor"})
			slugs = append(slugs, "bad-query", "bad-cursor")
		}
		for _, p := range o.params {
			if p.in == "query" {
				slugs = append(slugs, "bad-query")
			}
			d.Parameters = append(d.Parameters, &docParam{Name: p.name, In: p.in, Description: p.desc, Required: p.required, Schema: p.schema})
		}
		if !o.static {
			slugs = append(slugs, "unavailable")
		}

		if o.body != nil {
			media := o.bodyMedia
			if media == "" {
				media = "application/json"
			}
			d.RequestBody = &docRequestBody{Description: o.bodyDesc, Required: !o.bodyOptional,
				Content: map[string]*docMedia{media: {Schema: bodySchema(g, o.body)}}}
		}
		for _, r := range o.replies {
			resp := &docResponse{Description: r.desc}
			if r.body != nil {
				media := r.media
				if media == "" {
					media = "application/json"
				}
				resp.Content = map[string]*docMedia{media: {Schema: bodySchema(g, r.body)}}
				for _, m := range r.alsoMedia {
					resp.Content[m] = &docMedia{Schema: &Schema{Type: "string", ContentMediaType: m}}
				}
			}
			for _, h := range r.headers {
				if resp.Headers == nil {
					resp.Headers = map[string]*docHeader{}
				}
				resp.Headers[h] = &docHeader{Ref: "#/components/headers/" + h}
			}
			d.Responses[strconv.Itoa(r.status)] = resp
		}

		for _, s := range slugs {
			t, ok := catalogue[s]
			if !ok {
				panic("openapi: problem type " + s + " is not in the catalogue")
			}
			st := statusOf(t.Kind)
			if !slices.Contains(d.problems[st], s) {
				d.problems[st] = append(d.problems[st], s)
			}
		}
		for st, ss := range d.problems {
			sort.Strings(ss)
			d.Responses[strconv.Itoa(st)] = problemResponse(problem, st, ss)
		}
		if o.id == "openFeed" {
			d.Responses["403"] = &docResponse{Description: "Forbidden: the Origin is not allowed (a plain answer from the handshake).",
				Content: map[string]*docMedia{"text/plain": {Schema: textSchema}}}
		}

		if doc.Paths[o.path] == nil {
			doc.Paths[o.path] = map[string]*docOperation{}
		}
		m := strings.ToLower(o.method)
		if doc.Paths[o.path][m] != nil {
			panic("openapi: " + o.method + " " + o.path + " is in the table twice")
		}
		doc.Paths[o.path][m] = d
		doc.order = append(doc.order, d)
	}
	for k := range fieldDocs {
		if !g.used[k] {
			panic("openapi: fieldDocs names no field: " + k)
		}
	}
	return doc
}

// bodySchema is the schema of a body given as a Go type or as a schema.
func bodySchema(g *schemaGen, body any) *Schema {
	switch b := body.(type) {
	case reflect.Type:
		return g.of(b)
	case *Schema:
		return b
	}
	panic(fmt.Sprintf("openapi: body %T", body))
}

func problemResponse(problem *Schema, status int, slugs []string) *docResponse {
	types := make([]string, len(slugs))
	quoted := make([]string, len(slugs))
	for i, s := range slugs {
		types[i] = api.ProblemTypePrefix + s
		quoted[i] = "`" + s + "`"
	}
	r := &docResponse{
		Description: http.StatusText(status) + ": " + strings.Join(quoted, ", ") + ".",
		Content: map[string]*docMedia{"application/problem+json": {Schema: &Schema{AllOf: []*Schema{problem,
			{Properties: &props{names: []string{"type"}, m: map[string]*Schema{"type": {Enum: enumOf(types...)}}}}}}}},
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		r.Headers = map[string]*docHeader{"Retry-After": {Ref: "#/components/headers/Retry-After"}}
	}
	return r
}
