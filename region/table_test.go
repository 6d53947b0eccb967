package region

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// The table holds what its header says the source held, at the levels the
// source has; the counts were checked against the rows of the package's
// CSV files (38, 514 and 7,285 rows for idn-area-data 4.0.1).
func TestTableCounts(t *testing.T) {
	m := regexp.MustCompile(`(?m)^# provinces (\d+), regencies (\d+), districts (\d+)$`).FindStringSubmatch(tsv)
	if m == nil {
		t.Fatal("regions.tsv: got no count line in the header, want one")
	}
	got := Count()
	for i, level := range []string{LevelProvince, LevelRegency, LevelDistrict} {
		want, _ := strconv.Atoi(m[i+1])
		if got[level] != want {
			t.Errorf("Count()[%s]: got %d, want %d (header)", level, got[level], want)
		}
	}
	if got[LevelProvince] != 38 {
		t.Errorf("provinces: got %d, want 38", got[LevelProvince])
	}
	if got[LevelRegency] < 500 || got[LevelDistrict] < 7000 {
		t.Errorf("regencies, districts: got %d, %d, want over 500 and 7,000", got[LevelRegency], got[LevelDistrict])
	}
}

// Every code of the table is valid, resolves to its own row, has a parent in
// the table (but a province) and a name; codes are sorted and unique.
func TestTableCodesResolve(t *testing.T) {
	all := All()
	for i, r := range all {
		if i > 0 && all[i-1].Code >= r.Code {
			t.Errorf("All()[%d]: got %q after %q, want ascending", i, r.Code, all[i-1].Code)
		}
		if err := Validate(r.Code); err != nil {
			t.Errorf("Validate(%q): got %v, want nil", r.Code, err)
		}
		if got, ok := Lookup(r.Code); !ok || got != r {
			t.Errorf("Lookup(%q): got %+v, %v, want %+v", r.Code, got, ok, r)
		}
		if r.Name == "" || Name(r.Code) != r.Name {
			t.Errorf("Name(%q): got %q, want %q (non-empty)", r.Code, Name(r.Code), r.Name)
		}
		if p := Parent(r.Code); len(r.Code) > 2 {
			if _, ok := Lookup(p); !ok {
				t.Errorf("parent %q of %q: not in the table", p, r.Code)
			}
		} else if p != "" {
			t.Errorf("Parent(%q): got %q, want national", r.Code, p)
		}
	}
}

// code -> name -> search finds the code: by its label (name and ancestors)
// for every region, first among equals of its level.
// With -short, every 7th region.
func TestNamesRoundTrip(t *testing.T) {
	for i, r := range All() {
		if testing.Short() && i%7 != 0 {
			continue
		}
		got := Search(Label(r.Code), MaxResults)
		i := slices.IndexFunc(got, func(g Region) bool { return g.Code == r.Code })
		if i < 0 {
			t.Errorf("Search(Label(%q) = %q): got %v, want it to hold %s", r.Code, Label(r.Code), got, r.Code)
		}
	}
}

func TestNameLabel(t *testing.T) {
	tests := []struct{ code, name, label string }{
		{"31", "Daerah Khusus Ibukota Jakarta", "Daerah Khusus Ibukota Jakarta"},
		{"3171", "Kota Administrasi Jakarta Pusat", "Kota Administrasi Jakarta Pusat, Daerah Khusus Ibukota Jakarta"},
		{"3174", "Kota Administrasi Jakarta Selatan", "Kota Administrasi Jakarta Selatan, Daerah Khusus Ibukota Jakarta"},
		{"317401", "Tebet", "Tebet, Kota Administrasi Jakarta Selatan, Daerah Khusus Ibukota Jakarta"},
		{"3174011001", "Tebet", "Tebet, Kota Administrasi Jakarta Selatan, Daerah Khusus Ibukota Jakarta"},
		{"", "", ""},
		{"3169", "", ""},
		{"31.74", "", ""},
	}
	for _, tt := range tests {
		if got := Name(tt.code); got != tt.name {
			t.Errorf("Name(%q): got %q, want %q", tt.code, got, tt.name)
		}
		if got := Label(tt.code); got != tt.label {
			t.Errorf("Label(%q): got %q, want %q", tt.code, got, tt.label)
		}
	}
	if NameOf(nil) != nil {
		t.Error("NameOf(nil): got a name, want nil")
	}
	if c := "3174"; NameOf(&c) == nil || *NameOf(&c) != "Kota Administrasi Jakarta Selatan" {
		t.Errorf("NameOf(3174): got %v", NameOf(&c))
	}
	if c := "3169"; NameOf(&c) != nil {
		t.Errorf("NameOf(3169): got %q, want nil", *NameOf(&c))
	}
}

