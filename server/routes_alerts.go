package server

import "github.com/jarimu/jarimu/api"

// alertsRoutes are the routes of alerts and their reach, each with the
// operation the API document shows for it (in /docs order).
func (s *Server) alertsRoutes() []route {
	return []route{
		// Alerts
		{h: s.handleCreateAlert, op: op{method: "POST", path: "/v1/alerts", id: "createAlert", tag: "Alerts", summary: "Broadcast an alert to a region", auth: authBearer,
			desc: "Officers and admins, for their region or below (a province or regency code; none for national). `report_ids` must be verified reports within the officer's region (one outside it gets the answer of an unknown id). Emits `alert.published` on the region's stream, which every volunteer there receives; audited.",
			body: goType[api.CreateAlertRequest](), replies: []reply{okReply(201, "The alert.", goType[api.Alert](), "Location")},
			problems: []string{"forbidden", "outside-region", "validation"}}},
		{h: s.handleListAlerts, op: op{method: "GET", path: "/v1/alerts", id: "listAlerts", tag: "Alerts", summary: "Published alerts", list: true,
			desc: "Anyone. Newest first; retracted alerts are included and flagged. With `region`: the national alerts, those of the region's province and regency, its own, and those below it.",
			params: []param{
				regionParam,
				queryParam("since", "Only alerts published at or after this RFC 3339 time.", &Schema{Type: "string", Format: "date-time"}),
			},
			replies: []reply{okReply(200, "A page of alerts.", goType[api.Page[api.Alert]]())}}},
		{h: s.handleGetAlert, op: op{method: "GET", path: "/v1/alerts/{id}", id: "getAlert", tag: "Alerts", summary: "Read an alert",
			desc:    "Anyone.",
			replies: []reply{okReply(200, "The alert.", goType[api.Alert]())}, problems: []string{"not-found"}}},
		{h: s.handleRetractAlert, op: op{method: "POST", path: "/v1/alerts/{id}/retraction", id: "retractAlert", tag: "Alerts", summary: "Retract an alert", auth: authBearer,
			desc: "Officers whose region covers the alert's, and admins. Emits `alert.retracted` on the alert's stream; audited.",
			body: goType[api.RetractionRequest](), replies: []reply{okReply(200, "The alert, retracted.", goType[api.Alert]())},
			problems: []string{"not-found", "forbidden", "validation", "already-retracted"}}},
		{h: s.handleReach, op: op{method: "GET", path: "/v1/alerts/{id}/reach", id: "getAlertReach", tag: "Alerts", summary: "How far an alert got", auth: authBearer,
			desc:    "The issuing officer, officers covering the alert's region, and admins. `meant`: active volunteers of the region when it was published; `delivered`: volunteers whose feed client acknowledged it (an `ack` on a region stream covers the alerts among its last 64 events); delay percentiles in milliseconds, null until someone acknowledged; `pushed`: devices whose push service accepted the alert's Web Push; `displayed`: devices whose service worker showed it and acknowledged it.",
			replies: []reply{okReply(200, "The reach.", goType[api.Reach]())}, problems: []string{"not-found", "forbidden"}}},
	}
}
