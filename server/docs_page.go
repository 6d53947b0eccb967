package server

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The API reference page, GET /docs: the OpenAPI document rendered on the
// server as plain HTML (no scripts, nothing from other hosts), styled by
// GET /docs/style.css so that a strict Content-Security-Policy holds.

//go:embed docsui/docs.html docsui/style.css
var docsUI embed.FS

// docsCSP allows the page its own stylesheet and nothing else.
const docsCSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) error {
	page := s.docsPage()
	if conditional(w, r, page.etag, time.Time{}, false) {
		return nil
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Length", strconv.Itoa(len(page.html)))
	w.Write(page.html)
	return nil
}

func (s *Server) handleDocsStyle(w http.ResponseWriter, r *http.Request) error {
	css, err := docsUI.ReadFile("docsui/style.css")
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Length", strconv.Itoa(len(css)))
	w.Write(css)
	return nil
}

type renderedDocs struct {
	html []byte
	etag string
}

// renderedPage is the page, rendered once per process from the document.
var renderedPage struct {
	once sync.Once
	v    *renderedDocs
}

// docsPage is the page, rendered on first use.
func (s *Server) docsPage() *renderedDocs {
	renderedPage.once.Do(func() {
		built := s.openAPI()
		tmpl := template.Must(template.New("docs.html").ParseFS(docsUI, "docsui/docs.html"))
		var b bytes.Buffer
		if err := tmpl.Execute(&b, docsView(built.doc)); err != nil {
			panic("docs: " + err.Error())
		}
		renderedPage.v = &renderedDocs{html: b.Bytes(), etag: "docs-" + built.etag}
	})
	return renderedPage.v
}

// The view the template renders.
type (
	docsPageView struct {
		Title, Version string
		Intro          template.HTML
		Tags           []docsTagView
		Schemas        []docsSchemaView
	}
	docsTagView struct {
		Name, Anchor string
		Description  template.HTML
		Ops          []docsOpView
	}
	docsOpView struct {
		Method, Path, ID, Summary string
		Auth                      string
		Description               template.HTML
		Params                    []docsFieldView
		Body                      *docsBodyView
		Responses                 []docsResponseView
		Websocket                 *docsWebsocketView
	}
	docsFieldView struct {
		Name, In    string
		Required    bool
		Type        template.HTML
		Description template.HTML
	}
	docsBodyView struct {
		Media    []docsMediaView
		Required bool
	}
	docsMediaView struct {
		Media string
		Type  template.HTML
	}
	docsResponseView struct {
		Status, Class string
		Description   template.HTML
		Media         []docsMediaView
		Problems      []string
		Headers       []string
	}
	docsWebsocketView struct {
		Subprotocol  string
		ClientFrames template.HTML
		ServerFrames template.HTML
		CloseCodes   []docsCloseCode
	}
	docsCloseCode  struct{ Code, Meaning string }
	docsSchemaView struct {
		Name        string
		Description template.HTML
		Type        template.HTML
		Props       []docsFieldView
	}
)

func docsView(d *openAPIDoc) docsPageView {
	v := docsPageView{Title: d.Info.Title, Version: d.Info.Version, Intro: proseHTML(d.Info.Description)}
	for _, t := range d.Tags {
		tv := docsTagView{Name: t.Name, Anchor: "tag-" + anchorSlug(t.Name), Description: proseHTML(t.Description)}
		for _, o := range d.order {
			if o.Tags[0] == t.Name {
				tv.Ops = append(tv.Ops, opView(d, o))
			}
		}
		v.Tags = append(v.Tags, tv)
	}
	names := make([]string, 0, len(d.Components.Schemas))
	for n := range d.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := d.Components.Schemas[n]
		sv := docsSchemaView{Name: n, Description: proseHTML(s.Description), Type: typeHTML(s)}
		if s.Properties != nil {
			for _, p := range s.Properties.names {
				ps := s.Properties.m[p]
				sv.Props = append(sv.Props, docsFieldView{Name: p, Required: slices.Contains(s.Required, p), Type: typeHTML(ps), Description: describe(ps)})
			}
		}
		v.Schemas = append(v.Schemas, sv)
	}
	return v
}

