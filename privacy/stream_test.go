package privacy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The stream writes one valid JSON object, members and arrays in order.
func TestJSONStream(t *testing.T) {
	var b strings.Builder
	x := &jsonStream{w: &b}
	x.raw("{")
	x.field("a", 1)
	x.open("list")
	for i := range 3 {
		x.item(map[string]int{"n": i})
	}
	x.close()
	x.open("empty")
	x.close()
	x.field("z", "end")
	x.raw("}")
	var got struct {
		A     int              `json:"a"`
		List  []map[string]int `json:"list"`
		Empty []int            `json:"empty"`
		Z     string           `json:"z"`
	}
	if x.err != nil || json.Unmarshal([]byte(b.String()), &got) != nil {
		t.Fatalf("not JSON (%v): %s", x.err, b.String())
	}
	if got.A != 1 || len(got.List) != 3 || got.List[2]["n"] != 2 || got.Empty == nil || got.Z != "end" {
		t.Fatalf("got %+v", got)
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("gone")
	}
	f.n--
	return len(p), nil
}

// The first write error sticks: nothing is written after it.
func TestJSONStreamError(t *testing.T) {
	w := &failAfter{n: 2}
	x := &jsonStream{w: w}
	x.raw("{")
	x.field("a", 1) // the key fails
	x.field("b", 2)
	if x.err == nil || x.err.Error() != "gone" {
		t.Fatalf("err %v", x.err)
	}
	y := &jsonStream{w: &strings.Builder{}}
	y.field("f", func() {})
	if y.err == nil {
		t.Fatal("an unencodable value left no error")
	}
}
