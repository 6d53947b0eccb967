package urlnorm

import (
	"net/url"
	"testing"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"https://www.detik.com/berita/d-123?utm_source=wa#comments",
		"https://mobile.twitter.com/KPU_ID/status/123?s=20&t=abc",
		"https://youtu.be/dQw4w9WgXcQ?si=xyz",
		"https://m.facebook.com/story.php?story_fbid=1&id=2&mibextid=abc",
		"https://www.instagram.com/p/Cxyz/?igshid=abc",
		"https://vt.tiktok.com/ZSabc/",
		"https://youtube.com/shorts/a%26b+c=d/x",
		"http://[2001:DB8::1]:80/a/../b/%2e/?q=%zz&&x",
		"https://BÜCHER.example/ä?__cft__[0]=1",
		"https://e.id/%7e%2F%25",
		"ftp://x",
		"https://u@x/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Normalize(in)
		if err != nil {
			return
		}
		again, err := Normalize(out)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q, which fails: %v", in, out, err)
		}
		if again != out {
			t.Fatalf("Normalize(%q) = %q, again %q: not idempotent", in, out, again)
		}
		u, err := url.Parse(out)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("Normalize(%q) = %q: does not parse back as an https URL (%v)", in, out, err)
		}
		if len(out) > MaxLen {
			t.Fatalf("Normalize(%q): got %d bytes, want at most %d", in, len(out), MaxLen)
		}
	})
}
