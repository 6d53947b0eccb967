package server

type openAPIDoc struct {
	OpenAPI    string                              `json:"openapi"`
	Info       docInfo                             `json:"info"`
	Servers    []docServer                         `json:"servers"`
	Tags       []docTag                            `json:"tags"`
	Paths      map[string]map[string]*docOperation `json:"paths"`
	Components docComponents                       `json:"components"`

	order []*docOperation // in table order, for /docs
}

type docInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

type docServer struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

type docTag struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type docOperation struct {
	OperationID string                  `json:"operationId"`
	Summary     string                  `json:"summary"`
	Description string                  `json:"description,omitempty"`
	Tags        []string                `json:"tags"`
	Security    []map[string][]string   `json:"security"`
	Parameters  []*docParam             `json:"parameters,omitempty"`
	RequestBody *docRequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*docResponse `json:"responses"`
	Websocket   *docWebsocket           `json:"x-websocket,omitempty"`

	method, path string
	problems     map[int][]string // slugs by status, for /docs
}

type docParam struct {
	Ref         string  `json:"$ref,omitempty"`
	Name        string  `json:"name,omitempty"`
	In          string  `json:"in,omitempty"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

type docRequestBody struct {
	Description string               `json:"description,omitempty"`
	Required    bool                 `json:"required"`
	Content     map[string]*docMedia `json:"content"`
}

type docMedia struct {
	Schema *Schema `json:"schema,omitempty"`
}

type docResponse struct {
	Description string                `json:"description"`
	Headers     map[string]*docHeader `json:"headers,omitempty"`
	Content     map[string]*docMedia  `json:"content,omitempty"`
}

type docHeader struct {
	Ref         string  `json:"$ref,omitempty"`
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

type docSecurityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme"`
	BearerFormat string `json:"bearerFormat"`
	Description  string `json:"description"`
}

type docWebsocket struct {
	Subprotocol  string            `json:"subprotocol"`
	ClientFrames []*Schema         `json:"clientFrames"`
	ServerFrames []*Schema         `json:"serverFrames"`
	CloseCodes   map[string]string `json:"closeCodes"`
}

type docComponents struct {
	Schemas         map[string]*Schema            `json:"schemas"`
	Parameters      map[string]*docParam          `json:"parameters"`
	Headers         map[string]*docHeader         `json:"headers"`
	SecuritySchemes map[string]*docSecurityScheme `json:"securitySchemes"`
}

const apiDescription = "The HTTP API and real-time feed of Jarimu Awasi Pemilu: accounts, accredited civil society organisations and their members, monitoring tasks with claims and leases, reports with evidence and their verification, alerts, open data and the audit trail. The prose reference is docs/api.md.\n\n" +
	"- JSON in UTF-8. Times are RFC 3339 in UTC; ids are UUIDv7 strings; regions are Kemendagri codes (`\"31\"` a province, `\"3171\"` a regency), none meaning national.\n" +
	"- Authenticated calls carry `Authorization: Bearer <access token>` (an EdDSA JWT from signup, login or refresh; keys at /.well-known/jwks.json). A bad Authorization header fails any call but the feed with 401 `invalid-token`, even a public one.\n" +
	"- Request bodies are `application/json`, at most 64 KiB, decoded strictly: unknown or duplicated fields, keys not in lower case, trailing data and wrong types are 400s. An empty body is refused even where every field is optional: send `{}`.\n" +
	"- Errors are RFC 9457 `application/problem+json`; `type` is `/v1/problems/<slug>`, a stable slug to switch on, and a page about it is served there.\n" +
	"- An authenticated POST may carry `Idempotency-Key`: a retry with the same key, user and body within 24 hours gets the first answer again (`Idempotent-Replayed: true`) and changes nothing.\n" +
	"- Lists take `limit` (1 to 200, default 50) and `cursor`, and answer `{\"items\",\"next_cursor\"}`, newest first unless the operation says otherwise; `next_cursor` is absent on the last page.\n\n" +
	"The open datasets under /v1/open are published under the Creative Commons Attribution 4.0 licence (CC BY 4.0), credited to Bawaslu RI and Jarimu Awasi Pemilu. This document itself carries no separate licence."

var docTags = []docTag{
	{"Auth", "Accounts and sessions: signup, login, refresh and logout, and the signed-in user."},
	{"Admin", "Staff accounts, made and suspended by admins."},
	{"Organisations", "The public registry of accredited civil society organisations, their accreditation, invites and memberships."},
	{"Tasks", "Monitoring tasks: a task has slots, a volunteer takes one with a claim that holds it for a lease and ends released, expired or completed."},
	{"Reports", "Findings with evidence, reviewed by coordinators, verified by officers, with their takedown history."},
	{"Alerts", "Verified alerts officers broadcast to a region, and how far they got."},
	{"Statistics", "Counts behind the console's charts, for officers (their region) and coordinators (their org), over a period of days."},
	{"Open data", "Public datasets without personal data, under CC BY 4.0. No login is needed."},
	{"Regions", "Indonesia's provinces, regencies/cities and districts by Kemendagri code and name, for pickers (data: idn-area-data, ODbL 1.0). No login is needed."},
	{"Push", "Web Push: notifications of alerts and assignments on devices whose app is closed."},
	{"Audit", "Who changed what, written with each change."},
	{"Real-time feed", "The websocket that delivers events, with resume."},
	{"Service", "Health, readiness, keys and metrics, for operators and load balancers."},
	{"Documentation", "This document, its web page and the problem type pages."},
}
