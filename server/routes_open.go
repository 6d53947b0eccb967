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
	}
}
