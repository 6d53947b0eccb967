package region

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

//go:generate sh gen/fetch.sh

// tsv is the region table: every province, regency/city and district, one
// "code<TAB>name" a line sorted by code, after "#" comment lines. It is made
// by gen from the npm package idn-area-data (see NOTICE for the version and
// licences); villages are not in it.
//
//go:embed regions.tsv
var tsv string

// Region is one region of the table: its Kemendagri code and its name as the
// source writes it ("3174", "Kota Administrasi Jakarta Selatan").
type Region struct {
	Code, Name string
}

// table is tsv parsed: the regions sorted by code, with what search needs.
// Codes and names are substrings of tsv, so they cost no copy.
type table struct {
	regions []Region
	folded  []string // each region's name folded for search (see fold)
	parent  []int32  // index of each region's parent; -1 for a province
}

// load parses tsv once, on first use: about 7,800 regions, a few hundred
// kilobytes (BenchmarkLoad measures it).
var load = sync.OnceValue(func() *table { return parse(tsv) })

func parse(src string) *table {
	n := strings.Count(src, "\n")
	t := &table{regions: make([]Region, 0, n), folded: make([]string, 0, n), parent: make([]int32, 0, n)}
	var all strings.Builder
	all.Grow(len(src))
	ends := make([]int, 0, n)
	for line := range strings.Lines(src) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" || line[0] == '#' {
			continue
		}
		code, name, ok := strings.Cut(line, "\t")
		if !ok {
			panic("region: bad line in regions.tsv: " + line)
		}
		p := int32(-1)
		if len(code) > 2 {
			i, found := slices.BinarySearchFunc(t.regions, code[:len(code)-2], byCode)
			if !found {
				panic("region: no parent for " + code + " in regions.tsv")
			}
			p = int32(i)
		}
		t.regions = append(t.regions, Region{Code: code, Name: name})
		t.parent = append(t.parent, p)
		foldInto(&all, name)
		ends = append(ends, all.Len())
	}
	folded, start := all.String(), 0
	for _, end := range ends {
		t.folded = append(t.folded, folded[start:end])
		start = end
	}
	return t
}

func byCode(r Region, code string) int { return strings.Compare(r.Code, code) }

// index returns the position of code in the table, or -1.
func (t *table) index(code string) int {
	i, ok := slices.BinarySearchFunc(t.regions, code, byCode)
	if !ok {
		return -1
	}
	return i
}

// Lookup returns the region of the table with the given code: a province,
// regency/city or district. Villages are not in the table, so a village
// code is not found; neither is "" (national).
func Lookup(code string) (Region, bool) {
	t := load()
	if i := t.index(code); i >= 0 {
		return t.regions[i], true
	}
	return Region{}, false
}

// Name returns the most specific name Jarimu knows for a valid code: the
// region's own name, or for a village code its district's. It returns ""
// for national ("") and for an invalid code.
func Name(code string) string {
	if len(code) == 10 {
		code = code[:6]
	}
	r, _ := Lookup(code)
	return r.Name
}

// NameOf is Name for an optional code, as API objects carry it: nil for nil
// (national) and for a code with no name.
func NameOf(code *string) *string {
	if code == nil {
		return nil
	}
	if n := Name(*code); n != "" {
		return &n
	}
	return nil
}

// Label names a region with its ancestors, most specific first:
// "Tebet, Kota Administrasi Jakarta Selatan, Daerah Khusus Ibukota Jakarta".
// It returns "" where Name does.
func Label(code string) string {
	if len(code) == 10 {
		code = code[:6]
	}
	t := load()
	i := t.index(code)
	if i < 0 {
		return ""
	}
	names := []string{}
	for ; i >= 0; i = int(t.parent[i]) {
		names = append(names, t.regions[i].Name)
	}
	return strings.Join(names, ", ")
}

// Count returns how many regions of each level the table holds, keyed by
// LevelProvince, LevelRegency and LevelDistrict.
func Count() map[string]int {
	out := map[string]int{}
	for _, r := range load().regions {
		out[levelOfLength(len(r.Code))]++
	}
	return out
}

// All returns every region of the table, sorted by code, in a fresh slice.
func All() []Region {
	return slices.Clone(load().regions)
}
