package evidence

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/s3test"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want BucketConfig // zero: refused
	}{
		{"s3://bukti/evidence?endpoint=https://s3.example.org:9000&region=ap-southeast-3",
			BucketConfig{Endpoint: "s3.example.org:9000", Secure: true, PathStyle: true, Region: "ap-southeast-3", Name: "bukti", Prefix: "evidence/"}},
		{"s3://bukti", BucketConfig{Endpoint: "s3.amazonaws.com", Secure: true, Region: "us-east-1", Name: "bukti"}},
		{"s3://bukti/a/b/?endpoint=http://127.0.0.1:7070", BucketConfig{Endpoint: "127.0.0.1:7070", PathStyle: true, Region: "us-east-1", Name: "bukti", Prefix: "a/b/"}},
		{"s3://bukti?endpoint=http://localhost:7070/", BucketConfig{Endpoint: "localhost:7070", PathStyle: true, Region: "us-east-1", Name: "bukti"}},
		{"s3://bukti?endpoint=http://[::1]:7070", BucketConfig{Endpoint: "[::1]:7070", PathStyle: true, Region: "us-east-1", Name: "bukti"}},
		{"s3://bukti?endpoint=http://objects:7070&allow_http=true", BucketConfig{Endpoint: "objects:7070", PathStyle: true, Region: "us-east-1", Name: "bukti"}},
		{"s3://bukti?endpoint=http://objects:7070", BucketConfig{}},                 // plain http off loopback
		{"s3://bukti?endpoint=http://10.0.0.8:7070&allow_http=yes", BucketConfig{}}, // not true/false
		{"s3://bukti?endpoint=ftp://127.0.0.1:21", BucketConfig{}},                  // not http(s)
		{"s3://bukti?endpoint=https://s3.example.org/path", BucketConfig{}},         // a path on the endpoint
		{"s3://bukti?endpoint=https://s3.example.org&regoin=x", BucketConfig{}},     // a typo
		{"s3://bukti/a/../b", BucketConfig{}},              // .. in the prefix
		{"s3://bukti/a//b", BucketConfig{}},                // empty segment
		{"s3://Bukti_1", BucketConfig{}},                   // not a bucket name
		{"s3://key:secret@bukti", BucketConfig{}},          // keys have their own settings
		{"https://bukti.s3.amazonaws.com", BucketConfig{}}, // not s3://
		{"s3:///evidence", BucketConfig{}},                 // no bucket
		{"", BucketConfig{}},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.url)
		if tt.want == (BucketConfig{}) {
			if err == nil {
				t.Errorf("ParseURL(%q): got %+v, want an error", tt.url, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q): got %+v, %v, want %+v", tt.url, got, err, tt.want)
		}
	}
}

// assertUnavailable checks that err is the 503 problem "unavailable" with a
// Retry-After, keeping its cause.
func assertUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Kind != problem.Unavailable || p.Type != "unavailable" || p.RetryAfter <= 0 {
		t.Errorf("%s: got %v, want an unavailable problem with a Retry-After", what, err)
		return
	}
	if err.Error() == p.Error() {
		t.Errorf("%s: the cause is lost: %v", what, err)
	}
}

// A store that is down refuses with 503, quickly, and leaves nothing behind.
func TestBucketDown(t *testing.T) {
	b := mustBucket(t, s3test.Unreachable(t), "key", "secret")
	start := time.Now()
	_, err := b.Put(t.Context(), bytes.NewReader(pngFile), MaxSize)
	assertUnavailable(t, "Put", err)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Put took %s, want an answer within seconds", d)
	}
	assertTmpEmpty(t, b.tmp)
	_, err = b.Open(t.Context(), shaOf(pngFile), 0, -1)
	assertUnavailable(t, "Open", err)
	assertUnavailable(t, "Ping", b.Ping(t.Context()))
	// Refusals of the content come first: they need no store.
	if _, err := b.Put(t.Context(), strings.NewReader("teks"), MaxSize); !problem.Is(err, "evidence-type") {
		t.Errorf("Put of text: got %v, want evidence-type", err)
	}
}

// Wrong credentials and a missing bucket are 503 too, never 500; the right
// ones work.
func TestBucketRefused(t *testing.T) {
	sb := s3test.New(t)
	good := mustBucket(t, sb.URL, sb.AccessKey, sb.SecretKey)
	obj := mustPut(t, good, pngFile)
	if err := good.Ping(t.Context()); err != nil {
		t.Errorf("Ping with the right keys: %v", err)
	}
	cases := map[string]*Bucket{
		"wrong secret":   mustBucket(t, sb.URL, sb.AccessKey, sb.SecretKey+"x"),
		"unknown key":    mustBucket(t, sb.URL, "AKIANOBODY", sb.SecretKey),
		"no such bucket": mustBucket(t, strings.Replace(sb.URL, sb.Name, sb.Name+"-gone", 1), sb.AccessKey, sb.SecretKey),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := b.Put(t.Context(), bytes.NewReader(jpegFile), MaxSize)
			assertUnavailable(t, "Put", err)
			assertTmpEmpty(t, b.tmp)
			_, err = b.Open(t.Context(), obj.SHA256, 0, -1)
			assertUnavailable(t, "Open", err)
			assertUnavailable(t, "Ping", b.Ping(t.Context()))
		})
	}
	if got := sb.Keys(t); len(got) != 1 || got[0] != s3test.Key(obj.SHA256) {
		t.Errorf("bucket: got %q, want only %s", got, s3test.Key(obj.SHA256))
	}
}
