package evidence

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// countingStore counts the reads a Reader opens.
type countingStore struct {
	store
	opens int
}

func (c *countingStore) Open(ctx context.Context, sha string, off, n int64) (io.ReadCloser, error) {
	c.opens++
	return c.store.Open(ctx, sha, off, n)
}

// A Reader under http.ServeContent answers whole files and ranges with the
// stored bytes, opening the store once per piece it sends.
func TestReaderServesRanges(t *testing.T) {
	eachStore(t, func(t *testing.T, u *under) {
		content := benchPayload(100 << 10)
		obj := mustPut(t, u, content)
		size := int64(len(content))
		tests := []struct {
			rangeHdr  string
			status    int
			from, to  int64 // of content, for 200 and 206
			wantOpens int
		}{
			{"", http.StatusOK, 0, size, 1},
			{"bytes=0-99", http.StatusPartialContent, 0, 100, 1},
			{"bytes=1000-1999", http.StatusPartialContent, 1000, 2000, 2},
			{"bytes=-10", http.StatusPartialContent, size - 10, size, 2},
			{"bytes=50000-", http.StatusPartialContent, 50000, size, 2},
			{"bytes=999999-", http.StatusRequestedRangeNotSatisfiable, 0, 0, 1},
		}
		for _, tt := range tests {
			cs := &countingStore{store: u.store}
			rd, err := NewReader(t.Context(), obj.Size, func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
				return cs.Open(ctx, obj.SHA256, off, n)
			})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			if tt.rangeHdr != "" {
				req.Header.Set("Range", tt.rangeHdr)
			}
			w := httptest.NewRecorder()
			w.Header().Set("Content-Type", obj.ContentType) // as the API does: no sniffing
			http.ServeContent(w, req, "", time.Time{}, rd)
			rd.Close()
			if w.Code != tt.status {
				t.Errorf("Range %q: got %d, want %d", tt.rangeHdr, w.Code, tt.status)
				continue
			}
			if tt.status != http.StatusRequestedRangeNotSatisfiable {
				want := content[tt.from:tt.to]
				if got := w.Body.Bytes(); string(got) != string(want) {
					t.Errorf("Range %q: got %d bytes, not bytes %d-%d", tt.rangeHdr, len(got), tt.from, tt.to-1)
				}
				if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(len(want)) {
					t.Errorf("Range %q: Content-Length %s, want %d", tt.rangeHdr, cl, len(want))
				}
			}
			if cs.opens != tt.wantOpens {
				t.Errorf("Range %q: the store was opened %d times, want %d", tt.rangeHdr, cs.opens, tt.wantOpens)
			}
		}
	})
}

// A file that the store holds shorter than recorded ends in an error, not
// a short success.
func TestReaderShortFile(t *testing.T) {
	u := mustDirUnder(t)
	obj := mustPut(t, u, pdfFile)
	rd, err := NewReader(t.Context(), obj.Size+10, func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
		return u.Open(ctx, obj.SHA256, off, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if _, err := io.ReadAll(rd); err != io.ErrUnexpectedEOF {
		t.Errorf("ReadAll: got %v, want io.ErrUnexpectedEOF", err)
	}
}
