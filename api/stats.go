package api

import "time"

// StatsScope says what an aggregate answer counts: the period (UTC
// calendar days, both included) and whose things (a region, an org, or
// everything when both are null).
type StatsScope struct {
	From       string  `json:"from"`
	To         string  `json:"to"`
	RegionCode *string `json:"region_code"`
	OrgID      *string `json:"org_id"`
}

// FindingsStats is GET /v1/stats/findings: reports filed per UTC day and
// category. Days and categories without reports are left out.
type FindingsStats struct {
	Scope StatsScope   `json:"scope"`
	Items []FindingDay `json:"items"`
}

// FindingDay is how many reports of one category were filed on one day.
type FindingDay struct {
	Day      string `json:"day"`
	Category string `json:"category"`
	Reports  int    `json:"reports"`
}

// FunnelStats is GET /v1/stats/funnel: the reports filed in the period
// and where each of them stands now.
type FunnelStats struct {
	Scope     StatsScope `json:"scope"`
	Filed     int        `json:"filed"`
	Submitted int        `json:"submitted"`
	Endorsed  int        `json:"endorsed"`
	Verified  int        `json:"verified"`
	Rejected  int        `json:"rejected"`
	Duplicate int        `json:"duplicate"`
}

// TakedownStats is GET /v1/stats/takedowns: takedowns requested in the
// period, per platform.
type TakedownStats struct {
	Scope StatsScope         `json:"scope"`
	Items []PlatformTakedown `json:"items"`
}

// PlatformTakedown counts one platform's takedown requests by where they
// stand now, and the hours from request to takedown of those taken down.
type PlatformTakedown struct {
	Platform    string   `json:"platform"`
	Requested   int      `json:"requested"`
	TakenDown   int      `json:"taken_down"`
	Refused     int      `json:"refused"`
	Pending     int      `json:"pending"`
	MedianHours *float64 `json:"median_hours"`
	P90Hours    *float64 `json:"p90_hours"`
}

// AlertStats is GET /v1/stats/alerts: one page of the reach of each alert
// published in the period, oldest first; NextCursor is absent on the last
// page, as in a Page.
type AlertStats struct {
	Scope      StatsScope  `json:"scope"`
	Items      []AlertStat `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// AlertStat is one alert and how far it got.
type AlertStat struct {
	AlertID     string    `json:"alert_id"`
	Title       string    `json:"title"`
	Severity    string    `json:"severity"`
	RegionCode  *string   `json:"region_code"`
	PublishedAt time.Time `json:"published_at"`
	Retracted   bool      `json:"retracted"`
	Meant       int       `json:"meant"`
	Pushed      int       `json:"pushed"`
	Delivered   int       `json:"delivered"`
	Displayed   int       `json:"displayed"`
}

// ProvinceStats is GET /v1/stats/provinces: reports filed in the period
// per province, most first.
type ProvinceStats struct {
	Scope StatsScope     `json:"scope"`
	Items []ProvinceStat `json:"items"`
}

// ProvinceStat is one province's count ("national" for reports without a
// region).
type ProvinceStat struct {
	ProvinceCode string `json:"province_code"`
	ProvinceName string `json:"province_name"`
	Reports      int    `json:"reports"`
	Verified     int    `json:"verified"`
}
