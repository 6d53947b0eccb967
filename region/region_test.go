package region

import (
	"errors"
	"slices"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		code string
		ok   bool
	}{
		{"", false},
		{"3", false},
		{"00", false},
		{"99", false},
		{"10", false},
		{"97", false},
		{"11", true},
		{"31", true},
		{"96", true},
		{"3171", true},
		{"3101", true},
		{"3169", false}, // well formed, no such regency
		{"3174", true},
		{"3100", false},
		{"3170", false},
		{"3199", false},
		{"9601", true},
		{"9901", false},
		{"317", false},
		{"31710", false},
		{"317101", true},
		{"317100", false},
		{"317199", false}, // well formed, no such district
		{"317407", true},
		{"3170101", false},
		{"3171010001", false}, // village part must start with 1 or 2
		{"3171011001", true},
		{"3171012001", true},
		{"3171012999", true},
		{"3169012001", false}, // a village under no known district
		{"3171010000", false},
		{"3171012000", false},
		{"3171013001", false},
		{"3171000001", false},
		{"3170010001", false},
		{"31710100010", false},
		{"31a1", false},
		{" 31", false},
		{"31 ", false},
		{"٣١", false},
		{"+31", false},
		{"-31", false},
		{"31.71", false},
		{"３１", false},
	}
	for _, tt := range tests {
		err := Validate(tt.code)
		if got := err == nil; got != tt.ok {
			t.Errorf("Validate(%q) = %v: got ok=%v, want ok=%v", tt.code, err, got, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%q): got error %v, want one wrapping ErrInvalid", tt.code, err)
		}
	}
}