func opView(d *openAPIDoc, o *docOperation) docsOpView {
	v := docsOpView{Method: o.method, Path: o.path, ID: o.OperationID, Summary: o.Summary, Description: proseHTML(o.Description)}
	switch {
	case len(o.Security) == 0:
		v.Auth = "no token needed"
	case len(o.Security) == 1:
		v.Auth = "bearer token"
	default:
		v.Auth = "bearer token optional"
	}
	for _, p := range o.Parameters {
		if p.Ref != "" {
			p = d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		}
		v.Params = append(v.Params, docsFieldView{Name: p.Name, In: p.In, Required: p.Required, Type: typeHTML(p.Schema), Description: joinHTML(proseHTML(p.Description), describe(p.Schema))})
	}
	if rb := o.RequestBody; rb != nil {
		v.Body = &docsBodyView{Required: rb.Required, Media: mediaViews(rb.Content)}
	}
	statuses := make([]string, 0, len(o.Responses))
	for st := range o.Responses {
		statuses = append(statuses, st)
	}
	sort.Strings(statuses)
	for _, st := range statuses {
		r := o.Responses[st]
		n, _ := strconv.Atoi(st)
		rv := docsResponseView{Status: st + " " + http.StatusText(n), Class: "status-" + st[:1] + "xx", Media: mediaViews(r.Content)}
		if slugs := o.problems[n]; len(slugs) > 0 {
			rv.Problems = slugs
		} else {
			rv.Description = proseHTML(r.Description)
		}
		for h := range r.Headers {
			rv.Headers = append(rv.Headers, h)
		}
		sort.Strings(rv.Headers)
		v.Responses = append(v.Responses, rv)
	}
	if ws := o.Websocket; ws != nil {
		wv := &docsWebsocketView{Subprotocol: ws.Subprotocol, ClientFrames: typesHTML(ws.ClientFrames), ServerFrames: typesHTML(ws.ServerFrames)}
		codes := make([]string, 0, len(ws.CloseCodes))
		for c := range ws.CloseCodes {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, c := range codes {
			wv.CloseCodes = append(wv.CloseCodes, docsCloseCode{c, ws.CloseCodes[c]})
		}
		v.Websocket = wv
	}
	return v
}

func mediaViews(content map[string]*docMedia) []docsMediaView {
	var out []docsMediaView
	for m, c := range content {
		mv := docsMediaView{Media: m, Type: typeHTML(c.Schema)}
		if c.Schema != nil && c.Schema.Ref == "" && c.Schema.Description != "" {
			mv.Type += template.HTML(": " + html.EscapeString(c.Schema.Description))
		}
		out = append(out, mv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Media < out[j].Media })
	return out
}

func typesHTML(ss []*Schema) template.HTML {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(typeHTML(s))
	}
	return template.HTML(strings.Join(parts, ", "))
}

// typeHTML is a short, linked label of a schema's type, such as "array of
// <a>Org</a>" or "string (date-time) | null".
func typeHTML(s *Schema) template.HTML {
	esc := html.EscapeString
	switch {
	case s == nil:
		return ""
	case s.Ref != "":
		n := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		return template.HTML(`<a href="#schema-` + esc(n) + `">` + esc(n) + `</a>`)
	case len(s.AnyOf) > 0:
		return typesJoined(s.AnyOf, " | ")
	case len(s.AllOf) > 0:
		return typeHTML(s.AllOf[0])
	}
	var types []string
	switch t := s.Type.(type) {
	case string:
		types = []string{t}
	case []string:
		types = t
	}
	if len(types) == 0 {
		return "any"
	}
	parts := make([]string, len(types))
	for i, t := range types {
		label := esc(t)
		switch {
		case t == "array" && s.Items != nil:
			label = "array of " + string(typeHTML(s.Items))
		case t == "object":
			if ap, ok := s.AdditionalProperties.(*Schema); ok {
				label = "map of string to " + string(typeHTML(ap))
			}
		case t == "null":
		case s.Format != "":
			label += " (" + esc(s.Format) + ")"
		case s.ContentMediaType != "":
			label += " (" + esc(s.ContentMediaType) + ")"
		}
		parts[i] = label
	}
	return template.HTML(strings.Join(parts, " | "))
}

