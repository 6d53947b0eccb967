// Package s3test gives each test its own empty bucket on the S3-compatible
// server named by JARIMU_TEST_S3_URL (its endpoint, http://127.0.0.1:PORT),
// signed in with JARIMU_TEST_S3_ACCESS_KEY and JARIMU_TEST_S3_SECRET_KEY.
// Without them a test that needs a bucket is skipped, except in CI (CI=true),
// where it fails: the S3 half can never be skipped silently. .ci/run starts
// such a server (the Versity S3 Gateway) on loopback.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Prefix is the key prefix of the test buckets' evidence (as an operator
// would use one: s3://bucket/evidence).
const Prefix = "evidence/"

// Bucket is a fresh bucket for one test, removed with its objects at cleanup.
type Bucket struct {
	URL       string // s3://NAME/evidence?endpoint=...: JARIMU_EVIDENCE_URL's form
	AccessKey string
	SecretKey string
	Name      string
	Client    *minio.Client // signed in as the keys above
}

// Configured reports whether the environment names a test S3 server.
func Configured() bool {
	return os.Getenv("JARIMU_TEST_S3_URL") != ""
}

// Require skips t (outside CI) or fails it (CI=true) when no test S3 server
// is configured.
func Require(t testing.TB) {
	t.Helper()
	if Configured() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but JARIMU_TEST_S3_URL is not set: the S3 evidence store must be tested in CI")
	}
	t.Skip("needs JARIMU_TEST_S3_URL, JARIMU_TEST_S3_ACCESS_KEY and JARIMU_TEST_S3_SECRET_KEY (always set in CI by .ci/run)")
}

// New makes an empty bucket for t (see Require for when there is no server).
func New(t testing.TB) *Bucket {
	t.Helper()
	Require(t)
	endpoint := os.Getenv("JARIMU_TEST_S3_URL")
	e, err := url.Parse(endpoint)
	if err != nil || e.Host == "" {
		t.Fatalf("JARIMU_TEST_S3_URL %q: want http://HOST:PORT", endpoint)
	}
	b := &Bucket{AccessKey: os.Getenv("JARIMU_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("JARIMU_TEST_S3_SECRET_KEY"), Name: "jarimu-test-" + randomHex(8)}
	b.URL = "s3://" + b.Name + "/" + strings.TrimSuffix(Prefix, "/") + "?endpoint=" + url.QueryEscape(endpoint) + "&region=us-east-1"
	b.Client, err = minio.New(e.Host, &minio.Options{Creds: credentials.NewStaticV4(b.AccessKey, b.SecretKey, ""),
		Secure: e.Scheme == "https", Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Client.MakeBucket(ctx, b.Name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket on %s: %v", endpoint, err)
	}
	t.Cleanup(func() {
		for obj := range b.Client.ListObjects(ctx, b.Name, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err == nil {
				b.Client.RemoveObject(ctx, b.Name, obj.Key, minio.RemoveObjectOptions{})
			}
		}
		b.Client.RemoveBucket(ctx, b.Name)
	})
	return b
}

// Keys lists the bucket's object names, sorted.
func (b *Bucket) Keys(t testing.TB) []string {
	t.Helper()
	var keys []string
	for obj := range b.Client.ListObjects(context.Background(), b.Name, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("list bucket %s: %v", b.Name, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	slices.Sort(keys)
	return keys
}

// Key is the object name of the file with this sha, as the store makes it.
func Key(sha string) string {
	return Prefix + sha[:2] + "/" + sha
}

// Unreachable is an s3:// URL whose endpoint is a loopback port nobody
// listens on: a store that is down. It needs no server.
func Unreachable(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "s3://jarimu-down/evidence?endpoint=" + url.QueryEscape("http://"+addr)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
