package urlnorm

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Indonesian news and the share links volunteers paste.
		{"detik utm and fragment", "https://www.detik.com/berita/d-123?utm_source=wa#comments", "https://detik.com/berita/d-123"},
		{"kompas mobile", "https://m.kompas.com/read/2024/02/01/pemilu?page=2", "https://kompas.com/read/2024/02/01/pemilu?page=2"},
		{"tempo mobile prefix", "http://mobile.tempo.co/read/123/kpu", "https://tempo.co/read/123/kpu"},
		{"cnnindonesia sorted query", "https://www.cnnindonesia.com/nasional/abc?z=1&a=2&m=3", "https://cnnindonesia.com/nasional/abc?a=2&m=3&z=1"},
		{"mobile twitter share params", "https://mobile.twitter.com/KPU_ID/status/123?s=20&t=abc", "https://x.com/KPU_ID/status/123"},
		{"twitter.com to x.com", "https://twitter.com/bawaslu_ri/status/9", "https://x.com/bawaslu_ri/status/9"},
		{"x.com ref_src", "https://x.com/a/status/1?ref_src=twsrc%5Etfw", "https://x.com/a/status/1"},
		{"youtu.be with si", "https://youtu.be/dQw4w9WgXcQ?si=xyz", "https://youtube.com/watch?v=dQw4w9WgXcQ"},
		{"youtu.be keeps start time", "https://youtu.be/dQw4w9WgXcQ?t=42", "https://youtube.com/watch?t=42&v=dQw4w9WgXcQ"},
		{"youtube shorts", "https://www.youtube.com/shorts/abcDEF12345?feature=share", "https://youtube.com/watch?v=abcDEF12345"},
		{"youtube live", "https://youtube.com/live/abcDEF12345?si=q", "https://youtube.com/watch?v=abcDEF12345"},
		{"m.youtube watch", "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=youtu.be", "https://youtube.com/watch?v=dQw4w9WgXcQ"},
		{"youtube embed left alone", "https://www.youtube.com/embed/videoseries?list=PL1", "https://youtube.com/embed/videoseries?list=PL1"},
		{"youtu.be without id", "https://youtu.be/", "https://youtu.be/"},
		{"m.facebook story", "https://m.facebook.com/story.php?story_fbid=1&id=2&mibextid=abc", "https://facebook.com/story.php?id=2&story_fbid=1"},
		{"fb.com", "https://fb.com/kpu.ri/posts/77", "https://facebook.com/kpu.ri/posts/77"},
		{"web.facebook", "https://web.facebook.com/groups/1/permalink/2/?__cft__[0]=AZX&__tn__=%2CO%2CP-R", "https://facebook.com/groups/1/permalink/2"},
		{"mbasic.facebook", "https://mbasic.facebook.com/photo.php?fbid=5&fbclid=IwAR", "https://facebook.com/photo.php?fbid=5"},
		{"encoded __cft__ key", "https://facebook.com/p?__cft__%5B1%5D=x&a=1", "https://facebook.com/p?a=1"},
		{"instagram igshid and slash", "https://www.instagram.com/p/Cxyz/?igshid=abc", "https://instagram.com/p/Cxyz"},
		{"instagram reel igsh", "https://instagram.com/reel/C1/?igsh=MWQ1", "https://instagram.com/reel/C1"},
		{"tiktok short link kept", "https://vt.tiktok.com/ZSabc/", "https://vt.tiktok.com/ZSabc"},
		{"tiktok vm short link", "https://vm.tiktok.com/ZMabc/?_r=1", "https://vm.tiktok.com/ZMabc"},
		{"tiktok share params", "https://www.tiktok.com/@akun/video/123?_r=1&_t=8x&is_from_webapp=1&sender_device=pc&lang=id", "https://tiktok.com/@akun/video/123?lang=id"},
		{"telegram.me", "https://telegram.me/s/kanal/10", "https://t.me/s/kanal/10"},
		{"spotify si", "https://open.spotify.com/episode/abc?si=123", "https://open.spotify.com/episode/abc"},
		{"si kept elsewhere", "https://example.com/a?si=1", "https://example.com/a?si=1"},
		{"t kept on youtube", "https://www.youtube.com/watch?v=x&t=10", "https://youtube.com/watch?t=10&v=x"},
		{"gclid and utm any case", "https://liputan6.com/news?UTM_Medium=x&gclid=1&id=7", "https://liputan6.com/news?id=7"},
		{"ref params", "https://kumparan.com/a?ref=home&ref_url=x", "https://kumparan.com/a"},
		{"upper-case scheme and host", "HTTPS://WWW.Detik.COM/Berita", "https://detik.com/Berita"},
		{"default port 443", "https://antaranews.com:443/berita/1", "https://antaranews.com/berita/1"},
		{"default port 80 with http", "http://antaranews.com:80/", "https://antaranews.com/"},
		{"other port kept", "https://example.com:08080/x", "https://example.com:8080/x"},
		{"empty path", "https://kpu.go.id", "https://kpu.go.id/"},
		{"empty query and fragment", "https://kpu.go.id/?#top", "https://kpu.go.id/"},
		{"empty parameters dropped", "https://kpu.go.id/a?&&b=1&", "https://kpu.go.id/a?b=1"},
		{"key without value kept", "https://kpu.go.id/a?b&c=", "https://kpu.go.id/a?b&c="},
		{"repeated keys keep order", "https://e.id/a?x=2&b=1&x=1", "https://e.id/a?b=1&x=2&x=1"},
		{"trailing dot in host", "https://detik.com./x", "https://detik.com/x"},
		{"www needs two labels left", "https://www.com/", "https://www.com/"},
		{"stacked prefixes", "https://www.m.detik.com/x", "https://detik.com/x"},
		{"m.me stays", "https://m.me/page", "https://m.me/page"},
		{"unreserved escapes decoded", "https://e.id/%7Euser/%41b%2d", "https://e.id/~user/Ab-"},
		{"other escapes upper-cased", "https://e.id/a%2fb?q=%e2%9c%93", "https://e.id/a%2Fb?q=%E2%9C%93"},
		{"non-ascii path encoded", "https://e.id/berita/pemilu-ü", "https://e.id/berita/pemilu-%C3%BC"},
		{"stray percent in query", "https://e.id/?q=100%", "https://e.id/?q=100%25"},
		{"dot segments", "https://e.id/a/./b/../c/%2E%2E/d", "https://e.id/a/d"},
		{"dot segments above root", "https://e.id/../../x", "https://e.id/x"},
		{"many trailing slashes", "https://e.id/a///", "https://e.id/a"},
		{"IDN host lower-cased", "https://BÜCHER.example/Ä", "https://bücher.example/%C3%84"},
		{"IPv6 host", "http://[2001:DB8:0:0::1]:80/a", "https://[2001:db8::1]/a"},
		{"IPv4 host", "http://10.0.0.1:8080", "https://10.0.0.1:8080/"},
		{"plus kept in query", "https://e.id/s?q=a+b&r=a%20b", "https://e.id/s?q=a+b&r=a%20b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize(%q): got error %v, want %q", tt.in, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q): got %q, want %q", tt.in, got, tt.want)
			}
			again, err := Normalize(got)
			if err != nil || again != got {
				t.Errorf("Normalize(%q): got %q, %v, want %q (idempotent)", got, again, err, got)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"no scheme", "detik.com/berita"},
		{"ftp", "ftp://example.com/file"},
		{"javascript", "javascript:alert(1)"},
		{"mailto", "mailto:a@b.id"},
		{"opaque https", "https:detik.com"},
		{"no host", "https:///path"},
		{"userinfo", "https://user:pass@detik.com/"},
		{"user only", "https://user@detik.com/"},
		{"space inside", "https://detik.com/a b"},
		{"leading space", " https://detik.com/"},
		{"trailing newline", "https://detik.com/\n"},
		{"tab", "https://detik.com/\tx"},
		{"nul", "https://detik.com/\x00"},
		{"zero-width space", "https://detik.com/\u200b"},
		{"no-break space", "https://detik.com/\u00a0"},
		{"invalid utf-8", "https://detik.com/\xff"},
		{"too long", "https://detik.com/" + strings.Repeat("a", MaxLen)},
		{"too long once encoded", "https://detik.com/" + strings.Repeat("ü", 700)},
		{"bad port", "https://detik.com:99999/"},
		{"port zero", "https://detik.com:0/"},
		{"bad host character", "https://det!k.com/"},
		{"only dots", "https://../"},
		{"IPv6 zone", "https://[fe80::1%25eth0]/"},
		{"IPv4 in brackets", "https://[10.0.0.1]/"},
		{"bad path escape", "https://detik.com/%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Normalize(%q): got %q, %v, want an error wrapping ErrInvalid", tt.in, got, err)
			}
		})
	}
}

func TestNormalizeLengthLimit(t *testing.T) {
	base := "https://detik.com/"
	in := base + strings.Repeat("a", MaxLen-len(base))
	got, err := Normalize(in)
	if err != nil || got != in {
		t.Errorf("Normalize of %d bytes: got %d bytes, %v, want it unchanged", len(in), len(got), err)
	}
}
