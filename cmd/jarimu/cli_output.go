package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jarimu/jarimu/region"
)

// printJSON writes v as indented JSON, the API's own field names.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes rows aligned in columns under a header.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

// row adds a row; cells are cleaned of control characters first.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = clean(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// printFields writes "key: value" lines with the values aligned, from
// key-value pairs; a value of several lines continues indented under its
// first line. Empty values are left out.
func printFields(w io.Writer, pairs ...string) error {
	var keys, values []string
	width := 0
	for i := 0; i+1 < len(pairs); i += 2 {
		v := strings.TrimRight(cleanText(pairs[i+1]), " \n")
		if strings.TrimSpace(v) == "" {
			continue
		}
		keys, values = append(keys, pairs[i]), append(values, v)
		width = max(width, len(pairs[i]))
	}
	indent := "\n" + strings.Repeat(" ", width+3) // under the value: key, colon, two spaces
	var b strings.Builder
	for i, k := range keys {
		fmt.Fprintf(&b, "%-*s  %s\n", width+1, k+":", strings.ReplaceAll(values[i], "\n", indent))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// clean makes text from the server safe to print on one line of a
// terminal: control characters (escape sequences included) and bidi
// overrides become spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
}

// cleanText is clean for text of several lines: it keeps the newlines.
func cleanText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.Join(lines, "\n")
}

// short cuts s to at most n characters, marking the cut with "…".
func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// timeLayout shows times in the local time zone, to the minute.
const timeLayout = "2006-01-02 15:04 MST"

// when is t for people, in local time; "-" when zero or nil.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(timeLayout)
}

// day is the local date of t.
func day(t time.Time) string { return t.Local().Format("2006-01-02") }

func whenPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

// minutes is d for people, to the minute: "1h05m", "12m".
func minutes(d time.Duration) string {
	d = max(d, 0).Round(time.Minute)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

// regionLabel is a region code with its name, or "national".
func regionLabel(code *string) string {
	if code == nil || *code == "" {
		return "national"
	}
	if name := region.Name(*code); name != "" {
		return *code + " " + name
	}
	return *code
}

// deref is *p, or def when p is nil.
func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// optional is a pointer to s, or nil when s is empty: an absent field.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
