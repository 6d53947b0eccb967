package server

import (
	"net/http"
	"reflect"
	"strconv"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/report"
)

type authMode int

const (
	authNone     authMode = iota // no token needed
	authBearer                   // Authorization: Bearer <access token>
	authOptional                 // either (the feed: the token may come in the hello frame)
)

// param is a query or header parameter; path parameters come from the path.
type param struct {
	name, in, desc string
	required       bool
	schema         *Schema
	ref            string // a components.parameters entry instead
}

// reply is a success answer.
type reply struct {
	status  int
	desc    string
	media   string   // "" is application/json
	body    any      // reflect.Type, *Schema, or nil for no content
	headers []string // components.headers names
	// alsoMedia are further media types of a binary answer, each a string
	// of that content type
	alsoMedia []string
}

// op is one operation of the API.
type op struct {
	method, path string
	id           string // operationId
	tag          string
	summary      string
	desc         string
	auth         authMode
	params       []param
	body         any    // reflect.Type or *Schema; nil: no body
	bodyMedia    string // "" is application/json
	bodyDesc     string
	bodyOptional bool
	list         bool // takes limit and cursor
	static       bool // needs no database: no 503 unavailable
	replies      []reply
	problems     []string // problem type slugs beyond the automatic ones
	ws           *docWebsocket
}

func goType[T any]() reflect.Type { return reflect.TypeFor[T]() }

func queryParam(name, desc string, s *Schema) param {
	return param{name: name, in: "query", desc: desc, schema: s}
}

func enumQueryParam(name, desc string, values ...string) param {
	return queryParam(name, desc, &Schema{Type: "string", Enum: enumOf(values...)})
}

func headerParam(name, desc string, s *Schema) param {
	return param{name: name, in: "header", desc: desc, schema: s}
}

var regionParam = queryParam("region", "A Kemendagri region code of a region that exists (else 400 `bad-query`); only things whose region is this one or below it.",
	&Schema{Type: "string", Pattern: `^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{4})?)?)?$`})

var conditionalParams = []param{
	headerParam("If-None-Match", "An ETag from an earlier answer: 304 when the dataset is unchanged.", strSchema()),
	headerParam("If-Modified-Since", "An HTTP date: 304 when nothing changed since (used only without If-None-Match, and not for the organisations registry).", strSchema()),
}

func okReply(status int, desc string, body any, headers ...string) reply {
	return reply{status: status, desc: desc, body: body, headers: headers}
}

func okReplyMedia(status int, desc, media string, body any, headers ...string) reply {
	return reply{status: status, desc: desc, media: media, body: body, headers: headers}
}

var notModifiedReply = reply{status: http.StatusNotModified, desc: "The client's copy is current (If-None-Match or If-Modified-Since); no body.", headers: []string{"ETag"}}

var (
	textSchema   = strSchema()
	emptyRequest = &Schema{Type: "object", AdditionalProperties: false, Description: "an empty object"}
	evidenceFile = &Schema{Type: "string", ContentMediaType: "application/octet-stream", Description: "the file: PNG, JPEG, WebP or PDF, decided by its content"}
	evidenceBody = &Schema{Type: "object", Required: []string{"file"}, Properties: &props{names: []string{"file"}, m: map[string]*Schema{"file": evidenceFile}}}
)

var notModifiedDoc = reply{status: http.StatusNotModified, desc: "The client's copy (If-None-Match) is current; no body.", headers: []string{"ETag"}}