func typesJoined(ss []*Schema, sep string) template.HTML {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(typeHTML(s))
	}
	return template.HTML(strings.Join(parts, sep))
}

// describe is a property's description followed by its rules: allowed
// values, ranges, lengths and patterns (of the items, for an array).
func describe(s *Schema) template.HTML {
	if s == nil {
		return ""
	}
	out := proseHTML(s.Description)
	rules := s
	if s.Items != nil {
		rules = s.Items
	}
	var notes []string
	if len(rules.Enum) > 0 {
		vals := make([]string, len(rules.Enum))
		for i, e := range rules.Enum {
			if e == nil {
				vals[i] = "<code>null</code>"
			} else {
				vals[i] = "<code>" + html.EscapeString(fmt.Sprint(e)) + "</code>"
			}
		}
		notes = append(notes, "One of "+strings.Join(vals, ", ")+".")
	}
	if r := rangeText(rules.Minimum, rules.Maximum, ""); r != "" {
		notes = append(notes, r)
	}
	if r := rangeText(intToInt64(rules.MinLength), intToInt64(rules.MaxLength), " characters"); r != "" && !(rules.MinLength != nil && *rules.MinLength == 0 && rules.MaxLength == nil) {
		notes = append(notes, r)
	}
	if s.MaxItems != nil {
		notes = append(notes, fmt.Sprintf("At most %d items.", *s.MaxItems))
	}
	if rules.Pattern != "" {
		notes = append(notes, "Pattern <code>"+html.EscapeString(rules.Pattern)+"</code>.")
	}
	if s.Default != nil {
		notes = append(notes, "Default <code>"+html.EscapeString(fmt.Sprint(s.Default))+"</code>.")
	}
	if len(notes) == 0 {
		return out
	}
	return joinHTML(out, template.HTML(`<p class="rules">`+strings.Join(notes, " ")+`</p>`))
}

func intToInt64(n *int) *int64 {
	if n == nil {
		return nil
	}
	v := int64(*n)
	return &v
}

func rangeText(min, max *int64, unit string) string {
	switch {
	case min != nil && max != nil && *min == 0:
		return fmt.Sprintf("At most %d%s.", *max, unit)
	case min != nil && max != nil:
		return fmt.Sprintf("%d to %d%s.", *min, *max, unit)
	case min != nil:
		return fmt.Sprintf("At least %d%s.", *min, unit)
	case max != nil:
		return fmt.Sprintf("At most %d%s.", *max, unit)
	}
	return ""
}

func joinHTML(parts ...template.HTML) template.HTML {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(string(p))
	}
	return template.HTML(b.String())
}

// prose renders the document's plain text as HTML: blank lines separate
// paragraphs, lines starting "- " make a list, and `backticks` mark code.
// Everything is escaped first.
func proseHTML(s string) template.HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if para == "" {
			continue
		}
		lines := strings.Split(para, "\n")
		if strings.HasPrefix(lines[0], "- ") {
			b.WriteString("<ul>")
			for _, l := range lines {
				b.WriteString("<li>" + inlineHTML(strings.TrimPrefix(l, "- ")) + "</li>")
			}
			b.WriteString("</ul>")
			continue
		}
		b.WriteString("<p>" + inlineHTML(strings.Join(lines, " ")) + "</p>")
	}
	return template.HTML(b.String())
}

// inline escapes s and turns `code` spans into <code> elements.
func inlineHTML(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + html.EscapeString(p) + "</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`") // an unmatched backtick stays as it is
		}
		b.WriteString(html.EscapeString(p))
	}
	return b.String()
}

func anchorSlug(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, " ", "-"))
}
