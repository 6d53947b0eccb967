package server

import "github.com/jarimu/jarimu/api"

// reportsRoutes are the routes of reports (findings), evidence and
// verification, each with the operation the API document shows for it (in
// /docs order).
func (s *Server) reportsRoutes() []route {
	return []route{
		// Reports
		{h: s.handleCreateReport, op: op{method: "POST", path: "/v1/reports", id: "createReport", tag: "Reports", summary: "File a report", auth: authBearer,
			desc: "Any signed-in user. With `claim_id` (an active or completed claim of the caller) the report belongs to the claim's organisation; with `org_id`, to an organisation the caller is an active member of. Reports of the same normalised URL share a `cluster_id`. Emits `report.submitted` to the reviewers.",
			body: goType[api.CreateReportRequest](), replies: []reply{okReply(201, "The report, submitted.", goType[api.Report](), "Location")},
			problems: []string{"not-a-member", "validation", "claim-not-active", "org-not-accredited"}}},
		{h: s.handleListReports, op: op{method: "GET", path: "/v1/reports", id: "listReports", tag: "Reports", summary: "List the reports the caller may see", auth: authBearer, list: true,
			desc: "The reporter sees their own, coordinators their organisation's, officers their region's, admins all. Newest first.",
			params: []param{
				enumQueryParam("status", "Only reports of this status.", api.ReportSubmitted, api.ReportEndorsed, api.ReportRejected, api.ReportVerified, api.ReportDuplicate),
				queryParam("org_id", "Only reports of this organisation.", &Schema{Type: "string", Format: "uuid"}),
				enumQueryParam("category", "Only reports of this category.", api.Categories...),
				regionParam,
			},
			replies: []reply{okReply(200, "A page of reports.", goType[api.Page[api.Report]]())}}},
		{h: s.handleGetReport, op: op{method: "GET", path: "/v1/reports/{id}", id: "getReport", tag: "Reports", summary: "Read a report", auth: authBearer,
			desc:    "Those who may see it; anyone else gets 404.",
			replies: []reply{okReply(200, "The report.", goType[api.Report]())}, problems: []string{"not-found"}}},
		{h: s.handleAddEvidence, op: op{method: "POST", path: "/v1/reports/{id}/evidence", id: "addEvidence", tag: "Reports", summary: "Attach an evidence file", auth: authBearer,
			desc: "The reporter only. A `multipart/form-data` body with a part named `file` (other parts are skipped), at most 10 MiB. The type is decided from the content, never the name: PNG, JPEG, WebP or PDF. Files are stored once per content; uploading the same file again answers 201 with the same description. A decided report (`verified`, `rejected`, `duplicate`) takes no more evidence. `Idempotency-Key` is ignored here. When the evidence store (the data dir, or an S3-compatible bucket) is down or refuses the server's credentials: 503 `unavailable` with `Retry-After`, and nothing is recorded.",
			body: evidenceBody, bodyMedia: "multipart/form-data", replies: []reply{okReply(201, "The stored file.", goType[api.Evidence](), "Location")},
			problems: []string{"unsupported-media-type", "too-large", "malformed", "not-found", "forbidden", "report-decided", "request-timeout", "validation", "evidence-empty", "evidence-type", "unavailable"}}},
		{h: s.handleGetEvidence, op: op{method: "GET", path: "/v1/reports/{id}/evidence/{sha}", id: "getEvidence", tag: "Reports", summary: "Download an evidence file", auth: authBearer,
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
			problems: []string{"not-found", "unavailable"}}},
		{h: s.handleReview, op: op{method: "POST", path: "/v1/reports/{id}/review", id: "reviewReport", tag: "Reports", summary: "A coordinator endorses or rejects a report", auth: authBearer,
			desc: "Active coordinators of the report's organisation; from `submitted` to `endorsed` or `rejected`. A rejection needs a `note`, shown to the reporter. Nobody reviews their own report. Tells the reporter (`report.status_changed`); an endorsement sends the report to the region's officers.",
			body: goType[api.ReviewRequest](), replies: []reply{okReply(200, "The report after the decision.", goType[api.Report]())},
			problems: []string{"not-found", "own-report", "forbidden", "report-decided", "validation", "report-transition"}}},
		{h: s.handleVerify, op: op{method: "POST", path: "/v1/reports/{id}/verification", id: "verifyReport", tag: "Reports", summary: "An officer verifies, rejects or marks a duplicate", auth: authBearer,
			desc: "Officers whose region covers the report, and admins; from `submitted` or `endorsed`. A rejection needs a `note`; a duplicate needs `duplicate_of`, another report within the officer's region (one outside it gets the answer of an unknown id) that is submitted, endorsed or verified: never a duplicate or a rejected report. A verification may give `public_summary`, the text Bawaslu publishes of the finding (the ClaimReview feed) instead of the reporter's summary; refused with any other decision, and never changed afterwards (a decided report is frozen). Nobody verifies their own report.",
			body: goType[api.VerificationRequest](), replies: []reply{okReply(200, "The report after the decision.", goType[api.Report]())},
			problems: []string{"not-found", "own-report", "forbidden", "report-decided", "validation", "report-transition"}}},
		{h: s.handleTakedown, op: op{method: "POST", path: "/v1/reports/{id}/takedown", id: "recordTakedown", tag: "Reports", summary: "Record a takedown step", auth: authBearer,
			desc: "Officers covering the report, and admins; for verified reports only (the one change a decided report still takes). Steps go `requested`, then `taken_down` or `refused`.",
			body: goType[api.TakedownRequest](), replies: []reply{okReply(200, "The report with the step appended to takedown.", goType[api.Report]())},
			problems: []string{"not-found", "own-report", "forbidden", "report-decided", "validation", "report-transition", "takedown-transition"}}},
	}
}
