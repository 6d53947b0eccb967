package notice

import "testing"

func TestCurrentParses(t *testing.T) {
	n := Current()
	if n.Version != Version {
		t.Fatalf("version %q, want %q", n.Version, Version)
	}
	for _, lang := range []string{"id", "en"} {
		txt, ok := n.Languages[lang]
		if !ok || txt.Title == "" || len(txt.Sections) < 5 {
			t.Fatalf("%s: %+v", lang, txt)
		}
		for _, s := range txt.Sections {
			if s.Heading == "" || len(s.Paragraphs) == 0 {
				t.Fatalf("%s: empty section %+v", lang, s)
			}
		}
	}
	if len(n.Languages["id"].Sections) != len(n.Languages["en"].Sections) {
		t.Fatal("the Indonesian and English texts have different sections")
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{"", "Title\n", "Title\ntext before a section\n## A\nb"} {
		if _, err := parse(s); err == nil {
			t.Errorf("parse(%q) succeeded", s)
		}
	}
}

func TestWithVersion(t *testing.T) {
	if n := WithVersion("v2"); n.Version != "v2" || len(n.Languages) != 2 {
		t.Fatalf("%+v", n)
	}
}
