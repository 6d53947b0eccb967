package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/privacy"
	"github.com/jarimu/jarimu/report"
	"github.com/jarimu/jarimu/task"
)

// This file builds the OpenAPI 3.1 document of the whole API, served at GET
// /v1/openapi.json and rendered as HTML at GET /docs. The document is made
// from a table of operations (below) and from the wire types of package api,
// turned into JSON Schemas by reflection, so a field added to a type shows up
// without editing anything here. openapi_test.go checks the table against
// the routes the server actually registers (Server.Routes), both ways.

// handleOpenAPI serves the document, built once.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	doc := openAPI()
	if conditional(w, r, doc.etag, time.Time{}, false) {
		return nil
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc.json)))
	w.Write(doc.json)
	return nil
}

type builtOpenAPI struct {
	doc  *openAPIDoc
	json []byte
	etag string
}

// openAPI is the document, built on first use.
var openAPI = sync.OnceValue(func() *builtOpenAPI {
	doc := buildOpenAPI()
	b, err := json.Marshal(doc)
	if err != nil {
		panic("openapi: " + err.Error())
	}
	b = append(b, '\n')
	sum := sha256.Sum256(b)
	return &builtOpenAPI{doc: doc, json: b, etag: hex.EncodeToString(sum[:12])}
})

// ---------------------------------------------------------------------------
// The operation table.

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

