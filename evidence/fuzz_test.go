package evidence

import (
	"bytes"
	"os"
	"testing"

	"github.com/jarimu/jarimu/problem"
)

// FuzzPut checks that any upload is either stored intact under its sha256
// with its sniffed type, or refused as a problem, with nothing left in tmp.
func FuzzPut(f *testing.F) {
	for _, seed := range [][]byte{pngFile, jpegFile, webpFile, pdfFile, nil, []byte("RIFF"), []byte("%PDF"), []byte("plain text")} {
		f.Add(seed)
	}
	s := mustDir(f)
	f.Fuzz(func(t *testing.T, content []byte) {
		obj, err := s.Put(t.Context(), bytes.NewReader(content), 64)
		assertTmpEmpty(t, s.tmp)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("Put(%q): got %v, want a problem", content, err)
			}
			return
		}
		want := Object{SHA256: shaOf(content), Size: int64(len(content)), ContentType: sniff(content)}
		if obj != want {
			t.Fatalf("Put(%q): got %+v, want %+v", content, obj, want)
		}
		path, _ := s.Path(obj.SHA256)
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("Put(%q): stored %q, %v", content, got, err)
		}
	})
}
