package server

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/region"
)

// regionsCache is how long a client may keep a region answer: the table
// changes only with a new release.
const regionsCache = "public, max-age=86400"

// Bounds of GET /v1/regions.
const (
	regionsDefaultLimit = 20
	regionsMaxQuery     = 100 // characters of q
)

func regionOf(r region.Region) api.Region {
	out := api.Region{Code: r.Code, Name: r.Name, Level: region.Level(r.Code), Label: region.Label(r.Code)}
	if p := region.Parent(r.Code); p != "" {
		out.ParentCode = &p
	}
	return out
}

func (s *Server) handleSearchRegions(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" || utf8.RuneCountInString(q) > regionsMaxQuery {
		return problem.BadQueryType.New("q is required: a name (or its first letters) or a code, up to %d characters", regionsMaxQuery)
	}
	limit := regionsDefaultLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > region.MaxResults {
			return problem.BadQueryType.New("limit must be a whole number from 1 to %d", region.MaxResults)
		}
		limit = n
	}
	found := region.Search(q, limit)
	out := api.Regions{Items: make([]api.Region, len(found))}
	for i, f := range found {
		out.Items[i] = regionOf(f)
	}
	w.Header().Set("Cache-Control", regionsCache)
	encode(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleGetRegion(w http.ResponseWriter, r *http.Request) error {
	found, ok := region.Lookup(r.PathValue("code"))
	if !ok {
		return problem.Errorf(problem.NotFound, "no province, regency/city or district has code %q", r.PathValue("code"))
	}
	w.Header().Set("Cache-Control", regionsCache)
	encode(w, http.StatusOK, regionOf(found))
	return nil
}
