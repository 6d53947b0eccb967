package server

// openRoutes are the routes of the public open datasets, each with the
// operation the API document shows for it (in /docs order).
func (s *Server) openRoutes() []route {
	return []route{
		// Open data
		{h: s.handleOpenIndex, op: op{method: "GET", path: "/v1/open", id: "getOpenIndex", tag: "Open data", summary: "The open datasets, their fields and licence",
			desc:    "Anyone. No dataset holds personal data.",
			replies: []reply{okReply(200, "The index.", goType[openIndex]())}, static: true}},
		{h: s.handleOpenAlerts("csv"), op: op{method: "GET", path: "/v1/open/alerts.csv", id: "getOpenAlertsCSV", tag: "Open data", summary: "Every alert, as CSV", params: conditionalParams,
			desc:    "Anyone. Oldest first, streamed; RFC 4180 with a header row (columns as in OpenAlert; `links` space-separated, times in whole seconds).",
			replies: []reply{okReplyMedia(200, "The dataset.", "text/csv", textSchema, "ETag", "Last-Modified", "Content-Disposition"), notModifiedReply}}},
		{h: s.handleOpenAlerts("json"), op: op{method: "GET", path: "/v1/open/alerts.json", id: "getOpenAlertsJSON", tag: "Open data", summary: "Every alert, as JSON", params: conditionalParams,
			desc:    "Anyone. Oldest first, streamed as one array.",
			replies: []reply{okReply(200, "The dataset.", goType[[]openAlert](), "ETag", "Last-Modified"), notModifiedReply}}},
		{h: s.handleOpenOrgs("csv"), op: op{method: "GET", path: "/v1/open/orgs.csv", id: "getOpenOrgsCSV", tag: "Open data", summary: "The organisations registry, as CSV", params: conditionalParams,
			desc:    "Anyone. Oldest first; RFC 4180 with a header row (columns as in OpenOrg). The ETag follows the rows themselves.",
			replies: []reply{okReplyMedia(200, "The dataset.", "text/csv", textSchema, "ETag", "Last-Modified", "Content-Disposition"), notModifiedReply}}},
		{h: s.handleOpenOrgs("json"), op: op{method: "GET", path: "/v1/open/orgs.json", id: "getOpenOrgsJSON", tag: "Open data", summary: "The organisations registry, as JSON", params: conditionalParams,
			desc:    "Anyone. Oldest first, as one array.",
			replies: []reply{okReply(200, "The dataset.", goType[[]openOrg](), "ETag", "Last-Modified"), notModifiedReply}}},
		{h: s.handleOpenStats, op: op{method: "GET", path: "/v1/open/stats.json", id: "getOpenStats", tag: "Open data", summary: "Counts of reports, verifications and takedowns",
			desc:    "Anyone. Items sorted by key.",
			params:  []param{enumQueryParam("group_by", "How to group: by category (the default), province, or UTC day of filing.", "category", "region", "day")},
			replies: []reply{okReply(200, "The counts.", goType[openStats]())}}},
		// The transparency report
		{h: handleAggregate(s, "takedowns", takedownFields, s.openTakedowns, "csv"), op: op{method: "GET", path: "/v1/open/takedowns.csv", id: "getOpenTakedownsCSV", tag: "Open data", summary: "Takedown requests per platform and month, as CSV", params: conditionalParams,
			desc:    "Anyone. Oldest month first, then by platform; RFC 4180 with a header row (columns as in OpenTakedown; `median_days_to_takedown` empty when nothing was taken down). Counts only. The ETag follows the rows themselves.",
			replies: []reply{okReplyMedia(200, "The dataset.", "text/csv", textSchema, "ETag", "Last-Modified", "Content-Disposition"), notModifiedReply}}},
		{h: handleAggregate(s, "takedowns", takedownFields, s.openTakedowns, "json"), op: op{method: "GET", path: "/v1/open/takedowns.json", id: "getOpenTakedownsJSON", tag: "Open data", summary: "Takedown requests per platform and month, as JSON", params: conditionalParams,
			desc:    "Anyone. Oldest month first, then by platform, as one array. A takedown counts in the month it was requested, under where it stands now.",
			replies: []reply{okReply(200, "The dataset.", goType[[]openTakedown](), "ETag", "Last-Modified"), notModifiedReply}}},
		{h: handleAggregate(s, "verified", verifiedFields, s.openVerified, "csv"), op: op{method: "GET", path: "/v1/open/verified.csv", id: "getOpenVerifiedCSV", tag: "Open data", summary: "Findings verified per category and province, as CSV", params: conditionalParams,
			desc:    "Anyone. By category, then province code (national first); RFC 4180 with a header row (columns as in OpenVerified). Counts only.",
			replies: []reply{okReplyMedia(200, "The dataset.", "text/csv", textSchema, "ETag", "Last-Modified", "Content-Disposition"), notModifiedReply}}},
		{h: handleAggregate(s, "verified", verifiedFields, s.openVerified, "json"), op: op{method: "GET", path: "/v1/open/verified.json", id: "getOpenVerifiedJSON", tag: "Open data", summary: "Findings verified per category and province, as JSON", params: conditionalParams,
			desc:    "Anyone. By category, then province code, as one array.",
			replies: []reply{okReply(200, "The dataset.", goType[[]openVerified](), "ETag", "Last-Modified"), notModifiedReply}}},
		{h: handleAggregate(s, "alerts-issued", alertsIssuedFields, s.openAlertsIssued, "csv"), op: op{method: "GET", path: "/v1/open/alerts-issued.csv", id: "getOpenAlertsIssuedCSV", tag: "Open data", summary: "Alerts issued per month and severity, as CSV", params: conditionalParams,
			desc:    "Anyone. Oldest month first, then by severity; RFC 4180 with a header row (columns as in OpenIssued). Counts only.",
			replies: []reply{okReplyMedia(200, "The dataset.", "text/csv", textSchema, "ETag", "Last-Modified", "Content-Disposition"), notModifiedReply}}},
		{h: handleAggregate(s, "alerts-issued", alertsIssuedFields, s.openAlertsIssued, "json"), op: op{method: "GET", path: "/v1/open/alerts-issued.json", id: "getOpenAlertsIssuedJSON", tag: "Open data", summary: "Alerts issued per month and severity, as JSON", params: conditionalParams,
			desc:    "Anyone. Oldest month first, then by severity, as one array.",
			replies: []reply{okReply(200, "The dataset.", goType[[]openIssued](), "ETag", "Last-Modified"), notModifiedReply}}},
		{h: s.handleTransparency, op: op{method: "GET", path: "/v1/open/transparency.json", id: "getOpenTransparency", tag: "Open data", summary: "The transparency report: takedowns, verified findings and alerts issued", params: conditionalParams,
			desc:    "Anyone. The three datasets above in one document, as the console's transparency page shows them. These datasets and ClaimReview are built by each server at most once per `JARIMU_OPEN_CACHE` (10 s by default) and served as built meanwhile: a change shows within that time.",
			replies: []reply{okReply(200, "The report.", goType[transparency](), "ETag", "Last-Modified"), notModifiedReply}}},
		{h: s.handleClaimReviews, op: op{method: "GET", path: "/v1/open/claimreviews.json", id: "getOpenClaimReviews", tag: "Open data", summary: "Verified disinformation findings as schema.org ClaimReview (JSON-LD)", params: conditionalParams,
			desc:    "Anyone. One JSON-LD array (`application/ld+json`) of ClaimReview objects, oldest verification first: the claim (the public summary the verifying officer gave, else the finding's summary as reported), its rating (1 on a scale of 1 false to 5 true, named \"Salah\"), the verification time, the normalised address where the claim appeared, its province, and Bawaslu as the author. Never the reporter or any person. `url` points at the console's transparency page.",
			replies: []reply{okReplyMedia(200, "The reviews.", "application/ld+json", goType[[]ldClaimReview](), "ETag", "Last-Modified"), notModifiedReply}}},
	}
}
