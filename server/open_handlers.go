package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/region"
)

// Licence of every open dataset.
const openLicence = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/): Bawaslu RI, Jarimu Awasi Pemilu"

type openField struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

type openDataset struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Formats     []string    `json:"formats"`
	Fields      []openField `json:"fields"`
}

var alertFields = []openField{
	{"id", "string (UUID)", "alert id"},
	{"title", "string", "headline"},
	{"body", "string", "text of the alert"},
	{"severity", "string", "info, warning or critical"},
	{"region_code", "string", "Kemendagri code of the region it was broadcast to; empty: national"},
	{"region_name", "string", "name of the region (its most specific: province, regency/city or district); empty: national"},
	{"category", "string", "violation category, if given"},
	{"links", "string", "related links, space separated (CSV) or an array (JSON)"},
	{"published_at", "RFC 3339 time (UTC)", "when it was broadcast"},
	{"retracted", "boolean", "whether it was withdrawn"},
	{"retracted_at", "RFC 3339 time (UTC)", "when it was withdrawn; empty if not"},
	{"retraction_reason", "string", "why it was withdrawn"},
}

var orgFields = []openField{
	{"id", "string (UUID)", "organisation id"},
	{"name", "string", "name of the accredited CSO"},
	{"accreditation_number", "string", "Bawaslu accreditation (SK) number"},
	{"accredited_until", "RFC 3339 time (UTC)", "end of the accreditation"},
	{"status", "string", "accredited, suspended, revoked or expired"},
	{"region_code", "string", "Kemendagri code of the region it monitors; empty: national"},
	{"region_name", "string", "name of that region; empty: national"},
	{"member_count", "integer", "active members"},
}

var statFields = []openField{
	{"key", "string", "the category, the province code ('national' for none) or the day (YYYY-MM-DD, UTC)"},
	{"name", "string", "the province's name (group_by=region only; absent for national)"},
	{"reports", "integer", "reports filed"},
	{"verified", "integer", "reports verified by Bawaslu"},
	{"taken_down", "integer", "reported content taken down by the platform"},
	{"takedown_requests", "integer", "reports with a takedown requested"},
}

func (s *Server) handleOpenIndex(w http.ResponseWriter, r *http.Request) error {
	encode(w, http.StatusOK, map[string]any{
		"licence":  openLicence,
		"personal": "no dataset holds personal data: no names, emails or ids of volunteers or staff",
		"datasets": []openDataset{
			{"alerts", "every alert Bawaslu broadcast, retracted ones flagged", []string{"/v1/open/alerts.csv", "/v1/open/alerts.json"}, alertFields},
			{"orgs", "the registry of accredited civil society organisations", []string{"/v1/open/orgs.csv", "/v1/open/orgs.json"}, orgFields},
			{"stats", "counts of reports, verifications and takedowns", []string{"/v1/open/stats.json?group_by=category|region|day"}, statFields},
			{"takedowns", "takedown requests per platform and month of request: how they stand and the median days to takedown", []string{"/v1/open/takedowns.csv", "/v1/open/takedowns.json"}, takedownFields},
			{"verified", "findings verified by Bawaslu per category and province", []string{"/v1/open/verified.csv", "/v1/open/verified.json"}, verifiedFields},
			{"alerts_issued", "alerts issued per month and severity", []string{"/v1/open/alerts-issued.csv", "/v1/open/alerts-issued.json"}, alertsIssuedFields},
			{"transparency", "the transparency report: the three datasets above in one document", []string{"/v1/open/transparency.json"}, transparencyFields},
			{"claimreviews", "verified disinformation findings as schema.org ClaimReview (JSON-LD), Bawaslu the author", []string{"/v1/open/claimreviews.json"}, claimReviewFields},
		},
	})
	return nil
}

// notModified sets ETag and Last-Modified for a dataset version (count and
// retracted, raised by every change) and reports whether the client's copy
// is current (304 sent). The ETag alone decides: the date of the last
// change does not follow changes that commit out of their clock's order.
func notModified(w http.ResponseWriter, r *http.Request, name string, count, retracted int, modified time.Time) bool {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d", name, count, retracted)))
	return conditional(w, r, hex.EncodeToString(sum[:12]), modified, false)
}

