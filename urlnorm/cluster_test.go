package urlnorm

import (
	"regexp"
	"testing"
)

func TestClusterKnownValues(t *testing.T) {
	// Computed independently with Python's uuid.uuid5(uuid.NAMESPACE_URL, s).
	tests := []struct{ in, want string }{
		{"https://x.com/KPU_ID/status/123", "430d092f-bbd6-5d32-97a6-582d09d9b144"},
		{"https://detik.com/berita/d-123", "fb63e5f1-a67c-5b30-bdf7-3782d9638ad7"},
		{"", "1b4db7eb-4057-5ddf-91e0-36dec72071f5"},
	}
	for _, tt := range tests {
		if got := Cluster(tt.in); got != tt.want {
			t.Errorf("Cluster(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

var uuid5 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestClusterFormat(t *testing.T) {
	for _, in := range []string{"https://kpu.go.id/", "https://youtube.com/watch?v=dQw4w9WgXcQ", "x"} {
		if got := Cluster(in); !uuid5.MatchString(got) {
			t.Errorf("Cluster(%q): got %q, want a lower-case version 5 UUID", in, got)
		}
	}
}

func TestClusterSameContent(t *testing.T) {
	links := []string{
		"https://mobile.twitter.com/KPU_ID/status/123?s=20&t=abc",
		"http://twitter.com/KPU_ID/status/123/",
		"https://www.x.com/KPU_ID/status/123#reply",
		"https://x.com/KPU_ID/status/123?ref_src=twsrc",
	}
	want := ""
	for _, in := range links {
		n, err := Normalize(in)
		if err != nil {
			t.Fatalf("Normalize(%q): got error %v, want none", in, err)
		}
		got := Cluster(n)
		if want == "" {
			want = got
		}
		if got != want {
			t.Errorf("Cluster of %q: got %s, want %s like the others", in, got, want)
		}
	}
	if other := Cluster("https://x.com/KPU_ID/status/124"); other == want {
		t.Errorf("Cluster of another post: got %s, want a different ID", other)
	}
}
