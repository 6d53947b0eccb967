// Command gen turns the province, regency and district files of the npm
// package idn-area-data into region/regions.tsv, the table the region
// package embeds. It is run by go generate in region (see gen/fetch.sh,
// which downloads the package first):
//
//	go run ./gen -from /tmp/x/package -out regions.tsv
//
// The table has one region a line, "code<TAB>name", codes without dots
// ("31.71.01" becomes "317101"), sorted by code, after a header of comment
// lines ("# ...") naming the source package, its version and its licences.
// Villages are left out.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	from := fs.String("from", "", "directory of the unpacked idn-area-data npm package (holding package.json and data/)")
	out := fs.String("out", "regions.tsv", "file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("-from is required")
	}
	pkg, err := readPackage(filepath.Join(*from, "package.json"))
	if err != nil {
		return err
	}
	var rows [][2]string
	counts := map[int]int{}
	for _, f := range []struct {
		file   string
		digits int
	}{{"provinces.csv", 2}, {"regencies.csv", 4}, {"districts.csv", 6}} {
		rs, err := readLevel(filepath.Join(*from, "data", f.file), f.digits)
		if err != nil {
			return err
		}
		counts[f.digits] = len(rs)
		rows = append(rows, rs...)
	}
	slices.SortFunc(rows, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	if err := check(rows); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Kemendagri regions of Indonesia down to districts, from the npm package %s %s\n", pkg.Name, pkg.Version)
	fmt.Fprintf(&b, "# (%s). Package code: %s licence; its data: Open Database License 1.0 (see NOTICE).\n", pkg.Homepage, pkg.License)
	fmt.Fprintf(&b, "# Made by region/gen from data/provinces.csv, regencies.csv and districts.csv: code without dots, TAB, name.\n")
	fmt.Fprintf(&b, "# provinces %d, regencies %d, districts %d\n", counts[2], counts[4], counts[6])
	for _, r := range rows {
		b.WriteString(r[0] + "\t" + r[1] + "\n")
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d provinces, %d regencies, %d districts from %s %s\n",
		*out, counts[2], counts[4], counts[6], pkg.Name, pkg.Version)
	return nil
}

type packageJSON struct {
	Name, Version, License, Homepage string
}

func readPackage(path string) (packageJSON, error) {
	var p packageJSON
	b, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	if p.Name != "idn-area-data" || p.Version == "" {
		return p, fmt.Errorf("%s: got package %q %q, want idn-area-data", path, p.Name, p.Version)
	}
	return p, nil
}

// readLevel reads one CSV whose first two columns are code and, last, name;
// each code must have the given number of digits once its dots are gone.
func readLevel(path string, digits int) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 || recs[0][0] != "code" || recs[0][len(recs[0])-1] != "name" {
		return nil, fmt.Errorf("%s: header %v is not code,...,name", path, recs[0])
	}
	var rows [][2]string
	for i, r := range recs[1:] {
		code := strings.ReplaceAll(r[0], ".", "")
		name := strings.Join(strings.Fields(r[len(r)-1]), " ") // one space between words: no tab, no newline
		if len(code) != digits || strings.Trim(code, "0123456789") != "" {
			return nil, fmt.Errorf("%s line %d: code %q is not %d digits", path, i+2, r[0], digits)
		}
		if name == "" {
			return nil, fmt.Errorf("%s line %d: bad name %q", path, i+2, r[len(r)-1])
		}
		rows = append(rows, [2]string{code, name})
	}
	return rows, nil
}

// check refuses duplicate codes and regions whose parent is missing.
func check(rows [][2]string) error {
	seen := make(map[string]bool, len(rows))
	for _, r := range rows {
		if seen[r[0]] {
			return fmt.Errorf("code %s twice", r[0])
		}
		seen[r[0]] = true
		if len(r[0]) > 2 && !seen[r[0][:len(r[0])-2]] {
			return fmt.Errorf("code %s has no parent %s", r[0], r[0][:len(r[0])-2])
		}
	}
	return nil
}
