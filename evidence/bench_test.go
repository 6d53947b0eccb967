package evidence

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

// BenchmarkEvidence measures the throughput (MB/s) of each store: put, a
// new file every iteration (checked, hashed, written: fsync and rename on
// disk; spooled, then one PUT or two parts to the bucket), and get, the
// whole file read back. Sizes 1 MiB and 10 MiB (the limit).
func BenchmarkEvidence(b *testing.B) {
	stores := []struct {
		name string
		make func(b *testing.B) store
	}{
		{"disk", func(b *testing.B) store { return mustDir(b) }},
		{"s3", func(b *testing.B) store { return mustBucketUnder(b).store }},
	}
	for _, st := range stores {
		for _, size := range []int{1 << 20, 10 << 20} {
			b.Run(fmt.Sprintf("store=%s/op=put/size=%dMiB", st.name, size>>20), func(b *testing.B) {
				s := st.make(b)
				payload := benchPayload(size)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				var i uint64
				for b.Loop() {
					i++
					binary.LittleEndian.PutUint64(payload[len(jpegFile):], i) // new content, new file
					if _, err := s.Put(b.Context(), bytes.NewReader(payload), MaxSize); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("store=%s/op=get/size=%dMiB", st.name, size>>20), func(b *testing.B) {
				s := st.make(b)
				obj, err := s.Put(b.Context(), bytes.NewReader(benchPayload(size)), MaxSize)
				if err != nil {
					b.Fatal(err)
				}
				buf := make([]byte, 32<<10)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					r, err := s.Open(b.Context(), obj.SHA256, 0, -1)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.CopyBuffer(io.Discard, r, buf)
					r.Close()
					if err != nil || n != int64(size) {
						b.Fatalf("read %d bytes, %v; want %d", n, err, size)
					}
				}
			})
		}
	}
}

// benchPayload is a JPEG-looking file of size bytes.
func benchPayload(size int) []byte {
	p := make([]byte, size)
	copy(p, jpegFile)
	for i := len(jpegFile); i < size; i++ {
		p[i] = byte(i * 7)
	}
	return p
}
