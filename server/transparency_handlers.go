package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/jarimu/jarimu/alert"
	"github.com/jarimu/jarimu/region"
	"github.com/jarimu/jarimu/report"
)

// The transparency report as open data: counts of takedowns, of verified
// findings and of alerts. Counts of Bawaslu's own decisions only: no person,
// note, text or account appears in them.

var takedownFields = []openField{
	{"month", "string (YYYY-MM, UTC)", "month the takedown was requested"},
	{"platform", "string", "platform asked to take the content down"},
	{"requested", "integer", "takedown requests made that month"},
	{"taken_down", "integer", "of those, taken down by the platform"},
	{"refused", "integer", "of those, refused by the platform"},
	{"pending", "integer", "of those, still awaiting the platform's answer"},
	{"median_days_to_takedown", "number (days, one decimal)", "median time from request to takedown of those taken down; empty (null) if none was"},
}

var verifiedFields = []openField{
	{"category", "string", "violation category"},
	{"province_code", "string", "Kemendagri code of the province; empty: national"},
	{"province_name", "string", "province name; empty: national"},
	{"verified", "integer", "findings verified by Bawaslu"},
}

var alertsIssuedFields = []openField{
	{"month", "string (YYYY-MM, UTC)", "month of publication"},
	{"severity", "string", "info, warning or critical"},
	{"issued", "integer", "alerts published"},
	{"retracted", "integer", "of those, later withdrawn"},
}

var transparencyFields = []openField{
	{"licence", "string", "licence of the data"},
	{"takedowns", "array", "the rows of the takedowns dataset"},
	{"verified", "array", "the rows of the verified dataset"},
	{"alerts_issued", "array", "the rows of the alerts_issued dataset"},
}

var claimReviewFields = []openField{
	{"url", "string (URL)", "the finding on the console's transparency page"},
	{"claimReviewed", "string", "the claim: the public summary the verifying officer gave, else the finding's summary as reported"},
	{"datePublished", "RFC 3339 time (UTC)", "when Bawaslu verified it"},
	{"inLanguage", "string", "language of the review: id"},
	{"author", "Organization", "Bawaslu RI (name, url)"},
	{"reviewRating", "Rating", "ratingValue 1 on a scale of worstRating 1 (false) to bestRating 5 (true); alternateName \"Salah\"; ratingExplanation"},
	{"itemReviewed", "Claim", "appearance and firstAppearance: the address the claim was seen at (tracking parameters removed); spatialCoverage: its province (Kemendagri code and name), absent when national"},
}

// openRow is a row of an aggregate dataset: its CSV cells (JSON is the row
// itself).
type openRow interface{ record() []string }

// openTakedown is a report.TakedownMonth as a row.
type openTakedown report.TakedownMonth

func (o openTakedown) record() []string {
	median := ""
	if o.MedianDays != nil {
		median = strconv.FormatFloat(*o.MedianDays, 'f', 1, 64)
	}
	return []string{o.Month, o.Platform, strconv.Itoa(o.Requested), strconv.Itoa(o.TakenDown),
		strconv.Itoa(o.Refused), strconv.Itoa(o.Pending), median}
}

// openVerified is how many findings were verified in one category and
// province.
type openVerified struct {
	Category     string `json:"category"`
	ProvinceCode string `json:"province_code"`
	ProvinceName string `json:"province_name"`
	Verified     int    `json:"verified"`
}

func (o openVerified) record() []string {
	return []string{o.Category, o.ProvinceCode, o.ProvinceName, strconv.Itoa(o.Verified)}
}

// openIssued is an alert.Issued as a row.
type openIssued alert.Issued

func (o openIssued) record() []string {
	return []string{o.Month, o.Severity, strconv.Itoa(o.Issued), strconv.Itoa(o.Retracted)}
}

// transparency is the whole report in one document, for the console's page.
type transparency struct {
	Licence      string         `json:"licence"`
	Takedowns    []openTakedown `json:"takedowns"`
	Verified     []openVerified `json:"verified"`
	AlertsIssued []openIssued   `json:"alerts_issued"`
}

func (s *Server) loadTakedowns(ctx context.Context) ([]openTakedown, time.Time, error) {
	rows, err := s.reports.TakedownMonths(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	modified, err := s.reports.LastChange(ctx)
	out := make([]openTakedown, len(rows))
	for i, r := range rows {
		out[i] = openTakedown(r)
	}
	return out, modified, err
}

func (s *Server) loadVerified(ctx context.Context) ([]openVerified, time.Time, error) {
	rows, err := s.reports.VerifiedCounts(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	modified, err := s.reports.LastChange(ctx)
	out := make([]openVerified, len(rows))
	for i, r := range rows {
		out[i] = openVerified{Category: r.Category, ProvinceCode: r.Province, Verified: r.Verified}
		if r.Province != "" {
			out[i].ProvinceName, _ = region.ProvinceName(r.Province)
		}
	}
	return out, modified, err
}

func (s *Server) loadAlertsIssued(ctx context.Context) ([]openIssued, time.Time, error) {
	rows, err := s.alerts.IssuedByMonth(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	_, _, modified, err := s.alerts.Version(ctx)
	out := make([]openIssued, len(rows))
	for i, r := range rows {
		out[i] = openIssued(r)
	}
	return out, modified, err
}

// handleAggregate serves an aggregate dataset as CSV or a JSON array. Its
// rows are few and their counts move without a row's time telling (a
// report deleted with its reporter's account), so the ETag is a hash of the
// rows and If-Modified-Since is not trusted (as for the registry).
func handleAggregate[T openRow](s *Server, name string, fields []openField, load func(context.Context) ([]T, time.Time, error), format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rows, modified, err := load(r.Context())
		if err != nil {
			return err
		}
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		if conditional(w, r, contentTag(b), modified, false) {
			return nil
		}
		e := newExporter(w, format, name, fieldNames(fields))
		for _, row := range rows {
			if err = e.row(row.record(), row); err != nil {
				break
			}
		}
		return s.finishExport(r.Context(), e, err)
	}
}

// contentTag is the ETag of a body made in full before it is sent.
func contentTag(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// handleTransparency serves the three aggregates in one document.
func (s *Server) handleTransparency(w http.ResponseWriter, r *http.Request) error {
	doc := transparency{Licence: openLicence}
	var times [3]time.Time
	var err error
	if doc.Takedowns, times[0], err = s.openTakedowns(r.Context()); err != nil {
		return err
	}
	if doc.Verified, times[1], err = s.openVerified(r.Context()); err != nil {
		return err
	}
	if doc.AlertsIssued, times[2], err = s.openAlertsIssued(r.Context()); err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	modified := times[0]
	if times[2].After(modified) {
		modified = times[2]
	}
	serveBuilt(w, r, b, modified, "application/json; charset=utf-8")
	return nil
}

// serveBuilt sends a document made in full, or 304 when the client's copy
// is current: the ETag is a hash of its bytes, and If-Modified-Since is not
// trusted (counts change without a row's time telling).
func serveBuilt(w http.ResponseWriter, r *http.Request, b []byte, modified time.Time, contentType string) {
	if conditional(w, r, contentTag(b), modified, false) {
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
}
