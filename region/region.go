// Package region knows Indonesia's Kemendagri region codes (not BPS codes), the
// one way Jarimu names where a report, a user or a broadcast belongs. A code is
// a string of ASCII digits whose length gives its level: 2 for a province
// ("31"), 4 for a regency or city ("3171"), 6 for a district ("317101") and 10
// for a village ("3171010001"). The hierarchy is derived by prefix, so a code's
// ancestors are its own leading digits. The empty string means national: the
// whole country, above every province.
//
// Which regions exist, and their names, come from a table embedded in the
// binary (regions.tsv, made by gen from the npm package idn-area-data; see
// NOTICE): every province, regency/city and district. Validate refuses a
// well-formed code that is not in it; villages are not in it, so a village
// code is valid when its district is.
package region

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid is returned by Validate for a code that is not a well-formed
// Kemendagri code of a region that exists; callers test for it with
// errors.Is.
var ErrInvalid = errors.New("invalid region code")

// ErrUnknown is wrapped, with ErrInvalid, by Validate's error for a
// well-formed code of a region that does not exist ("3169").
var ErrUnknown = errors.New("no such region")

// The levels Level reports, broadest first. They are strings so they can go
// straight into JSON and logs.
const (
	LevelNational = "national" // the empty code: the whole country
	LevelProvince = "province" // 2 digits: provinsi
	LevelRegency  = "regency"  // 4 digits: kabupaten (01-69) or kota (71-99)
	LevelDistrict = "district" // 6 digits: kecamatan
	LevelVillage  = "village"  // 10 digits: kelurahan (1xxx) or desa (2xxx)
)

// Province is one of Indonesia's provinces: its 2-digit Kemendagri code and its
// name as the region table writes it.
type Province = Region

// Provinces returns the provinces of the table (38 since the 2022 Papua
// split) sorted by code. The slice is a fresh copy, so a caller may sort or
// edit it without affecting anyone else.
func Provinces() []Province {
	out := []Province{}
	for _, r := range load().regions {
		if len(r.Code) == 2 {
			out = append(out, r)
		}
	}
	return out
}

// ProvinceName returns the name of the province with the given 2-digit code,
// and false if there is no such province.
func ProvinceName(code string) (string, bool) {
	if len(code) != 2 {
		return "", false
	}
	r, ok := Lookup(code)
	return r.Name, ok
}

// Validate reports whether code is a well-formed, non-empty region code that
// exists: a province, regency/city or district of the region table, or a
// village code under a district of the table (villages are not in the
// table, so only their shape is checked). It does not accept the empty
// (national) code, because a caller validating input wants a real region;
// check for "" first where national is allowed. The error wraps ErrInvalid.
func Validate(code string) error {
	if code == "" {
		return fmt.Errorf("%w: empty", ErrInvalid)
	}
	if !digits(code) {
		return fmt.Errorf("%w: %q: not all ASCII digits", ErrInvalid, code)
	}
	switch len(code) {
	case 2, 4, 6:
		if load().index(code) < 0 {
			return fmt.Errorf("%w: %w: %q is not a %s in the list", ErrInvalid, ErrUnknown, code, levelOfLength(len(code)))
		}
		return nil
	case 10:
		if load().index(code[:6]) < 0 {
			return fmt.Errorf("%w: %w: district %q of %q is not in the list", ErrInvalid, ErrUnknown, code[:6], code)
		}
		return validateVillage(code)
	default:
		return fmt.Errorf("%w: %q: length %d is not 2, 4, 6 or 10", ErrInvalid, code, len(code))
	}
}

// validateVillage checks the village part of a 10-digit code.
func validateVillage(code string) error {
	if k := code[6]; k != '1' && k != '2' {
		return fmt.Errorf("%w: %q: village %q does not start with 1 (kelurahan) or 2 (desa)", ErrInvalid, code, code[6:])
	}
	if number(code[7:]) == 0 {
		return fmt.Errorf("%w: %q: village %q has number 000", ErrInvalid, code, code[6:])
	}
	return nil
}

