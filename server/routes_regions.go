package server

import (
	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/region"
)

// regionsRoutes are the routes of the region table, each with the operation
// the API document shows for it (in /docs order).
func (s *Server) regionsRoutes() []route {
	return []route{
		// Regions
		{h: s.handleSearchRegions, op: op{method: "GET", path: "/v1/regions", id: "searchRegions", tag: "Regions", summary: "Find regions by name or code",
			desc: "Anyone; cacheable for a day. Every province, regency/city and district (Kemendagri codes, from idn-area-data; villages are not listed). " +
				"A `q` of digits finds the regions whose code begins with it. Otherwise each word of `q` must begin a word of the region's name or of its ancestors' names, " +
				"ignoring case and accents (`Jakarta Sel` finds 3174, Kota Administrasi Jakarta Selatan, then its districts). " +
				"Regions whose own name holds every word come first, then broader before narrower, then by code.",
			params: []param{
				{name: "q", in: "query", required: true, desc: "Name, first letters of its words, or a code prefix; 1 to 100 characters.", schema: &Schema{Type: "string", Examples: []any{"Jakarta Sel", "3174"}}},
				queryParam("limit", "At most this many regions (1 to 50, default 20).", &Schema{Type: "integer", Minimum: int64Ptr(1), Maximum: int64Ptr(region.MaxResults)}),
			},
			replies: []reply{okReply(200, "The regions found, best first; possibly none.", goType[api.Regions]())}, static: true,
			problems: []string{"bad-query"}}},
		{h: s.handleGetRegion, op: op{method: "GET", path: "/v1/regions/{code}", id: "getRegion", tag: "Regions", summary: "One region by code",
			desc:    "Anyone; cacheable for a day. A province, regency/city or district; a village code is not found.",
			replies: []reply{okReply(200, "The region.", goType[api.Region]())}, static: true, problems: []string{"not-found"}}},
	}
}
