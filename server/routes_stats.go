package server

import "github.com/jarimu/jarimu/api"

// statsParams are the query parameters of every aggregate.
var statsParams = []param{
	queryParam("from", "The first day counted (UTC, YYYY-MM-DD). Default: 29 days before `to`.", &Schema{Type: "string", Format: "date"}),
	queryParam("to", "The last day counted (UTC, YYYY-MM-DD), not after today. Default: today, or the 30th day from `from`.", &Schema{Type: "string", Format: "date"}),
	queryParam("org_id", "Count only this organisation's things. Required for coordinators (an org they coordinate); officers and admins may narrow to one.", &Schema{Type: "string", Format: "uuid"}),
}

// statsScopeDoc is the rule of who counts what, shared by the aggregates.
const statsScopeDoc = "Officers count their region and below (national officers and admins: everything); coordinators count an org they coordinate, named by `org_id`; anyone else is refused. The period is whole UTC days, `from` and `to` included, at most 366 days (default: the last 30). Only `from`, `to` and `org_id` are accepted."

// statsRoutes are the aggregates behind the console's charts, each with
// the operation the API document shows for it (in /docs order).
func (s *Server) statsRoutes() []route {
	return []route{
		// Statistics
		{h: s.handleStatsFindings, op: op{method: "GET", path: "/v1/stats/findings", id: "getStatsFindings", tag: "Statistics", summary: "Findings per day and category", auth: authBearer,
			desc:    statsScopeDoc + " Reports filed in the period, counted per UTC day of filing and category; days in order, categories by name within a day; days and categories without reports are left out.",
			params:  statsParams,
			replies: []reply{okReply(200, "The counts.", goType[api.FindingsStats]())}, problems: []string{"forbidden"}}},
		{h: s.handleStatsFunnel, op: op{method: "GET", path: "/v1/stats/funnel", id: "getStatsFunnel", tag: "Statistics", summary: "The verification funnel", auth: authBearer,
			desc:    statsScopeDoc + " Reports filed in the period (`filed`) and how many of them stand now at each status: waiting for review (`submitted`), endorsed by their coordinator and waiting for an officer (`endorsed`), `verified`, `rejected` (by a coordinator or an officer), `duplicate`.",
			params:  statsParams,
			replies: []reply{okReply(200, "The counts.", goType[api.FunnelStats]())}, problems: []string{"forbidden"}}},
		{h: s.handleStatsTakedowns, op: op{method: "GET", path: "/v1/stats/takedowns", id: "getStatsTakedowns", tag: "Statistics", summary: "Takedowns per platform", auth: authBearer,
			desc:    statsScopeDoc + " Takedowns requested in the period, per platform of the report (by name): how many, and how many of them were taken down, refused, or are still pending; the median and 90th percentile (nearest rank, in hours to a tenth) from request to takedown of those taken down, null when none was.",
			params:  statsParams,
			replies: []reply{okReply(200, "The counts.", goType[api.TakedownStats]())}, problems: []string{"forbidden"}}},
		{h: s.handleStatsAlerts, op: op{method: "GET", path: "/v1/stats/alerts", id: "getStatsAlerts", tag: "Statistics", summary: "The reach of the alerts of a period", auth: authBearer, list: true,
			desc:    "Officers and admins only (alerts belong to no org; `org_id` is ignored). The alerts published in the period in the officer's region and below (national officers and admins: all), paged as every list (`limit`, `cursor`, `next_cursor`) but oldest first (by publication, then id), retracted ones flagged, each with its reach as `GET /v1/alerts/{id}/reach` counts it: `meant` (the volunteers it was for), `pushed` (devices whose push service accepted its Web Push), `delivered` (volunteers whose feed client acknowledged it; never more than `meant`), `displayed` (devices that showed the push). The period is as for the other aggregates; `from`, `to`, `org_id`, `limit` and `cursor` are accepted.",
			params:  statsParams,
			replies: []reply{okReply(200, "A page of the reach of each alert.", goType[api.AlertStats]())}, problems: []string{"forbidden"}}},
		{h: s.handleStatsProvinces, op: op{method: "GET", path: "/v1/stats/provinces", id: "getStatsProvinces", tag: "Statistics", summary: "Findings per province", auth: authBearer,
			desc:    statsScopeDoc + " Reports filed in the period and those of them verified, per province (`national` for reports without a region), most reports first.",
			params:  statsParams,
			replies: []reply{okReply(200, "The counts.", goType[api.ProvinceStats]())}, problems: []string{"forbidden"}}},
	}
}