var regionParam = queryParam("region", "A Kemendagri region code; only things whose region is this one or below it.",
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

// operations is every operation of the API, in the order /docs shows them.
func operations() []op {
	return []op{
		// Auth
		{method: "POST", path: "/v1/auth/signup", id: "signup", tag: "Auth", summary: "Create a volunteer account",
			desc: "Anyone. Creates a `volunteer` account and returns its first tokens and a `device_token` for this client's next login (everyone who signs up is a volunteer; staff accounts are made by admins).\n\n" +
				"Field errors come in two rounds: first `email` (ASCII before the @; an internationalised domain is stored in its xn-- form), `name` (one line, no invisible or direction-changing characters; stored in NFC) and a missing `password`; then the password policy (10 to 256 characters, not a commonly used password) and `region_code`. Signup is not throttled.",
			body: goType[api.SignupRequest](), replies: []reply{okReply(201, "The account and its first tokens.", goType[api.AuthResponse](), "Location")},
			problems: []string{"validation", "email-taken", "busy"}},
		{method: "POST", path: "/v1/auth/login", id: "login", tag: "Auth", summary: "Sign in",
			desc: "Anyone. Every failed login gets the same answer, 401 `invalid-credentials`, whatever failed (unknown email, wrong password, a suspended account), in about the same time. Each login starts a new session (a family of refresh tokens) and answers a `device_token` for this client's next login.\n\n" +
				"Throttled before the password is checked, in two lanes (429 `rate-limited` with `Retry-After`). With a valid `device_token` of this account: per device token only (10 at once, then one a minute). Without one (or with one over its allowance): per client address (50 at once, then 2 a second), per account at that address (10 at once, then one a minute) and per account over all addresses (100 at once, then 100 an hour). Someone guessing a password thus cannot keep its owner out.",
			body: goType[api.LoginRequest](), replies: []reply{okReply(200, "The user and fresh tokens.", goType[api.AuthResponse]())},
			problems: []string{"invalid-credentials", "rate-limited", "busy"}},
		{method: "POST", path: "/v1/auth/refresh", id: "refreshTokens", tag: "Auth", summary: "Trade a refresh token for new tokens",
			desc: "The holder of a refresh token. The presented token is spent and a new pair of the same family is returned.\n\n" +
				"A token presented again within 10 seconds of being spent (two tabs refreshing at once) gets a further fresh pair; presented later, it is treated as theft and the whole family is revoked (401 `invalid-refresh-token`).",
			body: goType[api.RefreshRequest](), replies: []reply{okReply(200, "New tokens.", goType[api.RefreshResponse]())},
			problems: []string{"invalid-refresh-token"}},
		{method: "POST", path: "/v1/auth/logout", id: "logout", tag: "Auth", summary: "End a session",
			desc: "The holder of a refresh token. Revokes the token's whole family (that login on every tab). An unknown or already revoked token also gets 204, so logging out twice is harmless. Access tokens already issued stay valid until they expire.",
			body: goType[api.RefreshRequest](), replies: []reply{okReply(204, "Signed out.", nil)}},
		{method: "POST", path: "/v1/auth/password-reset", id: "requestPasswordReset", tag: "Auth", summary: "Mail a password reset link",
			desc: "Anyone. When an active account has the email, a link to choose a new password is queued for it by mail (in the account's language, the other language after it): a console link carrying a single-use token as its `token` query parameter, good for 30 minutes; only the token's hash is kept. The answer is the same 202, in about the same time (at least 400 ms), whether or not an account has the email.\n\n" +
				"Throttled per client address (20, then one every 3 s: 429) and per email (3 mails, then one per 20 minutes: beyond it the answer is the same and no mail goes out). A server without an SMTP server (`JARIMU_SMTP_URL`) refuses every request alike with 409 `reset-by-admin`: an administrator makes the link with `jarimu admin reset-password`.",
			body: goType[api.PasswordResetRequest](), replies: []reply{okReply(202, "Accepted: a link is on its way if an account has the email.", goType[api.PasswordResetAccepted]())},
			problems: []string{"validation", "reset-by-admin", "rate-limited"}},
		{method: "POST", path: "/v1/auth/password-reset/confirm", id: "confirmPasswordReset", tag: "Auth", summary: "Set a new password with a reset link's token",
			desc: "The holder of a reset link. Sets the password of the link's account (the password policy applies: 422), spends the link, and ends every session, trusted device and other reset link of the account. A token unknown, used, past its 30 minutes, or of an account no longer active gets 401 `invalid-reset-token`, the same for all.",
			body: goType[api.PasswordResetConfirm](), replies: []reply{okReply(204, "The password is set; sign in with it.", nil)},
			problems: []string{"validation", "invalid-reset-token", "busy"}},
		{method: "GET", path: "/v1/privacy", id: "getPrivacyNotice", tag: "Auth", summary: "The privacy notice in force", static: true,
			desc:    "Anyone. The privacy notice under Indonesia's Personal Data Protection Law (UU 27/2022), in Indonesian (`id`, the binding text) and English (`en`), with its `version`. Signup consents to it by sending the version as `privacy_version`; an account whose `privacy_version` is older has consent due (see POST /v1/me/consent).",
			replies: []reply{okReply(200, "The notice.", goType[api.PrivacyNotice]())}},
		{method: "GET", path: "/v1/me", id: "getMe", tag: "Auth", summary: "The signed-in user and their memberships", auth: authBearer,
			desc:    "Any signed-in user. `memberships` lists every membership the user has had, in any state, most recent request first, without paging; each carries the organisation's accreditation status (`org_status`).",
			replies: []reply{okReply(200, "The user and their memberships.", goType[api.Me]())}},
		{method: "PATCH", path: "/v1/me", id: "updateMe", tag: "Auth", summary: "Change your name, region or language", auth: authBearer,
			desc: "Any signed-in user, for their own account. `region_code` (`\"\"` for national) only for volunteers: a staff account's region is its reach, set by an admin (403 `region-by-admin`). A region change is audited (`user.region_change`) and reaches the account's open feed connections at once: `account.updated` on the user's stream names the region streams they gain (from the seq committed then) and lose.",
			body: goType[api.UpdateMeRequest](), replies: []reply{okReply(200, "The account as it is now.", goType[api.User]())},
			problems: []string{"region-by-admin", "validation"}},
		{method: "DELETE", path: "/v1/me", id: "eraseMe", tag: "Auth", summary: "Erase your account", auth: authBearer,
			desc: "Any signed-in user, re-entering their password (checked and throttled as logins are; 403 `wrong-password`). Irreversible. The name, email (free again for a new account), password, region, consents, sessions, trusted devices, reset links and queued mail are deleted; memberships end (`left`) and so do active claims (`account_erased`); reports never verified are deleted with their evidence files; verified reports stay as Bawaslu's record with `reporter_erased: true`. Stored Idempotency-Key answers and audit entries that held the name or email are scrubbed, the user's own feed events deleted, alert acknowledgements stay with the emptied account (reach reads as before). Open feed connections of the account close (4401). Audited as `user.erase` with counts only.",
			body: goType[api.DeleteMeRequest](), replies: []reply{okReply(204, "Erased.", nil)},
			problems: []string{"validation", "wrong-password", "rate-limited", "busy"}},
		{method: "GET", path: "/v1/me/export", id: "exportMe", tag: "Auth", summary: "Download everything held about you", auth: authBearer,
			desc:     "Any signed-in user: one JSON document (`format=json`, the default) with the profile, consents, memberships, claims, reports (takedown history, evidence metadata, notes), sessions and devices, alert acknowledgements, queued mail (kinds only), the user's own feed events and the audit entries about them (others who acted shown by role only); or a ZIP (`format=zip`) with that document as `jarimu-data.json` and each evidence file under `evidence/`. Streamed a page of rows at a time. Served with `Content-Disposition: attachment`. Works while consent is due.",
			params:   []param{enumQueryParam("format", "`json` (default) or `zip` (with the evidence files).", "json", "zip")},
			replies:  []reply{{status: 200, desc: "The export.", media: "application/json", body: &Schema{Type: "object", Description: "The export document (format jarimu-export/1)."}, alsoMedia: []string{"application/zip"}}},
			problems: []string{"bad-query"}},
		{method: "POST", path: "/v1/me/password", id: "changePassword", tag: "Auth", summary: "Change your password", auth: authBearer,
			desc: "Any signed-in user. `current_password` is checked and throttled as logins to the account are (429); a wrong one is 403 `wrong-password`. The new password follows the policy and must differ. Every session and trusted device of the account ends, and so does any unused reset link; the answer is this client's new session and device token. Access tokens already issued run out within 15 minutes. Audited (`user.password_change`). Never stored for Idempotency-Key replays (the answer holds secrets).",
			body: goType[api.ChangePasswordRequest](), replies: []reply{okReply(200, "This client's new session.", goType[api.SessionResponse]())},
			problems: []string{"validation", "wrong-password", "rate-limited", "busy"}},
		{method: "POST", path: "/v1/me/consent", id: "giveConsent", tag: "Auth", summary: "Consent to the privacy notice in force", auth: authBearer,
			desc: "Any signed-in user. `version` must be the notice's current version (GET /v1/privacy), else 422. The consent is kept with its time; the user's `privacy_version` becomes it and `consent_due` ends. While consent is due (a new notice, or a staff account made by an admin) other writes answer 403 `consent-required`, except the caller's own account (/v1/me...), signing out, and alerts (publishing and retracting): reads, the feed and its acks keep working.",
			body: goType[api.ConsentRequest](), replies: []reply{okReply(200, "The account, with its privacy_version.", goType[api.User]())},
			problems: []string{"validation"}},
		{method: "GET", path: "/v1/me/sessions", id: "listSessions", tag: "Auth", summary: "Your sessions and trusted devices", auth: authBearer,
			desc:    "Any signed-in user: their live sessions (sign-ins whose refresh token is still good), newest first, and the clients trusted to sign in (device tokens), most recently used first.",
			replies: []reply{okReply(200, "Sessions and devices.", goType[api.Sessions]())}},
		{method: "DELETE", path: "/v1/me/sessions/{id}", id: "revokeSession", tag: "Auth", summary: "End one of your sessions", auth: authBearer,
			desc:    "Any signed-in user, for their own sessions: the session's refresh tokens stop working (its access token runs out within 15 minutes). Another account's session, or an ended one, is 404.",
			replies: []reply{okReply(204, "Ended.", nil)}, problems: []string{"not-found"}},
		{method: "DELETE", path: "/v1/me/devices/{id}", id: "revokeDevice", tag: "Auth", summary: "Forget a trusted device", auth: authBearer,
			desc:    "Any signed-in user, for their own devices: the device token no longer puts that client's logins in the trusted lane. Another account's device is 404.",
			replies: []reply{okReply(204, "Forgotten.", nil)}, problems: []string{"not-found"}},

		// Admin
		{method: "POST", path: "/v1/admin/users", id: "createUser", tag: "Admin", summary: "Create an account of any role", auth: authBearer,
			desc: "Admins only (checked before the body is read). This is how officers are made: an officer with `region_code` acts within that region, one without is a national officer. An admin may not have a region. The creation is audited (`user.create`).",
			body: goType[api.CreateUserRequest](), replies: []reply{okReply(201, "The account.", goType[api.User](), "Location")},
			problems: []string{"forbidden", "validation", "email-taken", "busy"}},
		{method: "GET", path: "/v1/admin/users/{id}", id: "getUser", tag: "Admin", summary: "Read an account", auth: authBearer,
			desc:    "Admins only.",
			replies: []reply{okReply(200, "The account.", goType[api.User]())}, problems: []string{"forbidden", "not-found"}},
		{method: "PATCH", path: "/v1/admin/users/{id}", id: "updateUser", tag: "Admin", summary: "Suspend, delete or reactivate an account, or change its region or staff role", auth: authBearer,
			desc: "Admins only. `suspended` and `deleted` revoke every refresh token of the account at once, its access tokens stop working on the next call and its feed connections close with 4401. A new `region_code` (`\"\"` for national) or staff `role` (officer, admin) changes the streams of its open feed connections at once. `deleted` is a soft state an admin can undo. Admins cannot suspend, delete or change the role of themselves.",
			body: goType[api.UpdateUserRequest](), replies: []reply{okReply(200, "The account as it is now.", goType[api.User]())},
			problems: []string{"forbidden", "validation", "self-suspension", "not-found"}},

		{method: "POST", path: "/v1/admin/users/{id}/erasure", id: "eraseUser", tag: "Admin", summary: "Erase an account", auth: authBearer,
			desc: "Admins only (checked before the body is read), for another account: a data subject request received by Bawaslu, say. Erases as DELETE /v1/me does, irreversibly; the `reason` (no personal data) is kept in the audit trail (`user.erase`). An erased account is 409 `account-erased`; the caller's own account is erased with DELETE /v1/me (409 `self-suspension`).",
			body: goType[api.EraseUserRequest](), replies: []reply{okReply(200, "What the erasure did (counts only).", goType[privacy.Erasure]())},
			problems: []string{"forbidden", "validation", "not-found", "account-erased", "self-suspension"}},

		// Organisations
		{method: "POST", path: "/v1/orgs", id: "createOrg", tag: "Organisations", summary: "Register an accredited CSO", auth: authBearer,
			desc: "National officers and admins. The organisation starts `accredited`. The account named by `coordinator_email` (an active volunteer) becomes its first coordinator at once; without one the organisation has no coordinator and no call can give it one. Audited as `org.create`.",
			body: goType[api.CreateOrgRequest](), replies: []reply{okReply(201, "The organisation.", goType[api.Org](), "Location")},
			problems: []string{"forbidden", "validation", "accreditation-number-taken"}},
		{method: "GET", path: "/v1/orgs", id: "listOrgs", tag: "Organisations", summary: "The public registry of organisations", list: true,
			desc: "Anyone. Newest registration first. With `region`, national organisations are left out.",
			params: []param{
				enumQueryParam("status", "Only organisations of this status; `accredited` excludes lapsed ones, `expired` lists exactly them.", api.OrgAccredited, api.OrgSuspended, api.OrgRevoked, api.OrgExpired),
				regionParam,
			},
			replies: []reply{okReply(200, "A page of organisations.", goType[api.Page[api.Org]]())}},
		{method: "GET", path: "/v1/orgs/{id}", id: "getOrg", tag: "Organisations", summary: "One organisation, with its accreditation history",
			desc:    "Anyone. `decisions` holds the latest 100 accreditation decisions, newest first; who decided is not shown (the audit trail has it).",
			replies: []reply{okReply(200, "The organisation.", goType[api.Org]())}, problems: []string{"not-found"}},
		{method: "POST", path: "/v1/orgs/{id}/accreditation", id: "decideAccreditation", tag: "Organisations", summary: "Suspend, revoke or renew an accreditation", auth: authBearer,
			desc: "Officers whose region reaches the organisation, and admins. From `accredited` or `expired`: suspend, revoke or renew; from `suspended`: revoke or renew; `revoked` is final. `until` is required to renew and refused otherwise, and must be in the future. Emits `org.accreditation_changed`; audited.",
			body: goType[api.AccreditationRequest](), replies: []reply{okReply(200, "The organisation after the change (without decisions).", goType[api.Org]())},
			problems: []string{"forbidden", "not-found", "validation", "accreditation-transition"}},
		{method: "POST", path: "/v1/orgs/{id}/invites", id: "createInvite", tag: "Organisations", summary: "Make an invite code", auth: authBearer,
			desc: "Active coordinators of the organisation. The code (`XXXXX-XXXXX-XXXXX-XXXXX`, case, dashes and spaces ignored) is shown in this answer only; only its hash is kept. `expires_at` must be in the future and at most 90 days ahead.",
			body: goType[api.InviteRequest](), replies: []reply{okReply(201, "The invite, with its code.", goType[api.Invite]())},
			problems: []string{"not-found", "forbidden", "validation", "org-not-accredited"}},
		{method: "POST", path: "/v1/orgs/{id}/memberships", id: "joinOrg", tag: "Organisations", summary: "Ask to join an organisation", auth: authBearer,
			desc: "Volunteers. Without a code (send `{}`) the membership is `pending` until a coordinator decides; a valid invite code makes it `active` at once. A member a coordinator removed comes back `pending` even with a code. Emits `membership.requested` to the coordinators.",
			body: goType[api.JoinRequest](), replies: []reply{okReply(201, "The membership.", goType[api.Membership](), "Location")},
			problems: []string{"staff-cannot-join", "not-found", "org-not-accredited", "membership-exists", "invite-unknown", "invite-expired", "invite-used-up"}},
		{method: "GET", path: "/v1/orgs/{id}/memberships", id: "listMemberships", tag: "Organisations", summary: "The memberships of an organisation", auth: authBearer, list: true,
			desc:     "The organisation's active coordinators, admins, and officers whose region reaches it. Newest request first.",
			params:   []param{enumQueryParam("status", "Only memberships of this status.", api.MembershipPending, api.MembershipActive, api.MembershipRejected, api.MembershipRemoved, api.MembershipLeft)},
			replies:  []reply{okReply(200, "A page of memberships.", goType[api.Page[api.Membership]]())},
			problems: []string{"not-found", "forbidden"}},
		{method: "POST", path: "/v1/orgs/{id}/memberships/{user_id}/decision", id: "decideMembership", tag: "Organisations", summary: "Approve or reject a pending membership", auth: authBearer,
			desc: "Active coordinators of the organisation. A rejection needs a `reason`, which the volunteer sees. Approving needs an accredited organisation. Emits `membership.decided` to the member; audited.",
			body: goType[api.DecisionRequest](), replies: []reply{okReply(200, "The membership (without user_name).", goType[api.Membership]())},
			problems: []string{"not-found", "forbidden", "validation", "not-pending", "org-not-accredited"}},
		{method: "PATCH", path: "/v1/orgs/{id}/memberships/{user_id}", id: "setMemberRole", tag: "Organisations", summary: "Change an active member's role", auth: authBearer,
			desc: "Active coordinators of the organisation. An organisation keeps at least one active coordinator. A real change emits `membership.role_changed` to the member and is audited; setting the same role changes nothing.",
			body: goType[api.RoleRequest](), replies: []reply{okReply(200, "The membership (without user_name).", goType[api.Membership]())},
			problems: []string{"not-found", "forbidden", "validation", "not-active", "last-coordinator"}},
		{method: "DELETE", path: "/v1/orgs/{id}/memberships/{user_id}", id: "removeMembership", tag: "Organisations", summary: "Remove a member, or leave", auth: authBearer,
			desc:    "A coordinator removes someone (`removed`), or a user ends or withdraws their own membership (`left`). The last coordinator cannot go. The member's feed connections lose the organisation's streams at once.",
			replies: []reply{okReply(204, "Removed.", nil)}, problems: []string{"not-found", "not-active", "last-coordinator"}},

		// Tasks and claims
		{method: "POST", path: "/v1/tasks", id: "createTask", tag: "Tasks", summary: "Create a monitoring task", auth: authBearer,
			desc: "Coordinators for their organisation (`org_id`); officers and admins for the national pool (no `org_id`). `platform` and `target` are required for `social_media` tasks. Emits `task.created` on the organisation's stream, or on the region stream for the national pool.",
			body: goType[api.CreateTaskRequest](), replies: []reply{okReply(201, "The task.", goType[api.Task](), "Location")},
			problems: []string{"forbidden", "outside-region", "validation", "org-not-accredited"}},
		{method: "GET", path: "/v1/tasks", id: "listTasks", tag: "Tasks", summary: "List tasks", auth: authBearer, list: true,
			desc: "Any signed-in user. `available` (the default) lists the tasks the caller could claim now: open, started and not due, of their active accredited organisations or the national pool, in their region, with a free slot and not held by them. `mine` lists tasks the caller holds or completed a claim on; `org` every task of `org_id`; `national` every national-pool task. Newest first; items carry live `slots_taken` and `my_claim`.",
			params: []param{
				enumQueryParam("scope", "Which tasks.", task.ScopeAvailable, task.ScopeMine, task.ScopeOrg, task.ScopeNational),
				queryParam("org_id", "The organisation, required with `scope=org`.", &Schema{Type: "string", Format: "uuid"}),
				regionParam,
				enumQueryParam("status", "Only tasks of this status.", api.TaskOpen, api.TaskClosed),
			},
			replies: []reply{okReply(200, "A page of tasks.", goType[api.Page[api.Task]]())}, problems: []string{"not-found", "forbidden"}},
		{method: "GET", path: "/v1/tasks/{id}", id: "getTask", tag: "Tasks", summary: "Read a task", auth: authBearer,
			desc:    "Anyone who may see the task: members of its organisation, covering officers and admins; every signed-in user for the national pool. With live `slots_taken` and the caller's `my_claim`.",
			replies: []reply{okReply(200, "The task.", goType[api.Task]())}, problems: []string{"not-found"}},
		{method: "PATCH", path: "/v1/tasks/{id}", id: "updateTask", tag: "Tasks", summary: "Change an open task", auth: authBearer,
			desc: "The task's managers. Absent fields stay; at least one must be given. `slots` may not go below the slots taken; `lease_minutes` applies to claims made or extended afterwards. Emits `task.updated`.",
			body: goType[api.UpdateTaskRequest](), replies: []reply{okReply(200, "The task.", goType[api.Task]())},
			problems: []string{"not-found", "forbidden", "validation", "task-closed"}},
		{method: "POST", path: "/v1/tasks/{id}/close", id: "closeTask", tag: "Tasks", summary: "Close a task", auth: authBearer,
			desc:    "The task's managers. No body is read. A closed task takes no claims or updates; active claims stay and may still be extended, released or completed. Closing a closed task changes nothing. Emits `task.closed`.",
			replies: []reply{okReply(200, "The task, closed.", goType[api.Task]())}, problems: []string{"not-found", "forbidden"}},
		{method: "POST", path: "/v1/tasks/{id}/claims", id: "claimTask", tag: "Tasks", summary: "Claim a slot of a task", auth: authBearer,
			desc: "A member of the task's organisation (any volunteer of the region for the national pool) takes one slot for the task's lease. Send no body without a `Content-Type`, or `{}` as JSON (required with an `Idempotency-Key`).\n\n" +
				"However many requests race, active and completed claims never exceed `slots`, a user holds one active claim per task and at most `JARIMU_MAX_ACTIVE_CLAIMS` (3) in all. Every refusal says why with its problem type. Emits `task.updated`.",
			body: emptyRequest, bodyOptional: true, replies: []reply{okReply(201, "The claim.", goType[api.Claim](), "Location")},
			problems: []string{"not-found", "org-not-accredited", "not-a-member", "outside-region", "task-closed", "task-not-started", "already-claimed", "claim-limit", "task-full"}},
		{method: "POST", path: "/v1/tasks/{id}/assignments", id: "assignTask", tag: "Tasks", summary: "Assign a slot to a member", auth: authBearer,
			desc: "The task's managers (checked before the assignee is looked up). The assignee must meet the conditions of a claim (membership, region, open task, their claim limit, a free slot). Emits `task.updated` and `assignment.created` on the assignee's stream.",
			body: goType[api.AssignRequest](), replies: []reply{okReply(201, "The claim, with assigned_by.", goType[api.Claim](), "Location")},
			problems: []string{"not-found", "forbidden", "validation", "org-not-accredited", "not-a-member", "outside-region", "task-closed", "task-not-started", "already-claimed", "claim-limit", "task-full"}},
		{method: "GET", path: "/v1/claims/{id}", id: "getClaim", tag: "Tasks", summary: "Read a claim", auth: authBearer,
			desc:    "The claim's holder and the task's managers; anyone else gets 404. A claim whose lease has passed reads as `expired`.",
			replies: []reply{okReply(200, "The claim.", goType[api.Claim]())}, problems: []string{"not-found"}},
		{method: "POST", path: "/v1/claims/{id}/extend", id: "extendClaim", tag: "Tasks", summary: "Extend a claim's lease", auth: authBearer,
			desc: "The holder only, while still an active member of the task's organisation and the organisation accredited. The lease runs again for the task's `lease_minutes` from now. The body is optional; a `version` makes the change conditional.",
			body: goType[api.ClaimChangeRequest](), bodyOptional: true, replies: []reply{okReply(200, "The claim with its new lease.", goType[api.Claim]())},
			problems: []string{"not-found", "forbidden", "claim-expired", "claim-not-active", "claim-version", "membership-ended", "org-not-accredited"}},
		{method: "POST", path: "/v1/claims/{id}/release", id: "releaseClaim", tag: "Tasks", summary: "Release a claim", auth: authBearer,
			desc: "The holder or a manager of the task. The slot is free again. Emits `task.updated`, and `claim.released` to the holder when a manager releases it. The body is optional, as for extend.",
			body: goType[api.ClaimChangeRequest](), bodyOptional: true, replies: []reply{okReply(200, "The claim, released.", goType[api.Claim]())},
			problems: []string{"not-found", "claim-expired", "claim-not-active", "claim-version"}},
		{method: "POST", path: "/v1/claims/{id}/complete", id: "completeClaim", tag: "Tasks", summary: "Complete a claim", auth: authBearer,
			desc: "The holder only, while still an active member of the task's organisation and the organisation accredited. The slot stays taken: the work was done.",
			body: goType[api.CompleteRequest](), replies: []reply{okReply(200, "The claim, completed.", goType[api.Claim]())},
			problems: []string{"not-found", "forbidden", "validation", "claim-expired", "claim-not-active", "claim-version", "membership-ended", "org-not-accredited"}},

		// Reports
		{method: "POST", path: "/v1/reports", id: "createReport", tag: "Reports", summary: "File a report", auth: authBearer,
			desc: "Any signed-in user. With `claim_id` (an active or completed claim of the caller) the report belongs to the claim's organisation; with `org_id`, to an organisation the caller is an active member of. Reports of the same normalised URL share a `cluster_id`. Emits `report.submitted` to the reviewers.",
			body: goType[api.CreateReportRequest](), replies: []reply{okReply(201, "The report, submitted.", goType[api.Report](), "Location")},
			problems: []string{"not-a-member", "validation", "claim-not-active", "org-not-accredited"}},
		{method: "GET", path: "/v1/reports", id: "listReports", tag: "Reports", summary: "List the reports the caller may see", auth: authBearer, list: true,
			desc: "The reporter sees their own, coordinators their organisation's, officers their region's, admins all. Newest first.",
			params: []param{
				enumQueryParam("status", "Only reports of this status.", api.ReportSubmitted, api.ReportEndorsed, api.ReportRejected, api.ReportVerified, api.ReportDuplicate),
				queryParam("org_id", "Only reports of this organisation.", &Schema{Type: "string", Format: "uuid"}),
				enumQueryParam("category", "Only reports of this category.", api.Categories...),
				regionParam,
			},
			replies: []reply{okReply(200, "A page of reports.", goType[api.Page[api.Report]]())}},
		{method: "GET", path: "/v1/reports/{id}", id: "getReport", tag: "Reports", summary: "Read a report", auth: authBearer,
			desc:    "Those who may see it; anyone else gets 404.",
			replies: []reply{okReply(200, "The report.", goType[api.Report]())}, problems: []string{"not-found"}},
		{method: "POST", path: "/v1/reports/{id}/evidence", id: "addEvidence", tag: "Reports", summary: "Attach an evidence file", auth: authBearer,
			desc: "The reporter only. A `multipart/form-data` body with a part named `file` (other parts are skipped), at most 10 MiB. The type is decided from the content, never the name: PNG, JPEG, WebP or PDF. Files are stored once per content; uploading the same file again answers 201 with the same description. A decided report (`verified`, `rejected`, `duplicate`) takes no more evidence. `Idempotency-Key` is ignored here. When the evidence store (the data dir, or an S3-compatible bucket) is down or refuses the server's credentials: 503 `unavailable` with `Retry-After`, and nothing is recorded.",
			body: evidenceBody, bodyMedia: "multipart/form-data", replies: []reply{okReply(201, "The stored file.", goType[api.Evidence](), "Location")},
			problems: []string{"unsupported-media-type", "too-large", "malformed", "not-found", "forbidden", "report-decided", "validation", "evidence-empty", "evidence-type", "unavailable"}},
		{method: "GET", path: "/v1/reports/{id}/evidence/{sha}", id: "getEvidence", tag: "Reports", summary: "Download an evidence file", auth: authBearer,
			desc: "Those who may see the report. Always sent as an attachment with the type decided at upload, `Cache-Control: private, no-store`, a sandboxing Content-Security-Policy and the SHA-256 as `ETag`. A `Range` of one span (`bytes=FIRST-LAST`, `bytes=FIRST-`, `bytes=-LAST_N`) answers 206 with those bytes; several spans get the whole file (200); a span past the end answers 416 (plain text, `Content-Range: bytes */SIZE`). `If-Range` and `If-None-Match` take the ETag. When the evidence store is down or refuses the server's credentials: 503 `unavailable` with `Retry-After`.",
			params: []param{
				headerParam("Range", "One span of bytes, e.g. `bytes=0-1048575`.", &Schema{Type: "string"}),
				headerParam("If-Range", "The ETag: the Range applies only while the file is this one.", &Schema{Type: "string"}),
				headerParam("If-None-Match", "The ETag of a copy the client holds: 304 if it is this file.", &Schema{Type: "string"}),
			},
			replies: []reply{
				{status: 200, desc: "The file, as a download.", media: "image/png", body: &Schema{Type: "string", ContentMediaType: "image/png"},
					headers: []string{"Content-Disposition", "ETag"}, alsoMedia: []string{"image/jpeg", "image/webp", "application/pdf"}},
				{status: 206, desc: "The span asked for by `Range`.", media: "image/png", body: &Schema{Type: "string", ContentMediaType: "image/png"},
					headers: []string{"Content-Disposition", "ETag", "Content-Range"}, alsoMedia: []string{"image/jpeg", "image/webp", "application/pdf"}},
				{status: 304, desc: "The client's copy (If-None-Match) is this file; no body.", headers: []string{"ETag"}},
			},
			problems: []string{"not-found", "unavailable"}},
		{method: "POST", path: "/v1/reports/{id}/review", id: "reviewReport", tag: "Reports", summary: "A coordinator endorses or rejects a report", auth: authBearer,
			desc: "Active coordinators of the report's organisation; from `submitted` to `endorsed` or `rejected`. A rejection needs a `note`, shown to the reporter. Nobody reviews their own report. Tells the reporter (`report.status_changed`); an endorsement sends the report to the region's officers.",
			body: goType[api.ReviewRequest](), replies: []reply{okReply(200, "The report after the decision.", goType[api.Report]())},
			problems: []string{"not-found", "own-report", "forbidden", "report-decided", "validation", "report-transition"}},
		{method: "POST", path: "/v1/reports/{id}/verification", id: "verifyReport", tag: "Reports", summary: "An officer verifies, rejects or marks a duplicate", auth: authBearer,
			desc: "Officers whose region covers the report, and admins; from `submitted` or `endorsed`. A rejection needs a `note`; a duplicate needs `duplicate_of`, a report within the officer's region (one outside it gets the answer of an unknown id). Nobody verifies their own report.",
			body: goType[api.VerificationRequest](), replies: []reply{okReply(200, "The report after the decision.", goType[api.Report]())},
			problems: []string{"not-found", "own-report", "forbidden", "report-decided", "validation", "report-transition"}},
		{method: "POST", path: "/v1/reports/{id}/takedown", id: "recordTakedown", tag: "Reports", summary: "Record a takedown step", auth: authBearer,
			desc: "Officers covering the report, and admins; for verified reports only (the one change a decided report still takes). Steps go `requested`, then `taken_down` or `refused`.",
			body: goType[api.TakedownRequest](), replies: []reply{okReply(200, "The report with the step appended to takedown.", goType[api.Report]())},
			problems: []string{"not-found", "own-report", "forbidden", "report-decided", "validation", "report-transition", "takedown-transition"}},

		// Alerts
		{method: "POST", path: "/v1/alerts", id: "createAlert", tag: "Alerts", summary: "Broadcast an alert to a region", auth: authBearer,
			desc: "Officers and admins, for their region or below (a province or regency code; none for national). `report_ids` must be verified reports within the officer's region (one outside it gets the answer of an unknown id). Emits `alert.published` on the region's stream, which every volunteer there receives; audited.",
			body: goType[api.CreateAlertRequest](), replies: []reply{okReply(201, "The alert.", goType[api.Alert](), "Location")},
			problems: []string{"forbidden", "outside-region", "validation"}},
		{method: "GET", path: "/v1/alerts", id: "listAlerts", tag: "Alerts", summary: "Published alerts", list: true,
			desc: "Anyone. Newest first; retracted alerts are included and flagged. With `region`: the national alerts, those of the region's province and regency, its own, and those below it.",
			params: []param{
				regionParam,
				queryParam("since", "Only alerts published at or after this RFC 3339 time.", &Schema{Type: "string", Format: "date-time"}),
			},
			replies: []reply{okReply(200, "A page of alerts.", goType[api.Page[api.Alert]]())}},
		{method: "GET", path: "/v1/alerts/{id}", id: "getAlert", tag: "Alerts", summary: "Read an alert",
			desc:    "Anyone.",
			replies: []reply{okReply(200, "The alert.", goType[api.Alert]())}, problems: []string{"not-found"}},
		{method: "POST", path: "/v1/alerts/{id}/retraction", id: "retractAlert", tag: "Alerts", summary: "Retract an alert", auth: authBearer,
			desc: "Officers whose region covers the alert's, and admins. Emits `alert.retracted` on the alert's stream; audited.",
			body: goType[api.RetractionRequest](), replies: []reply{okReply(200, "The alert, retracted.", goType[api.Alert]())},
			problems: []string{"not-found", "forbidden", "validation", "already-retracted"}},
		{method: "GET", path: "/v1/alerts/{id}/reach", id: "getAlertReach", tag: "Alerts", summary: "How far an alert got", auth: authBearer,
			desc:    "The issuing officer, officers covering the alert's region, and admins. `meant`: active volunteers of the region when it was published; `delivered`: volunteers whose feed client acknowledged it (an `ack` on a region stream covers the alerts among its last 64 events); delay percentiles in milliseconds, null until someone acknowledged.",
			replies: []reply{okReply(200, "The reach.", goType[api.Reach]())}, problems: []string{"not-found", "forbidden"}},

		// Open data
		{method: "GET", path: "/v1/open", id: "getOpenIndex", tag: "Open data", summary: "The open datasets, their fields and licence",
			desc:    "Anyone. No dataset holds personal data.",
			replies: []reply{okReply(200, "The index.", goType[openIndex]())}, static: true},
		{method: "GET", path: "/v1/open/alerts.csv", id: "getOpenAlertsCSV", tag: "Open data", summary: "Every alert, as CSV", params: conditionalParams,
			desc:    "Anyone. Oldest first, streamed; RFC 4180 with a header row (columns as in OpenAlert; `links` space-separated, times in whole seconds).",
			replies: []reply{okReplyMedia(200, "The dataset.", "text/csv", textSchema, "ETag", "Last-Modified", "Content-Disposition"), notModifiedReply}},
		{method: "GET", path: "/v1/open/alerts.json", id: "getOpenAlertsJSON", tag: "Open data", summary: "Every alert, as JSON", params: conditionalParams,
			desc:    "Anyone. Oldest first, streamed as one array.",
			replies: []reply{okReply(200, "The dataset.", goType[[]openAlert](), "ETag", "Last-Modified"), notModifiedReply}},
		{method: "GET", path: "/v1/open/orgs.csv", id: "getOpenOrgsCSV", tag: "Open data", summary: "The organisations registry, as CSV", params: conditionalParams,
			desc:    "Anyone. Oldest first; RFC 4180 with a header row (columns as in OpenOrg). The ETag follows the rows themselves.",
			replies: []reply{okReplyMedia(200, "The dataset.", "text/csv", textSchema, "ETag", "Last-Modified", "Content-Disposition"), notModifiedReply}},
		{method: "GET", path: "/v1/open/orgs.json", id: "getOpenOrgsJSON", tag: "Open data", summary: "The organisations registry, as JSON", params: conditionalParams,
			desc:    "Anyone. Oldest first, as one array.",
			replies: []reply{okReply(200, "The dataset.", goType[[]openOrg](), "ETag", "Last-Modified"), notModifiedReply}},
		{method: "GET", path: "/v1/open/stats.json", id: "getOpenStats", tag: "Open data", summary: "Counts of reports, verifications and takedowns",
			desc:    "Anyone. Items sorted by key.",
			params:  []param{enumQueryParam("group_by", "How to group: by category (the default), province, or UTC day of filing.", "category", "region", "day")},
			replies: []reply{okReply(200, "The counts.", goType[openStats]())}},

		// Audit
		{method: "GET", path: "/v1/audit", id: "listAudit", tag: "Audit", summary: "The audit trail", auth: authBearer, list: true,
			desc: "Admins and national officers read everything; a regional officer only `target_type=org&target_id=<id>` of an organisation within their region. Newest first. Each audited change writes its row in the same transaction as the change.",
			params: []param{
				queryParam("target_type", "Only rows about this kind of thing (exact match).", &Schema{Type: "string", Examples: []any{"org", "membership", "report", "alert", "user"}}),
				queryParam("target_id", "Only rows about this thing (exact match).", strSchema()),
			},
			replies: []reply{okReply(200, "A page of audit entries.", goType[api.Page[api.AuditEntry]]())}, problems: []string{"forbidden", "not-found"}},

		// Feed
		feedOperation(),

		// Service
		{method: "GET", path: "/healthz", id: "healthz", tag: "Service", summary: "Liveness", static: true,
			desc:    "200 while the process runs.",
			replies: []reply{okReply(200, "Alive.", goType[healthStatus]())}},
		{method: "GET", path: "/readyz", id: "readyz", tag: "Service", summary: "Readiness", static: true,
			desc:    "200 when this instance can serve: its dependencies answer and it is not shutting down.",
			replies: []reply{okReply(200, "Ready.", goType[healthStatus]())}, problems: []string{"not-ready", "draining"}},
		{method: "GET", path: "/.well-known/jwks.json", id: "getJWKS", tag: "Service", summary: "Public keys of the access tokens", static: true,
			desc:    "Anyone. Every key of the set verifies; one signs (the newest whose not_before has come). During a rotation the set holds several keys: a new key is listed minutes before it signs, longer than this answer may be cached.",
			replies: []reply{okReplyMedia(200, "The key set.", "application/jwk-set+json", goType[jwkSet]())}},
		{method: "GET", path: "/metrics", id: "getMetrics", tag: "Service", summary: "Prometheus metrics", static: true,
			desc:    "Requests by route and status, problems by type, the feed, the broker, the database pool and the Go runtime, in the Prometheus text format. Served here unless `JARIMU_METRICS_ADDR` moves it to a separate address.",
			replies: []reply{okReplyMedia(200, "The metrics.", "text/plain", textSchema)}},

		// Documentation
		{method: "GET", path: "/v1/openapi.json", id: "getOpenAPI", tag: "Documentation", summary: "This document", static: true,
			desc:    "The OpenAPI 3.1 description of the whole API.",
			replies: []reply{okReply(200, "The document.", &Schema{Type: "object", Description: "an OpenAPI 3.1 document"}, "ETag"), notModifiedDoc}},
		{method: "GET", path: "/docs", id: "getDocs", tag: "Documentation", summary: "The API reference as a web page", static: true,
			desc:    "This document, rendered as HTML without scripts or requests to other hosts.",
			replies: []reply{okReplyMedia(200, "The page.", "text/html", textSchema)}},
		{method: "GET", path: "/docs/style.css", id: "getDocsStyle", tag: "Documentation", summary: "The stylesheet of the reference page", static: true,
			replies: []reply{okReplyMedia(200, "The stylesheet.", "text/css", textSchema)}},
		{method: "GET", path: "/v1/problems/{type}", id: "getProblemType", tag: "Documentation", summary: "Explain a problem type", static: true,
			desc:    "Every problem `type` is `/v1/problems/<slug>`; this serves a short page about the slug.",
			replies: []reply{okReplyMedia(200, "The page.", "text/html", textSchema)}, problems: []string{"not-found"}},
	}
}

var notModifiedDoc = reply{status: http.StatusNotModified, desc: "The client's copy (If-None-Match) is current; no body.", headers: []string{"ETag"}}

func feedOperation() op {
	closeCodes := map[string]string{
		"1000":                              "the server stopped reading: the client closed, stayed silent too long, or its socket failed",
		"1001":                              "the server is shutting down: reconnect and resume",
		"1009":                              "a frame announced more than 64 KiB",
		"1011":                              "a server-side failure: reconnect and resume",
		strconv.Itoa(api.CloseBadFrame):     "bad frame: not JSON, binary, over 4 KiB, unknown type or field, no hello first, a second hello",
		strconv.Itoa(api.CloseUnauthorized): "token missing, refused or expired, or its account is not active: get a fresh token and reconnect",
		strconv.Itoa(api.CloseHelloTimeout): "no hello within 10 s",
		strconv.Itoa(api.CloseTooSlow):      "the client could not keep up (64 frames queued): reconnect and resume",
	}
	return op{method: "GET", path: "/v1/feed", id: "openFeed", tag: "Real-time feed", summary: "The real-time feed (websocket)", auth: authOptional, static: true,
		desc: "A websocket (subprotocol `" + api.FeedSubprotocol + "`) that delivers the events of the streams that concern the user, with resume after a reconnect. A browser's `Origin` must be allowed (`JARIMU_ALLOWED_ORIGINS`, else the request's own host).\n\n" +
			"1. Within 10 s the client's first frame is `{\"type\":\"hello\",\"token\":\"<access token>\",\"resume\":{\"<stream>\":<last seq>}}` (`resume` optional; the token may instead come as `Authorization: Bearer` on the upgrade).\n\n" +
			"2. The server answers `welcome` with the connection's streams and their positions, then for each resumed stream every event after the given seq, or `reset` when its history no longer reaches it (reload by REST, then continue from the reset's seq), then live events.\n\n" +
			"3. Events come as `{\"type\":\"event\",\"stream\",\"seq\",\"id\",\"event\",\"at\",\"data\"}`; per stream `seq` rises by exactly 1, without gaps or repeats. A membership change adds or removes streams on open connections (`subscribed`, `unsubscribed`).\n\n" +
			"4. Streams: `user:<id>`; `org:<id>` for each active membership; `review:<org_id>` for its coordinators; `region:national`, `region:<province>`, `region:<regency>`; officers also `review:<their region>` (`review:national` for national officers and admins).\n\n" +
			"5. After hello the client may send `{\"type\":\"token\",\"token\"}` (a fresh access token; without one the connection closes at expiry), `{\"type\":\"ack\",\"stream\",\"seq\"}` (counts toward alert reach) and `{\"type\":\"ping\"}` (answered by `pong`). Client frames are at most 4 KiB.\n\n" +
			"Events: `task.created`, `task.updated`, `task.closed`, `assignment.created`, `claim.expiring`, `claim.expired`, `claim.released`, `claim.ended`, `membership.requested`, `membership.decided`, `membership.role_changed`, `org.accreditation_changed`, `report.submitted`, `report.status_changed`, `alert.published`, `alert.retracted`. Close codes are listed under `x-websocket`.",
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

// problemStatus is the HTTP status of each problem type slug.
var problemStatus = map[string]int{
	"malformed": 400, "bad-query": 400, "bad-cursor": 400, "bad-idempotency-key": 400,
	"unauthorized": 401, "unauthenticated": 401, "invalid-token": 401, "invalid-credentials": 401, "invalid-refresh-token": 401, "invalid-reset-token": 401,
	"forbidden": 403, "consent-required": 403, "wrong-password": 403, "region-by-admin": 403, "staff-cannot-join": 403, "own-report": 403, "not-a-member": 403, "outside-region": 403,
	"not-found": 404, "method-not-allowed": 405,
	"conflict": 409, "email-taken": 409, "reset-by-admin": 409, "account-erased": 409, "account-not-active": 409, "self-suspension": 409, "accreditation-number-taken": 409, "accreditation-transition": 409,
	"org-not-accredited": 409, "invite-expired": 409, "invite-used-up": 409, "membership-exists": 409, "not-pending": 409,
	"not-active": 409, "last-coordinator": 409, "task-full": 409, "already-claimed": 409, "claim-limit": 409,
	"task-closed": 409, "task-not-started": 409, "claim-expired": 409, "claim-not-active": 409, "claim-version": 409,
	"membership-ended": 409, "report-decided": 409, "report-transition": 409, "takedown-transition": 409, "already-retracted": 409, "idempotency-in-progress": 409,
	"too-large": 413, "unsupported-media-type": 415,
	"invalid": 422, "validation": 422, "invite-unknown": 422, "idempotency-key-reused": 422, "evidence-empty": 422, "evidence-type": 422,
	"rate-limited": 429, "internal": 500,
	"unavailable": 503, "busy": 503, "not-ready": 503, "draining": 503,
}

// ---------------------------------------------------------------------------
// The document.

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
	"- Lists take `limit` (1 to 200, default 50) and `cursor`, and answer `{\"items\",\"next_cursor\"}`, newest first; `next_cursor` is absent on the last page.\n\n" +
	"The open datasets under /v1/open are published under the Creative Commons Attribution 4.0 licence (CC BY 4.0), credited to Bawaslu RI and Jarimu Awasi Pemilu. This document itself carries no separate licence."

var docTags = []docTag{
	{"Auth", "Accounts and sessions: signup, login, refresh and logout, and the signed-in user."},
	{"Admin", "Staff accounts, made and suspended by admins."},
	{"Organisations", "The public registry of accredited civil society organisations, their accreditation, invites and memberships."},
	{"Tasks", "Monitoring tasks: a task has slots, a volunteer takes one with a claim that holds it for a lease and ends released, expired or completed."},
	{"Reports", "Findings with evidence, reviewed by coordinators, verified by officers, with their takedown history."},
	{"Alerts", "Verified alerts officers broadcast to a region, and how far they got."},
	{"Open data", "Public datasets without personal data, under CC BY 4.0. No login is needed."},
	{"Audit", "Who changed what, written with each change."},
	{"Real-time feed", "The websocket that delivers events, with resume."},
	{"Service", "Health, readiness, keys and metrics, for operators and load balancers."},
	{"Documentation", "This document, its web page and the problem type pages."},
}

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
		slugs := make([]string, 0, len(problemDocs))
		for s := range problemDocs {
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

func buildOpenAPI() *openAPIDoc {
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

	for _, o := range operations() {
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
		for _, m := range pathParamRE.FindAllStringSubmatch(o.path, -1) {
			d.Parameters = append(d.Parameters, pathParam(o.path, m[1]))
		}

		slugs := slices.Clone(o.problems)
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
			st, ok := problemStatus[s]
			if !ok {
				panic("openapi: problem type " + s + " has no status")
			}
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

// ---------------------------------------------------------------------------
// Descriptions of the wire types and of the rules reflection cannot see.

var typeDocs = map[string]string{
	"Problem":               "An RFC 9457 problem detail, the body of every error answer (application/problem+json).",
	"FieldError":            "One invalid input field and why.",
	"User":                  "An account. `region_code` null means national.",
	"Tokens":                "A fresh pair of credentials.",
	"AuthResponse":          "The answer of signup and login.",
	"RefreshResponse":       "The answer of a refresh.",
	"Me":                    "The signed-in user and every membership they have had.",
	"MembershipSummary":     "One of the user's memberships, as /v1/me lists them.",
	"Org":                   "An accredited civil society organisation as the public registry shows it. `region_code` null: a national organisation.",
	"Decision":              "One accreditation decision, public on the organisation's page.",
	"Invite":                "A created invite. The code is shown once, here.",
	"Membership":            "A user's place in an organisation.",
	"AuditEntry":            "One row of the audit trail.",
	"Task":                  "A monitoring task. `org_id` null: the national pool, open to every volunteer of the region.",
	"Claim":                 "A volunteer's hold on one slot of a task.",
	"Report":                "A finding about online or offline content.",
	"Takedown":              "One step of a report's takedown history.",
	"Evidence":              "A stored evidence file of a report, named by its SHA-256.",
	"Alert":                 "An alert broadcast by an officer to a region.",
	"Reach":                 "How far an alert got.",
	"ClientFrame":           "Any frame a client sends on the feed: hello, token, ack or ping.",
	"Welcome":               "The server's answer to hello.",
	"StreamPosition":        "A stream and the last seq given out on it.",
	"EventFrame":            "One event of a stream.",
	"ResetFrame":            "The history of a stream no longer reaches the asked seq: reload by REST, then continue from seq.",
	"StreamFrame":           "A stream joined (`subscribed`, events follow after seq) or left (`unsubscribed`) the connection.",
	"PongFrame":             "The answer to a client's ping frame.",
	"FeedChange":            "Rides in the data of membership events under `feed`: the streams the user's connections gain, with the seq they start after, or lose.",
	"HealthStatus":          "A health answer.",
	"JwkSet":                "A JSON Web Key Set.",
	"Jwk":                   "An Ed25519 public key.",
	"OpenIndex":             "The open datasets.",
	"OpenDataset":           "One open dataset.",
	"OpenField":             "One field of an open dataset.",
	"OpenAlert":             "An alert as open data.",
	"OpenOrg":               "An organisation as open data.",
	"OpenStats":             "Counts of reports.",
	"ReportStat":            "The counts of one group.",
	"OrgPage":               "A page of organisations.",
	"MembershipPage":        "A page of memberships.",
	"TaskPage":              "A page of tasks.",
	"ReportPage":            "A page of reports.",
	"AlertPage":             "A page of alerts.",
	"AuditEntryPage":        "A page of audit entries.",
	"SignupRequest":         "Signup carries no role: everyone who signs up is a volunteer. It consents to the privacy notice by naming its version.",
	"UpdateMeRequest":       "Absent fields stay; at least one must be given.",
	"ChangePasswordRequest": "The current password, re-entered, and the new one.",
	"SessionResponse":       "This client's new session after a password change.",
	"PasswordResetRequest":  "The email of the account whose password was forgotten.",
	"PasswordResetAccepted": "The same answer to every reset request.",
	"PasswordResetConfirm":  "The token of a reset link and the new password.",
	"ConsentRequest":        "The version of the privacy notice consented to.",
	"Sessions":              "The caller's live sessions and trusted devices.",
	"Session":               "A sign-in and its refreshes (a refresh token family).",
	"Device":                "A client trusted to sign in (a device token).",
	"PrivacyNotice":         "The privacy notice, by language.",
	"PrivacyText":           "The notice in one language.",
	"PrivacySection":        "One heading of the notice.",
	"CreateUserRequest":     "A staff (or volunteer) account made by an admin.",
	"UpdateUserRequest":     "An admin suspends, deletes or reactivates an account.",
	"CreateOrgRequest":      "Registers an accredited CSO.",
	"AccreditationRequest":  "Suspends, revokes or renews an accreditation.",
	"InviteRequest":         "Makes an invite code.",
	"JoinRequest":           "Asks to join; send `{}` without a code.",
	"DecisionRequest":       "Approves or rejects a pending membership.",
	"RoleRequest":           "Changes an active member's role.",
	"CreateTaskRequest":     "A new task. Defaults: slots 1, lease_minutes 120.",
	"UpdateTaskRequest":     "Absent fields stay; at least one must be given.",
	"AssignRequest":         "Assigns a slot to a member.",
	"ClaimChangeRequest":    "With `version`, the change applies only to that version of the claim.",
	"CompleteRequest":       "How the claim ended.",
	"CreateReportRequest":   "A new report.",
	"ReviewRequest":         "A coordinator's review.",
	"VerificationRequest":   "An officer's decision.",
	"TakedownRequest":       "A takedown step.",
	"CreateAlertRequest":    "A new alert.",
	"RetractionRequest":     "Withdraws an alert.",
	"LoginRequest":          "Credentials, and the device token of this client's last signup or login if it has one.",
	"RefreshRequest":        "A refresh token.",
}

func intRange(min, max int64) (*int64, *int64) { return &min, &max }

func lengths(min, max int) fieldDoc { return fieldDoc{minLen: &min, maxLen: &max} }

func withDesc(d fieldDoc, desc string) fieldDoc { d.desc = desc; return d }

var (
	uuidDoc      = fieldDoc{format: "uuid"}
	regionDoc    = fieldDoc{desc: "Kemendagri region code (2 digits a province, 4 a regency/city, 6 a district, 10 a village); null or absent means national.", pattern: `^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{4})?)?)?$`}
	orgStatuses  = []string{api.OrgAccredited, api.OrgSuspended, api.OrgRevoked, api.OrgExpired}
	memberStates = []string{api.MembershipPending, api.MembershipActive, api.MembershipRejected, api.MembershipRemoved, api.MembershipLeft}
	orgRoles     = []string{api.RoleMember, api.RoleCoordinator}
	userRoles    = []string{api.RoleVolunteer, api.RoleOfficer, api.RoleAdmin}
	userStatuses = []string{api.UserActive, api.UserSuspended, api.UserDeleted}
	allStatuses  = []string{api.UserActive, api.UserSuspended, api.UserDeleted, api.UserErased}
	languages    = api.Languages
	claimStates  = []string{api.ClaimActive, api.ClaimReleased, api.ClaimExpired, api.ClaimCompleted}
	reportStates = []string{api.ReportSubmitted, api.ReportEndorsed, api.ReportRejected, api.ReportVerified, api.ReportDuplicate}
	takedownStep = []string{api.TakedownRequested, api.TakedownDone, api.TakedownRefused}
	evidenceType = []string{"image/png", "image/jpeg", "image/webp", "application/pdf"}
	slots        = func() fieldDoc {
		d := fieldDoc{desc: "How many claims may be active or completed at once."}
		d.min, d.max = intRange(1, 1000)
		return d
	}()
	leaseMinutes = func() fieldDoc {
		d := fieldDoc{desc: "Length of a claim's lease, in minutes."}
		d.min, d.max = intRange(5, 1440)
		return d
	}()
	maxUses = func() fieldDoc {
		d := fieldDoc{desc: "How many times the code may be used."}
		d.min, d.max = intRange(1, 10000)
		return d
	}()
)

// commonDocs apply to any field of that JSON name that has no fieldDocs entry.
var commonDocs = map[string]fieldDoc{
	"id":          uuidDoc,
	"org_id":      uuidDoc,
	"user_id":     uuidDoc,
	"task_id":     uuidDoc,
	"claim_id":    uuidDoc,
	"alert_id":    uuidDoc,
	"reporter_id": uuidDoc,
	"created_by":  uuidDoc,
	"region_code": regionDoc,
	"created_at":  {desc: "When it was made."},
	"updated_at":  {desc: "Last change."},
}

// fieldDocs refine "Component.field"; every entry must name a real field.
var fieldDocs = map[string]fieldDoc{
	"Problem.type":       {desc: "`/v1/problems/<slug>`: a stable slug to switch on; a page about it is served there."},
	"Problem.title":      {desc: "A fixed short title for the status."},
	"Problem.status":     {desc: "The HTTP status."},
	"Problem.detail":     {desc: "A sentence for people; do not parse it."},
	"Problem.instance":   {desc: "The request path."},
	"Problem.request_id": {desc: "The request's id (also in X-Request-Id); quote it when reporting a problem."},
	"Problem.errors":     {desc: "For `validation`: one entry per bad field."},
	"FieldError.field":   {desc: "The field's JSON name (\"\" for the body as a whole)."},

	"User.email":                         {desc: "Stored and shown in lower case.", format: "email"},
	"User.role":                          {enum: userRoles},
	"User.status":                        {desc: "`erased`: erased at its owner's or an admin's request; nothing of the person is left.", enum: allStatuses},
	"User.language":                      {desc: "The console's and mail's language.", enum: languages},
	"User.privacy_version":               {desc: "The privacy notice version the owner last consented to; null until they do (accounts made by admins)."},
	"AuthResponse.consent_due":           {desc: "The account has not consented to the privacy notice in force: most writes answer 403 `consent-required` until POST /v1/me/consent."},
	"Me.consent_due":                     {desc: "As in AuthResponse."},
	"SignupRequest.privacy_version":      {desc: "The `version` of GET /v1/privacy, consented to; absent or stale: 422."},
	"SignupRequest.language":             {enum: languages},
	"UpdateMeRequest.name":               lengths(1, 100),
	"UpdateMeRequest.region_code":        withDesc(regionDoc, "Volunteers only; `\"\"` makes the account national."),
	"UpdateMeRequest.language":           {enum: languages},
	"ChangePasswordRequest.new_password": withDesc(lengths(10, 256), "10 to 256 characters, not a commonly used password, not the current one."),
	"PasswordResetConfirm.password":      withDesc(lengths(10, 256), "10 to 256 characters, not a commonly used password."),
	"PasswordResetAccepted.status":       {enum: []string{"accepted"}},
	"Report.reporter_erased":             {desc: "The reporter's account was erased: the verified report is kept for the record, without the person."},
	"Erasure.by":                         {enum: []string{"self", "admin", "retention"}},
	"Tokens.access_token":                {desc: "A JWT (EdDSA) for Authorization: Bearer."},
	"Tokens.refresh_token":               {desc: "An opaque string for /v1/auth/refresh; spent on use."},
	"Tokens.token_type":                  {enum: []string{"Bearer"}},
	"Tokens.expires_in":                  {desc: "Seconds until the access token expires."},

	"AuthResponse.device_token": withDesc(lengths(43, 43), "Marks this client as one that signed in to this account: keep it (also after logout) and send it with the next login, which answers a new one. It grants no access by itself."),
	"LoginRequest.device_token": {desc: "The `device_token` of this client's last signup or login. Puts the attempt in its own throttle lane; an unknown, replaced, revoked or other account's token counts as none and is not an error."},

	"SignupRequest.email":           withDesc(lengths(3, 254), "A plain address whose domain contains a dot."),
	"SignupRequest.password":        withDesc(lengths(10, 256), "10 to 256 characters, not a commonly used password."),
	"SignupRequest.name":            lengths(1, 100),
	"CreateUserRequest.email":       withDesc(lengths(3, 254), "A plain address whose domain contains a dot."),
	"CreateUserRequest.password":    withDesc(lengths(10, 256), "10 to 256 characters, not a commonly used password."),
	"CreateUserRequest.name":        lengths(1, 100),
	"CreateUserRequest.role":        {enum: userRoles},
	"CreateUserRequest.region_code": withDesc(regionDoc, "The staff member's region; none makes a national account. An admin may not have one."),
	"UpdateUserRequest.status":      {enum: userStatuses},

	"MembershipSummary.role":       {enum: orgRoles},
	"MembershipSummary.status":     {enum: memberStates},
	"MembershipSummary.org_status": {desc: "The organisation's accreditation status now.", enum: orgStatuses},
	"MembershipSummary.reason":     {desc: "A coordinator's reason given with the last approval or rejection."},

	"Org.accreditation_number": {desc: "The Bawaslu decision number; unique, compared without regard to case."},
	"Org.accredited_until":     {desc: "End of validity."},
	"Org.status":               {desc: "`expired` is computed: accredited but past accredited_until.", enum: orgStatuses},
	"Org.member_count":         {desc: "Active memberships, coordinators included."},
	"Org.decisions":            {desc: "Only on GET /v1/orgs/{id}: the latest 100 accreditation decisions, newest first."},
	"Decision.action":          {enum: []string{"create", api.ActionSuspend, api.ActionRevoke, api.ActionRenew, "expire"}},
	"Decision.status":          {desc: "The status it led to.", enum: orgStatuses},
	"Decision.until":           {desc: "The validity end after the decision."},

	"CreateOrgRequest.name":                 lengths(2, 200),
	"CreateOrgRequest.accreditation_number": lengths(1, 100),
	"CreateOrgRequest.accredited_until":     {desc: "Must be in the future."},
	"CreateOrgRequest.coordinator_email":    {desc: "An active volunteer's account, who becomes the first coordinator.", format: "email"},
	"AccreditationRequest.action":           {enum: []string{api.ActionSuspend, api.ActionRevoke, api.ActionRenew}},
	"AccreditationRequest.until":            {desc: "Required to renew, refused otherwise; in the future."},
	"AccreditationRequest.reason":           withDesc(lengths(3, 1000), "Public on the organisation's page."),
	"InviteRequest.max_uses":                maxUses,
	"InviteRequest.expires_at":              {desc: "In the future, at most 90 days ahead."},
	"Invite.code":                           {desc: "XXXXX-XXXXX-XXXXX-XXXXX; case, dashes and spaces are ignored when used."},
	"JoinRequest.invite_code":               {desc: "An invite code of this organisation: the membership is active at once."},
	"Membership.user_name":                  {desc: "In lists, the join answer and membership.requested."},
	"Membership.role":                       {enum: orgRoles},
	"Membership.status":                     {enum: memberStates},
	"Membership.reason":                     {desc: "The reason given with the last approval or rejection."},
	"Membership.decided_at":                 {desc: "Once decided: approval, rejection, invite join, removal or leaving."},
	"Membership.created_at":                 {desc: "When the current request was made (reset by a new request)."},
	"DecisionRequest.decision":              {enum: []string{"approve", "reject"}},
	"DecisionRequest.reason":                withDesc(lengths(0, 1000), "Required to reject; the volunteer sees it."),
	"RoleRequest.role":                      {enum: orgRoles},

	"AuditEntry.actor_id":   {desc: "The acting user; null for the system.", format: "uuid"},
	"AuditEntry.actor_role": {enum: []string{api.RoleVolunteer, api.RoleOfficer, api.RoleAdmin, "system"}},
	"AuditEntry.action":     {desc: "Such as `org.create`, `membership.approve`, `report.verified`, `alert.publish`."},
	"AuditEntry.target_id":  {desc: "An id; for memberships `<org_id>:<user_id>`."},
	"AuditEntry.before":     {desc: "A JSON snapshot of the state before."},
	"AuditEntry.after":      {desc: "A JSON snapshot of the state after."},

	"Task.org_id":                     {desc: "Null for the national pool.", format: "uuid"},
	"Task.kind":                       {enum: api.Kinds},
	"Task.platform":                   {enum: api.Platforms},
	"Task.target":                     {desc: "What to watch; for social_media a URL, #hashtag or @account."},
	"Task.region_code":                withDesc(regionDoc, "Who may take it: volunteers of this region or below; null for everyone."),
	"Task.starts_at":                  {desc: "No claims before this time."},
	"Task.due_at":                     {desc: "No claims from this time on."},
	"Task.slots":                      slots,
	"Task.slots_taken":                {desc: "Active (unlapsed) and completed claims."},
	"Task.lease_minutes":              leaseMinutes,
	"Task.status":                     {enum: []string{api.TaskOpen, api.TaskClosed}},
	"Task.my_claim":                   {desc: "In reads: the caller's own active or completed claim on the task."},
	"CreateTaskRequest.org_id":        {desc: "The organisation; absent for a national-pool task.", format: "uuid"},
	"CreateTaskRequest.title":         lengths(3, 200),
	"CreateTaskRequest.description":   lengths(0, 5000),
	"CreateTaskRequest.kind":          {enum: api.Kinds},
	"CreateTaskRequest.platform":      {desc: "Required for social_media.", enum: api.Platforms},
	"CreateTaskRequest.target":        withDesc(lengths(1, 2048), "Required for social_media: an http(s) URL, #hashtag or @account."),
	"CreateTaskRequest.due_at":        {desc: "In the future and after starts_at."},
	"CreateTaskRequest.slots":         withDesc(slots, "How many claims may be active or completed at once; default 1."),
	"CreateTaskRequest.lease_minutes": withDesc(leaseMinutes, "Length of a claim's lease, in minutes; default 120."),
	"UpdateTaskRequest.title":         lengths(3, 200),
	"UpdateTaskRequest.description":   lengths(0, 5000),
	"UpdateTaskRequest.slots":         withDesc(slots, "Not below the slots taken."),
	"UpdateTaskRequest.lease_minutes": leaseMinutes,
	"Claim.status":                    {desc: "An active claim whose lease has passed reads as expired.", enum: claimStates},
	"Claim.lease_expires_at":          {desc: "When the slot is given back unless extended or completed."},
	"Claim.assigned_by":               {desc: "Who assigned it; null when the holder claimed it.", format: "uuid"},
	"Claim.outcome":                   {enum: api.Outcomes},
	"Claim.version":                   {desc: "Rises by one with every change; send it back to make a change conditional."},
	"Claim.ended_at":                  {desc: "When it was released, expired or completed."},
	"Claim.end_reason":                {desc: "Set when the server released the claim because its holder lost access to the task: the membership ended, or the organisation was suspended, revoked or its accreditation lapsed.", enum: api.ClaimEndReasons},
	"ClaimChangeRequest.version":      {desc: "Apply only to this version of the claim, else 409 claim-version."},
	"CompleteRequest.outcome":         {enum: api.Outcomes},
	"CompleteRequest.note":            lengths(0, 2000),
	"CompleteRequest.version":         {desc: "Apply only to this version of the claim, else 409 claim-version."},

	"Report.org_id":                    {desc: "The organisation it was filed for; null: straight to Bawaslu.", format: "uuid"},
	"Report.url":                       {desc: "As sent.", format: "uri"},
	"Report.normalized_url":            {desc: "The canonical form of url."},
	"Report.cluster_id":                {desc: "Shared by reports of the same normalized_url (UUIDv5 of it in the URL namespace).", format: "uuid"},
	"Report.cluster_size":              {desc: "How many reports share the cluster now."},
	"Report.platform":                  {enum: api.Platforms},
	"Report.category":                  {enum: api.Categories},
	"Report.observed_at":               {desc: "When the reporter saw the content."},
	"Report.status":                    {enum: reportStates},
	"Report.duplicate_of":              {desc: "For a duplicate, the report it duplicates.", format: "uuid"},
	"Report.review_note":               {desc: "The coordinator's note."},
	"Report.verification_note":         {desc: "The officer's note."},
	"Report.takedown":                  {desc: "The takedown steps, oldest first."},
	"Report.evidence":                  {desc: "The attached files, oldest first."},
	"Takedown.status":                  {enum: takedownStep},
	"Evidence.sha256":                  {pattern: "^[0-9a-f]{64}$"},
	"Evidence.content_type":            {enum: evidenceType},
	"Evidence.size":                    {desc: "Bytes."},
	"CreateReportRequest.claim_id":     {desc: "An active or completed claim of the caller; the report then belongs to its task's organisation.", format: "uuid"},
	"CreateReportRequest.org_id":       {desc: "An organisation the caller is an active member of.", format: "uuid"},
	"CreateReportRequest.url":          withDesc(lengths(1, 2048), "An absolute http(s) URL."),
	"CreateReportRequest.platform":     {enum: api.Platforms},
	"CreateReportRequest.category":     {enum: api.Categories},
	"CreateReportRequest.summary":      lengths(10, 4000),
	"CreateReportRequest.observed_at":  {desc: "Within the last year, at most 5 minutes ahead."},
	"ReviewRequest.decision":           {enum: []string{"endorse", "reject"}},
	"ReviewRequest.note":               withDesc(lengths(0, 2000), "Required to reject; the reporter sees it."),
	"VerificationRequest.decision":     {enum: []string{api.ReportVerified, api.ReportRejected, api.ReportDuplicate}},
	"VerificationRequest.note":         withDesc(lengths(0, 2000), "Required to reject; the reporter sees it."),
	"VerificationRequest.duplicate_of": {desc: "Required for duplicate, refused otherwise.", format: "uuid"},
	"TakedownRequest.status":           {enum: takedownStep},
	"TakedownRequest.platform_ref":     withDesc(lengths(0, 200), "A reference at the platform or at Kominfo."),
	"TakedownRequest.note":             lengths(0, 2000),

	"Alert.severity":                 {enum: api.Severities},
	"Alert.category":                 {enum: api.Categories},
	"Alert.report_ids":               {format: "uuid"},
	"Alert.links":                    {format: "uri"},
	"Alert.retraction_reason":        {desc: "Present once retracted."},
	"CreateAlertRequest.title":       lengths(3, 200),
	"CreateAlertRequest.body":        lengths(1, 5000),
	"CreateAlertRequest.severity":    {enum: api.Severities},
	"CreateAlertRequest.region_code": withDesc(regionDoc, "A province or regency code within the officer's region; absent for national."),
	"CreateAlertRequest.category":    {enum: api.Categories},
	"CreateAlertRequest.report_ids":  {desc: "Verified reports within the officer's region.", format: "uuid", maxItems: intPtr(50)},
	"CreateAlertRequest.links":       {desc: "Absolute http(s) URLs.", format: "uri", maxItems: intPtr(10)},
	"RetractionRequest.reason":       lengths(3, 1000),
	"Reach.meant":                    {desc: "Active volunteers of the alert's region and below when it was published."},
	"Reach.delivered":                {desc: "Volunteers whose feed client acknowledged it."},
	"Reach.p50_ms":                   {desc: "Median delay from publication to acknowledgement, in milliseconds; null while nobody acknowledged."},
	"Reach.p90_ms":                   {desc: "90th percentile of that delay."},

	"ClientFrame.type":      {enum: []string{"hello", "token", "ack", "ping"}},
	"ClientFrame.token":     {desc: "hello (unless sent on the upgrade) and token: an access token."},
	"ClientFrame.resume":    {desc: "hello: the last seq the client has of each stream (at most 256)."},
	"ClientFrame.stream":    {desc: "ack: the stream."},
	"ClientFrame.seq":       {desc: "ack: everything up to this seq was received."},
	"Welcome.type":          {enum: []string{"welcome"}},
	"Welcome.ping_interval": {desc: "Seconds between the server's pings."},
	"EventFrame.type":       {enum: []string{"event"}},
	"EventFrame.seq":        {desc: "Rises by exactly one per stream."},
	"EventFrame.event":      {desc: "The event name, such as task.created."},
	"EventFrame.data":       {desc: "The event's payload (see docs/api.md, Events)."},
	"ResetFrame.type":       {enum: []string{"reset"}},
	"StreamFrame.type":      {enum: []string{"subscribed", "unsubscribed"}},
	"PongFrame.type":        {enum: []string{"pong"}},
	"HealthStatus.status":   {enum: []string{"ok", "ready"}},
	"OpenStats.group_by":    {enum: []string{"category", "region", "day"}},
	"ReportStat.key":        {desc: "The category, the province code (`national` for none) or the UTC day (YYYY-MM-DD)."},
	"OpenAlert.region_code": {desc: "Empty: national."},
	"OpenAlert.region_name": {desc: "The province's name; empty: national."},
	"OpenOrg.region_code":   {desc: "Empty: national."},
}

// ---------------------------------------------------------------------------
// JSON Schemas by reflection.

// Schema is a JSON Schema (2020-12, the dialect of OpenAPI 3.1), as much of
// it as the document needs.
type Schema struct {
	Ref                  string    `json:"$ref,omitempty"`
	Type                 any       `json:"type,omitempty"` // a name, or []string with "null"
	Format               string    `json:"format,omitempty"`
	ContentMediaType     string    `json:"contentMediaType,omitempty"`
	Description          string    `json:"description,omitempty"`
	Enum                 []any     `json:"enum,omitempty"`
	Default              any       `json:"default,omitempty"`
	Minimum              *int64    `json:"minimum,omitempty"`
	Maximum              *int64    `json:"maximum,omitempty"`
	MinLength            *int      `json:"minLength,omitempty"`
	MaxLength            *int      `json:"maxLength,omitempty"`
	MaxItems             *int      `json:"maxItems,omitempty"`
	Pattern              string    `json:"pattern,omitempty"`
	Items                *Schema   `json:"items,omitempty"`
	Properties           *props    `json:"properties,omitempty"`
	Required             []string  `json:"required,omitempty"`
	AdditionalProperties any       `json:"additionalProperties,omitempty"` // *Schema or false
	AllOf                []*Schema `json:"allOf,omitempty"`
	AnyOf                []*Schema `json:"anyOf,omitempty"`
	Examples             []any     `json:"examples,omitempty"`
}

// props are an object's properties in the order of the Go struct's fields.
type props struct {
	names []string
	m     map[string]*Schema
}

func (p *props) set(name string, s *Schema) {
	if p.m == nil {
		p.m = map[string]*Schema{}
	}
	if _, ok := p.m[name]; !ok {
		p.names = append(p.names, name)
	}
	p.m[name] = s
}

// MarshalJSON writes the properties in field order.
func (p *props) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range p.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		v, err := json.Marshal(p.m[n])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func strSchema() *Schema            { return &Schema{Type: "string"} }
func schemaRef(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }
func intPtr(n int) *int             { return &n }
func int64Ptr(n int64) *int64       { return &n }
func arrayOf(items *Schema) *Schema { return &Schema{Type: "array", Items: items} }

func enumOf(values ...string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// nullable lets s also be null: a type array for simple types, anyOf for a
// reference.
func nullable(s *Schema) *Schema {
	if s.Ref != "" {
		return &Schema{AnyOf: []*Schema{s, {Type: "null"}}}
	}
	c := *s
	switch t := c.Type.(type) {
	case string:
		c.Type = []string{t, "null"}
	case nil:
		return s // {} allows null already
	}
	return &c
}

func allowsNull(s *Schema) bool {
	ts, _ := s.Type.([]string)
	return slices.Contains(ts, "null")
}

// fieldDoc refines the generated schema of one property: a description and
// the rules reflection cannot see.
type fieldDoc struct {
	desc     string
	enum     []string
	format   string
	pattern  string
	min, max *int64
	minLen   *int
	maxLen   *int
	maxItems *int
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schemaGen turns Go wire types into component schemas by reflection:
// structs become objects of their json-tagged fields (omitempty and omitzero
// fields optional, the others required), pointers nullable, time.Time a
// date-time string, slices arrays, maps objects with additionalProperties,
// json.RawMessage any value. Request types (named ...Request) refuse
// unknown fields, as the decoder does.
type schemaGen struct {
	defs       map[string]*Schema
	types      map[string]reflect.Type
	names      map[reflect.Type]string // component names overridden
	typeDocs   map[string]string
	fieldDocs  map[string]fieldDoc
	commonDocs map[string]fieldDoc
	used       map[string]bool // fieldDocs entries applied
}

func newSchemaGen() *schemaGen {
	return &schemaGen{defs: map[string]*Schema{}, types: map[string]reflect.Type{}, names: map[reflect.Type]string{}, used: map[string]bool{}}
}

// of is the schema of a value of type t; structs are referenced.
func (g *schemaGen) of(t reflect.Type) *Schema {
	switch t {
	case timeType:
		return &Schema{Type: "string", Format: "date-time"}
	case rawType:
		return &Schema{Description: "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.of(t.Elem()))
	case reflect.String:
		return strSchema()
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16:
		return &Schema{Type: "integer"}
	case reflect.Int32:
		return &Schema{Type: "integer", Format: "int32"}
	case reflect.Int64:
		return &Schema{Type: "integer", Format: "int64"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: "integer", Minimum: int64Ptr(0)}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return &Schema{Type: "string", Description: "base64"}
		}
		return arrayOf(g.of(t.Elem()))
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("openapi: map key of %s is not a string", t))
		}
		return &Schema{Type: "object", AdditionalProperties: g.of(t.Elem())}
	case reflect.Interface:
		return &Schema{}
	case reflect.Struct:
		return schemaRef(g.define(t))
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// nameOf is the component name of a struct type: its Go name with the first
// letter upper-cased; an instance of a generic type is named by its type
// arguments and then the generic name (api.Page[api.Org] is OrgPage).
func (g *schemaGen) nameOf(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	n := t.Name()
	if n == "" {
		panic(fmt.Sprintf("openapi: anonymous struct %s has no component name", t))
	}
	if base, args, ok := strings.Cut(n, "["); ok {
		var prefix string
		for _, a := range strings.Split(strings.TrimSuffix(args, "]"), ",") {
			prefix += a[strings.LastIndexByte(a, '.')+1:]
		}
		n = prefix + base
	}
	r := []rune(n)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// define registers the component of struct type t and returns its name.
func (g *schemaGen) define(t reflect.Type) string {
	name := g.nameOf(t)
	if prev, ok := g.types[name]; ok {
		if prev != t {
			panic(fmt.Sprintf("openapi: component %s would describe both %s and %s", name, prev, t))
		}
		return name
	}
	g.types[name] = t
	s := &Schema{Type: "object", Description: g.typeDocs[name], Properties: &props{}}
	g.defs[name] = s // before the fields, so that recursion ends
	g.fields(t, name, s)
	if strings.HasSuffix(name, "Request") {
		s.AdditionalProperties = false
	}
	return name
}

func (g *schemaGen) fields(t reflect.Type, comp string, s *Schema) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, comp, s)
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := false
		for _, o := range strings.Split(opts, ",") {
			optional = optional || o == "omitempty" || o == "omitzero"
		}
		key := comp + "." + name
		d, ok := g.fieldDocs[key]
		if ok {
			g.used[key] = true
		} else {
			d = g.commonDocs[name]
		}
		s.Properties.set(name, refine(g.of(f.Type), d))
		if !optional {
			s.Required = append(s.Required, name)
		}
	}
}

// refine applies a fieldDoc to a property's schema. Rules about the value go
// to an array's items; a referenced component is left untouched.
func refine(s *Schema, d fieldDoc) *Schema {
	c := *s
	if d.desc != "" {
		c.Description = d.desc
	}
	target := &c
	if c.Items != nil {
		items := *c.Items
		c.Items = &items
		target = &items
	}
	if target.Ref != "" || len(target.AnyOf) > 0 {
		return &c // a reference takes only a description
	}
	if d.enum != nil {
		target.Enum = enumOf(d.enum...)
		if allowsNull(target) {
			target.Enum = append(target.Enum, nil)
		}
	}
	if d.format != "" {
		target.Format = d.format
	}
	if d.pattern != "" {
		target.Pattern = d.pattern
	}
	target.Minimum = firstSet(d.min, target.Minimum)
	target.Maximum = firstSet(d.max, target.Maximum)
	target.MinLength = firstSet(d.minLen, target.MinLength)
	target.MaxLength = firstSet(d.maxLen, target.MaxLength)
	c.MaxItems = firstSet(d.maxItems, c.MaxItems)
	return &c
}

func firstSet[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}