// conditional sets ETag (tag, quoted) and Last-Modified and reports whether
// the client's copy is current (304 sent). If-Modified-Since is evaluated
// only when byDate: when the date does not follow every change of the
// body, the ETag alone decides.
func conditional(w http.ResponseWriter, r *http.Request, tag string, modified time.Time, byDate bool) bool {
	etag := `"` + tag + `"`
	w.Header().Set("ETag", etag)
	if !modified.IsZero() {
		w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	match := r.Header.Get("If-None-Match")
	if match == etag || match == "*" {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	if byDate && match == "" && !modified.IsZero() {
		if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !modified.Truncate(time.Second).After(t) {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// csvCell is the text of one CSV cell as written: a cell that begins with
// a character that makes a spreadsheet read it as a formula (=, +, -, @) or
// shift it (tab, carriage return) is prefixed with an apostrophe, which
// spreadsheets take as "this is text" and do not show. Every cell of every
// CSV the server writes goes through it. The cells the server makes from
// numbers, times, ids, region codes and fixed words never begin with those
// characters, so in practice only free text (titles, bodies, names,
// accreditation numbers, reasons) is ever prefixed; a negative number would
// be too, and none exists in these datasets. JSON carries the text as
// stored.
func csvCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// exporter writes one dataset as CSV or a JSON array, row by row, in
// constant memory.
type exporter struct {
	w     *bufio.Writer
	csv   *csv.Writer
	cells []string // the CSV record being written, reused
	first bool
}

func newExporter(w http.ResponseWriter, format, name string, header []string) *exporter {
	bw := bufio.NewWriterSize(w, 32<<10)
	e := &exporter{w: bw, first: true}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		e.csv = csv.NewWriter(bw)
		e.csv.UseCRLF = true // RFC 4180
		e.writeCSV(header)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		bw.WriteString("[")
	}
	w.WriteHeader(http.StatusOK)
	return e
}

// row writes one record: as CSV cells (through csvCell), or v as JSON.
func (e *exporter) row(record []string, v any) error {
	if e.csv != nil {
		return e.writeCSV(record)
	}
	if !e.first {
		e.w.WriteString(",")
	}
	e.first = false
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.w.WriteString("\n")
	_, err = e.w.Write(b)
	return err
}

func (e *exporter) writeCSV(record []string) error {
	e.cells = e.cells[:0]
	for _, s := range record {
		e.cells = append(e.cells, csvCell(s))
	}
	return e.csv.Write(e.cells)
}

func (e *exporter) close() error {
	if e.csv != nil {
		e.csv.Flush()
		if err := e.csv.Error(); err != nil {
			return err
		}
	} else {
		e.w.WriteString("\n]\n")
	}
	return e.w.Flush()
}

// openAlert is an alert as open data.
type openAlert struct {
	ID               string     `json:"id"`
	Title            string     `json:"title"`
	Body             string     `json:"body"`
	Severity         string     `json:"severity"`
	RegionCode       string     `json:"region_code"`
	RegionName       string     `json:"region_name"`
	Category         string     `json:"category"`
	Links            []string   `json:"links"`
	PublishedAt      time.Time  `json:"published_at"`
	Retracted        bool       `json:"retracted"`
	RetractedAt      *time.Time `json:"retracted_at"`
	RetractionReason string     `json:"retraction_reason"`
}

func openAlertOf(a api.Alert) openAlert {
	o := openAlert{ID: a.ID, Title: a.Title, Body: a.Body, Severity: a.Severity, Links: a.Links,
		PublishedAt: a.PublishedAt, Retracted: a.Retracted, RetractedAt: a.RetractedAt, RetractionReason: a.RetractionReason}
	if a.RegionCode != nil {
		o.RegionCode = *a.RegionCode
		o.RegionName = region.Name(o.RegionCode)
	}
	if a.Category != nil {
		o.Category = *a.Category
	}
	return o
}

func (o openAlert) record() []string {
	retracted := ""
	if o.RetractedAt != nil {
		retracted = o.RetractedAt.Format(time.RFC3339)
	}
	return []string{o.ID, o.Title, o.Body, o.Severity, o.RegionCode, o.RegionName, o.Category,
		strings.Join(o.Links, " "), o.PublishedAt.Format(time.RFC3339), strconv.FormatBool(o.Retracted), retracted, o.RetractionReason}
}

func fieldNames(fs []openField) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return names
}

func (s *Server) handleOpenAlerts(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		n, retracted, modified, err := s.alerts.Version(r.Context())
		if err != nil {
			return err
		}
		if notModified(w, r, "alerts", n, retracted, modified) {
			return nil
		}
		e := newExporter(w, format, "alerts", fieldNames(alertFields))
		err = s.alerts.Export(r.Context(), func(a api.Alert) error {
			o := openAlertOf(a)
			return e.row(o.record(), o)
		})
		return s.finishExport(r.Context(), e, err)
	}
}

// finishExport ends a stream. Once rows are being sent the status is out,
// so a failure can only be logged (the truncated body tells the client).
func (s *Server) finishExport(ctx context.Context, e *exporter, err error) error {
	if err == nil {
		err = e.close()
	}
	if err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "open data export", "error", err.Error())
	}
	return nil
}

