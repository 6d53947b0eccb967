package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/jarimu/jarimu/region"
	"github.com/jarimu/jarimu/report"
)

// Verified disinformation findings as schema.org ClaimReview (JSON-LD), so
// fact-check aggregators can read them. Bawaslu is the author of every
// review; the volunteer who reported the content never appears.

// The rating scale of the reviews: Bawaslu publishes only what it verified
// as disinformation, so every review is the bottom of a 1 to 5 scale
// (1 false ... 5 true), named "Salah" as Indonesian fact checkers do.
const (
	claimRatingValue = 1
	claimRatingBest  = 5
	claimRatingWorst = 1
	claimRatingName  = "Salah"
	claimRatingWhy   = "Diverifikasi Bawaslu sebagai disinformasi pemilu."
	claimCategory    = "disinformation"
)

// bawaslu is the author of every review.
var bawaslu = ldOrganization{Type: "Organization", Name: "Badan Pengawas Pemilihan Umum Republik Indonesia (Bawaslu RI)", URL: "https://www.bawaslu.go.id/"}

// ldClaimReview is a schema.org ClaimReview.
type ldClaimReview struct {
	Context       string         `json:"@context"`
	Type          string         `json:"@type"`
	URL           string         `json:"url"`
	ClaimReviewed string         `json:"claimReviewed"`
	DatePublished string         `json:"datePublished"`
	InLanguage    string         `json:"inLanguage"`
	Author        ldOrganization `json:"author"`
	ReviewRating  ldRating       `json:"reviewRating"`
	ItemReviewed  ldClaim        `json:"itemReviewed"`
}

// ldOrganization is a schema.org Organization.
type ldOrganization struct {
	Type string `json:"@type"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ldRating is a schema.org Rating.
type ldRating struct {
	Type              string `json:"@type"`
	RatingValue       int    `json:"ratingValue"`
	BestRating        int    `json:"bestRating"`
	WorstRating       int    `json:"worstRating"`
	AlternateName     string `json:"alternateName"`
	RatingExplanation string `json:"ratingExplanation"`
}

// ldClaim is a schema.org Claim: where the claim was seen.
type ldClaim struct {
	Type            string       `json:"@type"`
	Appearance      []ldCreative `json:"appearance"`
	FirstAppearance ldCreative   `json:"firstAppearance"`
	SpatialCoverage *ldAdminArea `json:"spatialCoverage,omitempty"`
}

// ldCreative is a schema.org CreativeWork known by its address.
type ldCreative struct {
	Type string `json:"@type"`
	URL  string `json:"url"`
}

// ldAdminArea is a schema.org AdministrativeArea: the province the claim
// was reported in, by its Kemendagri code.
type ldAdminArea struct {
	Type       string `json:"@type"`
	Identifier string `json:"identifier"`
	Name       string `json:"name,omitempty"`
}

// claimReviewOf is the review of one verified finding; page is the
// console's address of it.
func claimReviewOf(f report.Finding, page string) ldClaimReview {
	seen := ldCreative{Type: "CreativeWork", URL: f.URL}
	out := ldClaimReview{Context: "https://schema.org", Type: "ClaimReview", URL: page, ClaimReviewed: f.Summary,
		DatePublished: f.VerifiedAt.UTC().Format(time.RFC3339), InLanguage: "id", Author: bawaslu,
		ReviewRating: ldRating{Type: "Rating", RatingValue: claimRatingValue, BestRating: claimRatingBest, WorstRating: claimRatingWorst,
			AlternateName: claimRatingName, RatingExplanation: claimRatingWhy},
		ItemReviewed: ldClaim{Type: "Claim", Appearance: []ldCreative{seen}, FirstAppearance: seen}}
	if f.RegionCode != "" {
		province := f.RegionCode[:2]
		name, _ := region.ProvinceName(province)
		out.ItemReviewed.SpatialCoverage = &ldAdminArea{Type: "AdministrativeArea", Identifier: province, Name: name}
	}
	return out
}

// consoleOrigin is the scheme and host the request reached the server at
// (https when over TLS or a trusted proxy says so): where the console is.
func (s *Server) consoleOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || s.trusted(peerIP(r)) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// handleClaimReviews serves every verified disinformation finding as a
// ClaimReview, oldest verification first, in one JSON-LD array.
func (s *Server) handleClaimReviews(w http.ResponseWriter, r *http.Request) error {
	found, modified, err := s.findings.get(r.Context())
	if err != nil {
		return err
	}
	origin := s.consoleOrigin(r)
	out := make([]ldClaimReview, len(found))
	for i, f := range found {
		out[i] = claimReviewOf(f, origin+"/#/transparency?claim="+f.ID)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	serveBuilt(w, r, b, modified, "application/ld+json; charset=utf-8")
	return nil
}
