package evidence

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// BenchmarkPut stores a new JPEG-like file each iteration: hash, write, fsync
// and rename (the fsyncs dominate on most disks).
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			s := mustStore(b)
			payload := make([]byte, size)
			copy(payload, jpegFile)
			for i := len(jpegFile); i < size; i++ {
				payload[i] = byte(i * 7)
			}
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
	}
}
