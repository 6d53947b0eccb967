package server

import (
	"github.com/jarimu/jarimu/api"
)

// Descriptions of the wire types and of the rules reflection cannot see.

var typeDocs = map[string]string{
	"Problem":              "An RFC 9457 problem detail, the body of every error answer (application/problem+json).",
	"FieldError":           "One invalid input field and why.",
	"User":                 "An account. `region_code` null means national.",
	"Tokens":               "A fresh pair of credentials.",
	"AuthResponse":         "The answer of signup and login.",
	"RefreshResponse":      "The answer of a refresh.",
	"Me":                   "The signed-in user and every membership they have had.",
	"MembershipSummary":    "One of the user's memberships, as /v1/me lists them.",
	"Org":                  "An accredited civil society organisation as the public registry shows it. `region_code` null: a national organisation.",
	"Decision":             "One accreditation decision, public on the organisation's page.",
	"Invite":               "A created invite. The code is shown once, here.",
	"Membership":           "A user's place in an organisation.",
	"AuditEntry":           "One row of the audit trail.",
	"Task":                 "A monitoring task. `org_id` null: the national pool, open to every volunteer of the region.",
	"Claim":                "A volunteer's hold on one slot of a task.",
	"Report":               "A finding about online or offline content.",
	"Takedown":             "One step of a report's takedown history.",
	"Evidence":             "A stored evidence file of a report, named by its SHA-256.",
	"Alert":                "An alert broadcast by an officer to a region.",
	"Reach":                "How far an alert got.",
	"ClientFrame":          "Any frame a client sends on the feed: hello, token, ack or ping.",
	"Welcome":              "The server's answer to hello.",
	"StreamPosition":       "A stream and the last seq given out on it.",
	"EventFrame":           "One event of a stream.",
	"ResetFrame":           "The history of a stream no longer reaches the asked seq: reload by REST, then continue from seq.",
	"StreamFrame":          "A stream joined (`subscribed`, events follow after seq) or left (`unsubscribed`) the connection.",
	"PongFrame":            "The answer to a client's ping frame.",
	"FeedChange":           "Rides in the data of membership events under `feed`: the streams the user's connections gain, with the seq they start after, or lose.",
	"HealthStatus":         "A health answer.",
	"JwkSet":               "A JSON Web Key Set.",
	"Jwk":                  "An Ed25519 public key.",
	"OpenIndex":            "The open datasets.",
	"OpenDataset":          "One open dataset.",
	"OpenField":            "One field of an open dataset.",
	"OpenAlert":            "An alert as open data.",
	"OpenOrg":              "An organisation as open data.",
	"OpenStats":            "Counts of reports.",
	"ReportStat":           "The counts of one group.",
	"OrgPage":              "A page of organisations.",
	"MembershipPage":       "A page of memberships.",
	"TaskPage":             "A page of tasks.",
	"ReportPage":           "A page of reports.",
	"AlertPage":            "A page of alerts.",
	"AuditEntryPage":       "A page of audit entries.",
	"SignupRequest":        "Signup carries no role: everyone who signs up is a volunteer.",
	"CreateUserRequest":    "A staff (or volunteer) account made by an admin.",
	"UpdateUserRequest":    "An admin suspends, deletes or reactivates an account.",
	"CreateOrgRequest":     "Registers an accredited CSO.",
	"AccreditationRequest": "Suspends, revokes or renews an accreditation.",
	"InviteRequest":        "Makes an invite code.",
	"JoinRequest":          "Asks to join; send `{}` without a code.",
	"DecisionRequest":      "Approves or rejects a pending membership.",
	"RoleRequest":          "Changes an active member's role.",
	"CreateTaskRequest":    "A new task. Defaults: slots 1, lease_minutes 120.",
	"UpdateTaskRequest":    "Absent fields stay; at least one must be given.",
	"AssignRequest":        "Assigns a slot to a member.",
	"ClaimChangeRequest":   "With `version`, the change applies only to that version of the claim.",
	"CompleteRequest":      "How the claim ended.",
	"CreateReportRequest":  "A new report.",
	"ReviewRequest":        "A coordinator's review.",
	"VerificationRequest":  "An officer's decision.",
	"TakedownRequest":      "A takedown step.",
	"CreateAlertRequest":   "A new alert.",
	"RetractionRequest":    "Withdraws an alert.",
	"LoginRequest":         "Credentials, and the device token of this client's last signup or login if it has one.",
	"RefreshRequest":       "A refresh token.",
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

	"User.email":           {desc: "Stored and shown in lower case.", format: "email"},
	"User.role":            {enum: userRoles},
	"User.status":          {enum: userStatuses},
	"Tokens.access_token":  {desc: "A JWT (EdDSA) for Authorization: Bearer."},
	"Tokens.refresh_token": {desc: "An opaque string for /v1/auth/refresh; spent on use."},
	"Tokens.token_type":    {enum: []string{"Bearer"}},
	"Tokens.expires_in":    {desc: "Seconds until the access token expires."},

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