func TestSearch(t *testing.T) {
	tests := []struct {
		q     string
		first string // code of the first result; "" for none
		holds []string
	}{
		{"Jakarta Sel", "3174", []string{"317401", "317407"}},
		{"jakarta sel", "3174", nil},
		{"  JAKARTA   SELATAN ", "3174", nil},
		{"Jakarta", "31", []string{"3171", "3174"}},
		{"Kota Jakarta Sel", "3174", nil},
		{"Jákàrta Sél", "3174", nil}, // accents are ignored
		{"tebet", "317401", nil},
		{"kebayoran", "317405", []string{"317407"}},
		{"bandung", "3204", []string{"3273"}},
		{"3174", "3174", []string{"317401"}},
		{"31740", "317401", nil},
		{"akarta", "", nil}, // words match by prefix, not inside
		{"Selatan Jakarta Kota", "3174", nil},
		{"zzzz", "", nil},
		{"", "", nil},
		{"!!", "", nil},
		{"99", "", nil},
	}
	for _, tt := range tests {
		got := Search(tt.q, MaxResults)
		if tt.first == "" {
			if len(got) != 0 {
				t.Errorf("Search(%q): got %v, want none", tt.q, got)
			}
			continue
		}
		if len(got) == 0 || got[0].Code != tt.first {
			t.Errorf("Search(%q): got %v, want %s first", tt.q, got, tt.first)
			continue
		}
		for _, c := range tt.holds {
			if !slices.ContainsFunc(got, func(r Region) bool { return r.Code == c }) {
				t.Errorf("Search(%q): got %v, want it to hold %s", tt.q, got, c)
			}
		}
	}
}

func TestSearchLimit(t *testing.T) {
	for _, tt := range []struct{ limit, want int }{{1, 1}, {5, 5}, {0, MaxResults}, {-1, MaxResults}, {MaxResults + 1, MaxResults}} {
		if got := len(Search("kabupaten", tt.limit)); got != tt.want {
			t.Errorf("len(Search(kabupaten, %d)): got %d, want %d", tt.limit, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Ra\"as", "ra as"}, {"  Jakarta  Selatan ", "jakarta selatan"}, {"Ça-Vá", "ca va"}, {"", ""}, {"--", ""},
	} {
		if got := fold(tt.in); got != tt.want {
			t.Errorf("fold(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// BenchmarkLoad is the start-up cost of the table: parsing the embedded
// TSV into sorted slices, once per process.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		parse(tsv)
	}
}

func BenchmarkValidate(b *testing.B) {
	for _, code := range []string{"31", "3174", "317407", "3174071001"} {
		b.Run(fmt.Sprint(len(code)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Validate(code)
			}
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	for _, q := range []string{"Jakarta Sel", "kab", "3174"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Search(q, 20)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	const must = "must be a region code"
	for _, tt := range []struct{ code, want string }{
		{"3169", "3169 is not a Kemendagri region code: no regency has it (search GET /v1/regions by name)"},
		{"99", "99 is not a Kemendagri region code: no province has it (search GET /v1/regions by name)"},
		{"317499", "317499 is not a Kemendagri region code: no district has it (search GET /v1/regions by name)"},
		{"3174991001", "3174991001 is not a Kemendagri region code: no district has it (search GET /v1/regions by name)"},
		{"31.74", must}, {"317", must}, {"3174010001", must}, {"", must},
	} {
		if got := Message(tt.code, must); got != tt.want {
			t.Errorf("Message(%q): got %q, want %q", tt.code, got, tt.want)
		}
	}
}
