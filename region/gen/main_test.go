package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture writes a small idn-area-data package into a temporary directory.
func fixture(t *testing.T, districts string) string {
	t.Helper()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "data"), 0o755)
	files := map[string]string{
		"package.json":       `{"name": "idn-area-data", "version": "9.9.9", "license": "MIT", "homepage": "https://example.org/idn"}`,
		"data/provinces.csv": "code,name\n31,Daerah Khusus Ibukota Jakarta\n11,Aceh\n",
		"data/regencies.csv": "code,province_code,name\n31.74,31,Kota Administrasi Jakarta Selatan\n11.01,11,Kabupaten Aceh Selatan\n",
		"data/districts.csv": districts,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestGenerate(t *testing.T) {
	dir := fixture(t, "code,regency_code,name\n31.74.01,31.74,Tebet\n11.01.01,11.01,\"Ra\"\"as  Lama\"\n")
	out := filepath.Join(t.TempDir(), "regions.tsv")
	if err := run([]string{"-from", dir, "-out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	got := string(b)
	for _, want := range []string{
		"idn-area-data 9.9.9", "MIT", "Open Database License",
		"# provinces 2, regencies 2, districts 2\n",
		"11\tAceh\n1101\tKabupaten Aceh Selatan\n110101\tRa\"as Lama\n31\tDaerah Khusus Ibukota Jakarta\n3174\tKota Administrasi Jakarta Selatan\n317401\tTebet\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("regions.tsv: got\n%s\nwant it to hold %q", got, want)
		}
	}
}

func TestGenerateRefuses(t *testing.T) {
	for name, districts := range map[string]string{
		"no parent":  "code,regency_code,name\n31.75.01,31.75,Matraman\n",
		"twice":      "code,regency_code,name\n31.74.01,31.74,Tebet\n31.74.01,31.74,Tebet\n",
		"short code": "code,regency_code,name\n31.74.1,31.74,Tebet\n",
		"letters":    "code,regency_code,name\n31.74.0a,31.74,Tebet\n",
		"empty name": "code,regency_code,name\n31.74.01,31.74,\n",
		"bad header": "kode,nama\n31.74.01,Tebet\n",
	} {
		out := filepath.Join(t.TempDir(), "regions.tsv")
		if err := run([]string{"-from", fixture(t, districts), "-out", out}, io.Discard); err == nil {
			t.Errorf("%s: got no error, want one", name)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: got %s written, want nothing", name, out)
		}
	}
	if err := run(nil, io.Discard); err == nil {
		t.Error("without -from: got no error, want one")
	}
}