// Message is the text of a validation problem about a region code that
// Validate refuses: for a well-formed code of no region, that it does not
// exist ("3169 is not a Kemendagri region code: no regency has it; search
// GET /v1/regions by name"); otherwise must, which says what the field
// takes.
func Message(code, must string) string {
	if errors.Is(Validate(code), ErrUnknown) {
		l := levelOfLength(len(code))
		if l == LevelVillage {
			l = LevelDistrict
		}
		return fmt.Sprintf("%s is not a Kemendagri region code: no %s has it (search GET /v1/regions by name)", code, l)
	}
	return must
}

// levelOfLength names the level of a code of n digits, or "".
func levelOfLength(n int) string {
	switch n {
	case 2:
		return LevelProvince
	case 4:
		return LevelRegency
	case 6:
		return LevelDistrict
	case 10:
		return LevelVillage
	}
	return ""
}

// Level names the level of code: LevelNational for "", otherwise province,
// regency, district or village. It returns "" for an invalid code, so a
// caller can tell bad input from national.
func Level(code string) string {
	if code == "" {
		return LevelNational
	}
	if Validate(code) != nil {
		return ""
	}
	return levelOfLength(len(code))
}

// Parent returns the code one level above code: "317101" -> "3171",
// "3171" -> "31", "31" -> "" (national). It returns "" for "" and for an
// invalid code, which have no parent; use Validate to tell these apart.
func Parent(code string) string {
	if Validate(code) != nil {
		return ""
	}
	switch len(code) {
	case 2:
		return ""
	case 4:
		return code[:2]
	case 6:
		return code[:4]
	default:
		return code[:6]
	}
}

// Contains reports whether region outer includes region inner, the check
// behind "may a supervisor of outer see this report from inner". National
// ("") contains "" and every valid code; a valid code contains itself and
// every valid code below it ("31" contains "3171" and "317101", not "32").
// An invalid code on either side contains nothing and is contained by nothing.
func Contains(outer, inner string) bool {
	if inner != "" && Validate(inner) != nil {
		return false
	}
	if outer == "" {
		return true
	}
	if Validate(outer) != nil {
		return false
	}
	// Valid codes only have lengths 2, 4, 6 and 10, so a prefix is always at a
	// level boundary.
	return strings.HasPrefix(inner, outer)
}

// Ancestors returns the codes from the province down to code itself, without
// national: "317101" -> ["31", "3171", "317101"]. It returns an empty slice for
// "" and for an invalid code.
func Ancestors(code string) []string {
	out := []string{}
	for c := code; Validate(c) == nil; c = Parent(c) {
		out = append(out, c)
	}
	slices.Reverse(out)
	return out
}

// Stream returns the realtime stream name that carries broadcasts for region
// code: "region:national" for "", otherwise "region:" followed by the code.
// It does not validate code; callers publishing to a region validate it first.
func Stream(code string) string {
	if code == "" {
		return "region:" + LevelNational
	}
	return "region:" + code
}

// Streams returns the region streams a user whose region is code listens to:
// always the national stream, plus the stream of the user's province and of
// the user's regency where the user has them. Districts and villages have no
// streams of their own, so their users get national, province and regency. An
// invalid code gets only the national stream, so bad data never widens what
// a user hears.
func Streams(code string) []string {
	out := []string{Stream("")}
	for _, c := range Ancestors(code) {
		if len(c) > 4 {
			break
		}
		out = append(out, Stream(c))
	}
	return out
}

// Hears reports whether stream is one of Streams(code), without building
// them (the feed asks it for every ack).
func Hears(code, stream string) bool {
	r, ok := strings.CutPrefix(stream, "region:")
	switch {
	case !ok:
		return false
	case r == LevelNational:
		return true
	case len(r) != 2 && len(r) != 4, !strings.HasPrefix(code, r):
		return false
	}
	// Every ancestor of a code in the table is in the table, so a valid
	// code's 2- or 4-digit prefix r is valid too.
	return Validate(code) == nil
}

// digits reports whether s is non-empty and all ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// number returns the value of s, which must be all ASCII digits.
func number(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