func TestLevel(t *testing.T) {
	tests := []struct{ code, want string }{
		{"", LevelNational},
		{"31", LevelProvince},
		{"3171", LevelRegency},
		{"317101", LevelDistrict},
		{"3171011001", LevelVillage},
		{"3", ""},
		{"3170", ""},
		{"99", ""},
		{"31a1", ""},
	}
	for _, tt := range tests {
		if got := Level(tt.code); got != tt.want {
			t.Errorf("Level(%q): got %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestParent(t *testing.T) {
	tests := []struct{ code, want string }{
		{"", ""},
		{"31", ""},
		{"3171", "31"},
		{"317101", "3171"},
		{"3171012001", "317101"},
		{"3", ""},
		{"3170", ""},
		{"317100", ""},
	}
	for _, tt := range tests {
		if got := Parent(tt.code); got != tt.want {
			t.Errorf("Parent(%q): got %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		outer, inner string
		want         bool
	}{
		{"", "", true},
		{"", "31", true},
		{"", "3171011001", true},
		{"", "3", false},
		{"", "99", false},
		{"31", "31", true},
		{"31", "3171", true},
		{"31", "317101", true},
		{"31", "3171011001", true},
		{"31", "32", false},
		{"31", "3271", false},
		{"31", "", false},
		{"3171", "31", false},
		{"3171", "3172", false},
		{"3171", "317101", true},
		{"317101", "3171011001", true},
		{"317101", "3171021001", false},
		{"3", "31", false},
		{"3", "3171", false},
		{"31", "3170", false},
		{"31", "31a1", false},
		{"3170", "317001", false},
	}
	for _, tt := range tests {
		if got := Contains(tt.outer, tt.inner); got != tt.want {
			t.Errorf("Contains(%q, %q): got %v, want %v", tt.outer, tt.inner, got, tt.want)
		}
	}
}

func TestAncestors(t *testing.T) {
	tests := []struct {
		code string
		want []string
	}{
		{"", []string{}},
		{"31", []string{"31"}},
		{"3171", []string{"31", "3171"}},
		{"317101", []string{"31", "3171", "317101"}},
		{"3171011001", []string{"31", "3171", "317101", "3171011001"}},
		{"3", []string{}},
		{"3170", []string{}},
	}
	for _, tt := range tests {
		got := Ancestors(tt.code)
		if got == nil || !slices.Equal(got, tt.want) {
			t.Errorf("Ancestors(%q): got %#v, want %#v", tt.code, got, tt.want)
		}
	}
}

func TestStream(t *testing.T) {
	tests := []struct{ code, want string }{
		{"", "region:national"},
		{"31", "region:31"},
		{"3171", "region:3171"},
	}
	for _, tt := range tests {
		if got := Stream(tt.code); got != tt.want {
			t.Errorf("Stream(%q): got %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestStreams(t *testing.T) {
	national := "region:national"
	tests := []struct {
		code string
		want []string
	}{
		{"", []string{national}},
		{"31", []string{national, "region:31"}},
		{"3171", []string{national, "region:31", "region:3171"}},
		{"317101", []string{national, "region:31", "region:3171"}},
		{"3171012001", []string{national, "region:31", "region:3171"}},
		{"3", []string{national}},
		{"3170", []string{national}},
	}
	for _, tt := range tests {
		if got := Streams(tt.code); !slices.Equal(got, tt.want) {
			t.Errorf("Streams(%q): got %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestProvinces(t *testing.T) {
	ps := Provinces()
	if got, want := len(ps), 38; got != want {
		t.Fatalf("len(Provinces()): got %d, want %d", got, want)
	}
	codes, names := map[string]bool{}, map[string]bool{}
	for i, p := range ps {
		if codes[p.Code] || names[p.Name] {
			t.Errorf("Provinces()[%d] = %+v: got a duplicate code or name, want unique", i, p)
		}
		codes[p.Code], names[p.Name] = true, true
		if i > 0 && ps[i-1].Code >= p.Code {
			t.Errorf("Provinces()[%d].Code: got %q after %q, want ascending", i, p.Code, ps[i-1].Code)
		}
		if err := Validate(p.Code); err != nil {
			t.Errorf("Validate(%q): got %v, want nil", p.Code, err)
		}
		if got, ok := ProvinceName(p.Code); !ok || got != p.Name {
			t.Errorf("ProvinceName(%q): got %q, %v, want %q, true", p.Code, got, ok, p.Name)
		}
	}
}

func TestProvincesCopy(t *testing.T) {
	ps := Provinces()
	want := ps[0]
	ps[0] = Province{Code: "00", Name: "Mutated"}
	if got := Provinces()[0]; got != want {
		t.Errorf("Provinces()[0] after mutating an earlier result: got %+v, want %+v", got, want)
	}
}

func TestProvinceName(t *testing.T) {
	tests := []struct {
		code, want string
		ok         bool
	}{
		{"31", "Daerah Khusus Ibukota Jakarta", true},
		{"11", "Aceh", true},
		{"96", "Papua Barat Daya", true},
		{"93", "Papua Selatan", true},
		{"99", "", false},
		{"", "", false},
		{"3171", "", false},
	}
	for _, tt := range tests {
		got, ok := ProvinceName(tt.code)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ProvinceName(%q): got %q, %v, want %q, %v", tt.code, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"", "3", "00", "99", "31", "3171", "3100", "3170", "3199", "9601",
		"317101", "3171010001", "3171012001", "3171010000", "3171011001", "31a1", " 31",
		"٣١", "+31", "1101", "9671012999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		if Validate(c) != nil {
			return
		}
		if p := Parent(c); !Contains(p, c) {
			t.Errorf("Contains(Parent(%q)=%q, %q): got false, want true", c, p, c)
		}
		if !Contains("", c) {
			t.Errorf("Contains(\"\", %q): got false, want true", c)
		}
		as := Ancestors(c)
		if len(as) == 0 || as[len(as)-1] != c {
			t.Errorf("Ancestors(%q): got %q, want it to end with %q", c, as, c)
		}
		for _, a := range as {
			if err := Validate(a); err != nil {
				t.Errorf("Validate(ancestor %q of %q): got %v, want nil", a, c, err)
			}
			if !Contains(a, c) {
				t.Errorf("Contains(%q, %q): got false, want true", a, c)
			}
		}
	})
}

// Hears answers as Streams does, for every kind of code (valid at each
// level, malformed, unknown province, empty) and stream (each level, other
// regions, other prefixes).
func TestHears(t *testing.T) {
	codes := []string{"", "31", "3171", "317101", "3171010001", "32", "3273", "99", "9901", "31x", "3", "31710", "317"}
	streams := []string{"region:national", "region:31", "region:3171", "region:317101", "region:32", "region:3273",
		"region:3", "region:", "region:99", "user:31", "org:3171", "region:3171010001", "regionx:31", ""}
	for _, c := range codes {
		for _, s := range streams {
			want := slices.Contains(Streams(c), s)
			if got := Hears(c, s); got != want {
				t.Errorf("Hears(%q, %q) = %v, Streams says %v", c, s, got, want)
			}
		}
	}
}

func BenchmarkHears(b *testing.B) {
	for b.Loop() {
		Hears("3171", "region:31")
	}
}