// openOrg is a registry entry as open data.
type openOrg struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	AccreditationNumber string    `json:"accreditation_number"`
	AccreditedUntil     time.Time `json:"accredited_until"`
	Status              string    `json:"status"`
	RegionCode          string    `json:"region_code"`
	RegionName          string    `json:"region_name"`
	MemberCount         int       `json:"member_count"`
}

func openOrgOf(o api.Org) openOrg {
	row := openOrg{ID: o.ID, Name: o.Name, AccreditationNumber: o.AccreditationNumber,
		AccreditedUntil: o.AccreditedUntil, Status: o.Status, MemberCount: o.MemberCount}
	if o.RegionCode != nil {
		row.RegionCode, row.RegionName = *o.RegionCode, region.Name(*o.RegionCode)
	}
	return row
}

func (o openOrg) record() []string {
	return []string{o.ID, o.Name, o.AccreditationNumber, o.AccreditedUntil.Format(time.RFC3339),
		o.Status, o.RegionCode, o.RegionName, strconv.Itoa(o.MemberCount)}
}

// handleOpenOrgs serves the registry. Its rows change without any org's
// updated_at moving (member_count follows memberships; an accreditation
// lapses by the clock), so the registry's version cannot tell whether a
// client's copy is current: the ETag is a hash of the rows themselves (the
// registry is small, so reading it once more is cheap) and If-Modified-Since
// is not trusted.
func (s *Server) handleOpenOrgs(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		_, modified, err := s.orgs.Version(r.Context())
		if err != nil {
			return err
		}
		h := sha256.New()
		err = s.orgs.Export(r.Context(), func(o api.Org) error {
			b, err := json.Marshal(openOrgOf(o))
			h.Write(append(b, '\n'))
			return err
		})
		if err != nil {
			return err
		}
		if conditional(w, r, hex.EncodeToString(h.Sum(nil)[:12]), modified, false) {
			return nil
		}
		e := newExporter(w, format, "orgs", fieldNames(orgFields))
		err = s.orgs.Export(r.Context(), func(o api.Org) error {
			row := openOrgOf(o)
			return e.row(row.record(), row)
		})
		return s.finishExport(r.Context(), e, err)
	}
}

func (s *Server) handleOpenStats(w http.ResponseWriter, r *http.Request) error {
	group, err := oneOf(r, "group_by", "category", "region", "day")
	if err != nil {
		return err
	}
	if group == "" {
		group = "category"
	}
	stats, err := s.reports.Stats(r.Context(), group)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	encode(w, http.StatusOK, map[string]any{"group_by": group, "licence": openLicence, "items": stats})
	return nil
}
