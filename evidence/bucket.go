package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// partSize is the part size of multipart uploads (S3's smallest): a file
// past it goes up in parts sent side by side, read from the spooled file.
const partSize = 5 << 20

// Bucket is a content-addressed file store in an S3-compatible bucket:
// objects <prefix><2 hex>/<sha256>, private to Jarimu (the API checks who
// may read a file and streams it; nothing is public or presigned). An upload
// is spooled to a temporary file in a local directory while it is checked
// and hashed, because the object's name is its hash; it then goes to the
// bucket with a known size (in parts past 5 MiB), unless the bucket has it
// already. A store that is down, refuses the credentials or lacks the
// bucket is a problem of kind Unavailable ("unavailable", Retry-After).
// Safe for concurrent use.
type Bucket struct {
	core   minio.Core
	name   string
	prefix string // "" or ending in "/"
	tmp    string // uploads being spooled
}

// NewBucket makes the store of c, spooling uploads in tmp (created 0700 if
// missing). It sends nothing: a bucket that cannot be reached shows at the
// first use, or with Ping.
func NewBucket(c BucketConfig, tmp string) (*Bucket, error) {
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("new evidence bucket: %w", err)
	}
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:       c.Secure,
		Region:       c.Region,
		BucketLookup: lookup,
		Transport:    transport(c.Secure),
		MaxRetries:   3, // a store that is down answers 503 within about a second
	})
	if err != nil {
		return nil, fmt.Errorf("new evidence bucket: %w", err)
	}
	return &Bucket{core: minio.Core{Client: client}, name: c.Name, prefix: c.Prefix, tmp: tmp}, nil
}

// transport is minio's, with shorter waits: the API answers 503 rather than
// hold a volunteer's request for minutes on a store that does not answer.
func transport(secure bool) http.RoundTripper {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil // minio then makes its default
	}
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 20 * time.Second
	return tr
}

// upload sends f, the file obj, unless an object of its name and size is
// there already (names are hashes, so it holds the same bytes).
func (b *Bucket) upload(ctx context.Context, f *os.File, obj Object) error {
	if size, err := b.size(ctx, obj.SHA256); err == nil && size == obj.Size {
		return nil
	} else if err != nil && !isNotFound(err) {
		return err
	}
	return b.put(ctx, f, obj)
}

// put sends the whole of f, the file obj, replacing any object of its name.
func (b *Bucket) put(ctx context.Context, f *os.File, obj Object) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind: %w", err)
	}
	_, err := b.core.Client.PutObject(ctx, b.name, b.key(obj.SHA256), f, obj.Size,
		minio.PutObjectOptions{ContentType: obj.ContentType, PartSize: partSize})
	if err != nil {
		return b.fail(err)
	}
	return nil
}

// Open reads n bytes (n < 0: all the rest) of the stored file with this
// SHA-256, from byte off; the caller closes the reader. The request is sent
// here, so a missing file (NotFound) or a store that is down (Unavailable)
// is an error before anything is read. A malformed sha is refused as by
// Dir.Path.
func (b *Bucket) Open(ctx context.Context, sha string, off, n int64) (io.ReadCloser, error) {
	if !validSHA(sha) {
		return nil, fmt.Errorf("open evidence: %w", badID())
	}
	if n == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	var opts minio.GetObjectOptions
	switch {
	case n > 0:
		opts.SetRange(off, off+n-1)
	case off > 0:
		opts.SetRange(off, 0)
	}
	body, _, _, err := b.core.GetObject(ctx, b.name, b.key(sha), opts)
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", b.fail(err))
	}
	return body, nil
}

// Ping checks that the bucket answers and exists, for readiness reports.
func (b *Bucket) Ping(ctx context.Context) error {
	ok, err := b.core.BucketExists(ctx, b.name)
	if err != nil {
		return fmt.Errorf("evidence bucket: %w", b.fail(err))
	}
	if !ok {
		return fmt.Errorf("evidence bucket %q does not exist: %w", b.name, unavailable())
	}
	return nil
}

// size is the stored size of the file with this sha (a valid one), or a
// NotFound problem.
func (b *Bucket) size(ctx context.Context, sha string) (int64, error) {
	info, err := b.core.StatObject(ctx, b.name, b.key(sha), minio.StatObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("stat: %w", b.fail(err))
	}
	return info.Size, nil
}

// key is the object name of a valid sha.
func (b *Bucket) key(sha string) string {
	return b.prefix + key(sha)
}

// fail puts an error of the S3 client into the vocabulary: a missing object
// is NotFound; the end of the caller's context stays what it is; anything
// else (refused, wrong credentials, no bucket, the store's own errors) is
// Unavailable, with the cause kept for the log.
func (b *Bucket) fail(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.Code == minio.NoSuchKey {
		return fmt.Errorf("%w: %w", notFound(), err)
	}
	return fmt.Errorf("%w: %w", unavailable(), err)
}