func feedOperation() op {
	closeCodes := map[string]string{
		"1000":                              "the server stopped reading: the client closed, stayed silent too long, or its socket failed",
		"1001":                              "the server is shutting down: reconnect and resume",
		"1009":                              "a frame announced more than 64 KiB",
		"1011":                              "a write to the connection failed: reconnect and resume",
		"1012":                              "the account was suspended or deleted and is active again before this connection acted on it: reconnect and resume",
		"1013":                              "the server could not check the token, start the feed, or read the log an open connection needed, now (a dependency is down): reconnect after the delay in the reason (`retry in N s`), with the same token",
		strconv.Itoa(api.CloseBadFrame):     "bad frame: not JSON, binary, over 4 KiB, unknown type or field, no hello first, a second hello",
		strconv.Itoa(api.CloseUnauthorized): "token missing, refused or expired, or its account is not active: get a fresh token and reconnect",
		strconv.Itoa(api.CloseHelloTimeout): "no hello within 10 s",
		strconv.Itoa(api.CloseTooSlow):      "the client could not keep up (64 frames queued; 1,024 while the connection starts), or the account opened too many connections (reason `too many connections: retry in N s`): reconnect and resume, in the second case after N s",
	}
	return op{method: "GET", path: "/v1/feed", id: "openFeed", tag: "Real-time feed", summary: "The real-time feed (websocket)", auth: authOptional, static: true,
		desc: "A websocket (subprotocol `" + api.FeedSubprotocol + "`) that delivers the events of the streams that concern the user, with resume after a reconnect. A browser's `Origin` must be the server's own or listed in `JARIMU_ALLOWED_ORIGINS`.\n\n" +
			"1. Within 10 s the client's first frame is `{\"type\":\"hello\",\"token\":\"<access token>\",\"resume\":{\"<stream>\":<last seq>}}` (`resume` optional; the token may instead come as `Authorization: Bearer` on the upgrade).\n\n" +
			"2. The server answers `welcome` with the connection's streams and their positions, then for each resumed stream every event after the given seq, or `reset` when its history no longer reaches it (reload by REST, then continue from the reset's seq), then live events.\n\n" +
			"3. Events come as `{\"type\":\"event\",\"stream\",\"seq\",\"id\",\"event\",\"at\",\"data\"}`; per stream `seq` rises by exactly 1, without gaps or repeats. A membership change adds or removes streams on open connections (`subscribed`, `unsubscribed`).\n\n" +
			"4. Streams: `user:<id>`; `org:<id>` for each active membership; `review:<org_id>` for its coordinators; `region:national`, `region:<province>`, `region:<regency>`; officers also `review:<their region>` (`review:national` for national officers and admins).\n\n" +
			"5. After hello the client may send `{\"type\":\"token\",\"token\"}` (a fresh access token; without one the connection closes at expiry), `{\"type\":\"ack\",\"stream\",\"seq\"}` (counts toward alert reach) and `{\"type\":\"ping\"}` (answered by `pong`). Client frames are at most 4 KiB.\n\n" +
			"Events: `task.created`, `task.updated`, `task.closed`, `assignment.created`, `claim.expiring`, `claim.expired`, `claim.released`, `claim.ended`, `membership.requested`, `membership.decided`, `membership.role_changed`, `account.updated`, `access.revoked` (on a stream a user loses, in its order; ignore it), `org.accreditation_changed`, `report.submitted`, `report.status_changed`, `alert.published`, `alert.retracted`. Close codes are listed under `x-websocket`.",
		params: []param{
			headerParam("Upgrade", "`websocket`.", &Schema{Type: "string", Enum: enumOf("websocket")}),
			headerParam("Sec-WebSocket-Protocol", "Offer `"+api.FeedSubprotocol+"`; the server selects it when offered.", &Schema{Type: "string", Enum: enumOf(api.FeedSubprotocol)}),
		},
		replies: []reply{
			{status: http.StatusSwitchingProtocols, desc: "Switching Protocols: the websocket is open; frames follow as described (see x-websocket)."},
		},
		problems: []string{"malformed"},
		ws: &docWebsocket{Subprotocol: api.FeedSubprotocol,
			ClientFrames: []*Schema{schemaRef("ClientFrame")},
			ServerFrames: []*Schema{schemaRef("Welcome"), schemaRef("EventFrame"), schemaRef("ResetFrame"), schemaRef("StreamFrame"), schemaRef("PongFrame")},
			CloseCodes:   closeCodes},
	}
}

// Documentation-only shapes of answers the handlers build as maps.
type (
	healthStatus struct {
		Status string `json:"status"`
	}
	jwkSet struct {
		Keys []jwk `json:"keys"`
	}
	jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
	}
	openIndex struct {
		Licence  string        `json:"licence"`
		Personal string        `json:"personal"`
		Datasets []openDataset `json:"datasets"`
	}
	openStats struct {
		GroupBy string        `json:"group_by"`
		Items   []report.Stat `json:"items"`
		Licence string        `json:"licence"`
	}
	pongFrame struct {
		Type string `json:"type"`
	}
)
