package stats

import (
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	now := time.Date(2029, 2, 14, 23, 59, 0, 0, time.FixedZone("WIB", 7*3600)) // 16:59 UTC
	for _, c := range []struct {
		from, to, wantFrom, wantTo, err string
	}{
		{"", "", "2029-01-16", "2029-02-14", ""},
		{"2029-01-01", "", "2029-01-01", "2029-01-30", ""},
		{"2029-02-10", "", "2029-02-10", "2029-02-14", ""},
		{"", "2028-12-31", "2028-12-02", "2028-12-31", ""},
		{"2028-02-15", "2029-02-14", "2028-02-15", "2029-02-14", ""},
		{"2000-01-01", "2000-01-01", "2000-01-01", "2000-01-01", ""},
		{"2028-02-14", "2029-02-14", "", "", "a period holds at most 366 days"},
		{"2029-02-15", "", "", "", "from must not be after to"},
		{"", "2029-02-15", "", "", "to must not be after today (2029-02-14, UTC)"},
		{"2029-02-02", "2029-02-01", "", "", "from must not be after to"},
		{"1999-12-31", "2000-01-01", "", "", "from must not be before 2000-01-01"},
		{"", "2000-01-10", "", "", "from must not be before 2000-01-01"},
		{"2029-2-1", "", "", "", "from must be a date as YYYY-MM-DD"},
		{"", "14/02/2029", "", "", "to must be a date as YYYY-MM-DD"},
		{"2029-02-30", "", "", "", "from must be a date as YYYY-MM-DD"},
	} {
		p, err := ParsePeriod(c.from, c.to, now)
		if c.err != "" {
			if err == nil || err.Error() != "bad-query: "+c.err {
				t.Errorf("from %q to %q: got error %v, want %q", c.from, c.to, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("from %q to %q: %v", c.from, c.to, err)
			continue
		}
		if got := p.From.Format(dayLayout) + ".." + p.To.Format(dayLayout); got != c.wantFrom+".."+c.wantTo {
			t.Errorf("from %q to %q: got %s, want %s..%s", c.from, c.to, got, c.wantFrom, c.wantTo)
		}
	}
}

func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		xs       []float64
		pct      int
		want     float64
		wantNone bool
	}{
		{nil, 50, 0, true},
		{[]float64{3}, 90, 3, false},
		{[]float64{30, 10}, 50, 10, false},
		{[]float64{30, 10}, 90, 30, false},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9, false},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50, 5, false},
		{[]float64{1.04, 1.06}, 90, 1.1, false},
	} {
		got := percentile(c.xs, c.pct)
		switch {
		case c.wantNone && got != nil:
			t.Errorf("p%d of %v: got %v, want none", c.pct, c.xs, *got)
		case !c.wantNone && (got == nil || *got != c.want):
			t.Errorf("p%d of %v: got %v, want %v", c.pct, c.xs, got, c.want)
		}
	}
}
