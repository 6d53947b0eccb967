// Package notice is the privacy notice Jarimu shows before anyone gives it
// personal data, as Indonesia's Personal Data Protection Law (UU No. 27
// Tahun 2022) asks of a controller: who processes what, why, on which legal
// basis, who sees it, how long it is kept, and the rights of the person.
// The text is compiled in, in Indonesian and English; its Version changes
// whenever the text changes, and every account must consent to the current
// version (auth keeps who consented to which).
package notice

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/jarimu/jarimu/api"
)

// Version of the compiled-in notice: the date it took effect. A release that
// changes the text changes it too, and every account is asked to consent
// again.
const Version = "2026-12-09"

//go:embed id.txt
var textID string

//go:embed en.txt
var textEN string

// Notice is a version of the privacy notice, as GET /v1/privacy serves it.
type Notice = api.PrivacyNotice

// Current is the compiled-in notice, version Version.
func Current() Notice {
	return Notice{Version: Version, Languages: map[string]api.PrivacyText{"id": mustParse(textID), "en": mustParse(textEN)}}
}

// WithVersion is the current text under another version (tests stand in a
// new version of the notice with it).
func WithVersion(v string) Notice {
	n := Current()
	n.Version = v
	return n
}

// mustParse reads the embedded text; its tests check it parses.
func mustParse(s string) api.PrivacyText {
	t, err := parse(s)
	if err != nil {
		panic(fmt.Sprintf("notice: %v", err))
	}
	return t
}

// parse reads the notice's plain-text form: the first line is the title,
// "## " starts a section, and blank lines separate paragraphs (lines of one
// paragraph are joined with spaces).
func parse(s string) (api.PrivacyText, error) {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return api.PrivacyText{}, fmt.Errorf("no title")
	}
	t := api.PrivacyText{Title: strings.TrimSpace(lines[0])}
	var para []string
	end := func() {
		if len(para) > 0 && len(t.Sections) > 0 {
			sec := &t.Sections[len(t.Sections)-1]
			sec.Paragraphs = append(sec.Paragraphs, strings.Join(para, " "))
		}
		para = nil
	}
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "## "):
			end()
			t.Sections = append(t.Sections, api.PrivacySection{Heading: strings.TrimSpace(l[3:])})
		case l == "":
			end()
		case len(t.Sections) == 0:
			return api.PrivacyText{}, fmt.Errorf("text before the first section: %q", l)
		default:
			para = append(para, l)
		}
	}
	end()
	if len(t.Sections) == 0 {
		return api.PrivacyText{}, fmt.Errorf("no sections")
	}
	return t, nil
}
