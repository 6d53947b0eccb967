package evidence

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// BucketConfig says where a Bucket is and how to sign in to it.
type BucketConfig struct {
	Endpoint  string // host[:port] of the S3 API
	Secure    bool   // https; plain http only to loopback or when allowed
	PathStyle bool   // bucket in the path (any custom endpoint), not the host name
	Region    string // signing region; "us-east-1" by default
	Name      string // the bucket
	Prefix    string // of every key: "" or ending in "/"
	AccessKey string
	SecretKey string
}

// defaultEndpoint is Amazon S3's, for a URL that names none.
const defaultEndpoint = "https://s3.amazonaws.com"

// ParseURL reads the location of a bucket (not the keys) from
// s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION[&allow_http=true]:
// endpoint is https://host[:port] of any S3-compatible store (Amazon S3 when
// absent), region defaults to us-east-1. Plain http:// is accepted for a
// loopback host, or for another host only with allow_http=true (a private
// network such as compose's, where nothing else can listen). Keys go under
// PREFIX/ when it is given.
func ParseURL(raw string) (BucketConfig, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return BucketConfig{}, errors.New("must look like s3://BUCKET/PREFIX?endpoint=https://HOST:PORT&region=REGION")
	}
	if err := s3utils.CheckValidBucketNameStrict(u.Host); err != nil {
		return BucketConfig{}, fmt.Errorf("bucket %q: %w", u.Host, err)
	}
	c := BucketConfig{Name: u.Host, Region: "us-east-1"}
	if c.Prefix, err = prefixOf(u.Path); err != nil {
		return BucketConfig{}, err
	}
	q := u.Query()
	for k := range q {
		if k != "endpoint" && k != "region" && k != "allow_http" {
			return BucketConfig{}, fmt.Errorf("unknown parameter %q (known: endpoint, region, allow_http)", k)
		}
	}
	if r := q.Get("region"); r != "" {
		c.Region = r
	}
	allowHTTP := q.Get("allow_http")
	if allowHTTP != "" && allowHTTP != "true" && allowHTTP != "false" {
		return BucketConfig{}, errors.New(`allow_http must be "true" or "false"`)
	}
	endpoint := q.Get("endpoint")
	c.PathStyle = endpoint != ""
	if endpoint == "" {
		endpoint = defaultEndpoint
	}
	e, err := url.Parse(endpoint)
	if err != nil || e.Host == "" || strings.Trim(e.Path, "/") != "" || e.RawQuery != "" || e.User != nil {
		return BucketConfig{}, fmt.Errorf("endpoint %q must look like https://HOST:PORT", endpoint)
	}
	switch e.Scheme {
	case "https":
		c.Secure = true
	case "http":
		if !isLoopback(e.Hostname()) && allowHTTP != "true" {
			return BucketConfig{}, fmt.Errorf("endpoint %q: plain http is only for a loopback host, or with allow_http=true on a private network", endpoint)
		}
	default:
		return BucketConfig{}, fmt.Errorf("endpoint %q must be https:// (or http:// to a loopback host)", endpoint)
	}
	c.Endpoint = e.Host
	return c, nil
}

// prefixOf turns the URL's path into a key prefix: "" or segments ending in
// "/", none of them empty, "." or "..".
func prefixOf(path string) (string, error) {
	p := strings.Trim(path, "/")
	if p == "" {
		return "", nil
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("prefix %q: empty, . or .. segments are not allowed", p)
		}
	}
	return p + "/", nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
