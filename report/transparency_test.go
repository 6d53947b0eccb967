package report

import (
	"reflect"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want *float64
	}{
		{nil, nil},
		{[]float64{4}, ptr(4)},
		{[]float64{7, 1.5, 3}, ptr(3)},
		{[]float64{2.5, 1.5}, ptr(2)},
		{[]float64{1, 2, 3, 4}, ptr(2.5)},
		{[]float64{1.04, 1.06}, ptr(1.1)},
		{[]float64{0.01}, ptr(0)},
	} {
		got := median(c.in)
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("median(%v): got %v, want %v", c.in, show(got), show(c.want))
		}
	}
}

func ptr(f float64) *float64 { return &f }

func show(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// A case counts in the month of its request (UTC), under its last step; a
// history that lacks its request is left out.
func TestTakedownMonths(t *testing.T) {
	cases := map[string]*takedownCase{
		"a": {platform: "x", requested: at("2026-03-31T23:30:00Z"), status: api.TakedownDone, done: at("2026-04-02T11:30:00Z")},
		"b": {platform: "x", requested: at("2026-03-01T00:00:00Z"), status: api.TakedownRefused},
		"c": {platform: "tiktok", requested: at("2026-04-01T00:00:00Z"), status: api.TakedownRequested},
		"d": {platform: "x", requested: at("2026-03-31T00:00:00Z"), status: api.TakedownDone, done: at("2026-04-03T12:00:00Z")},
		"e": {platform: "x", status: api.TakedownDone, done: at("2026-04-03T12:00:00Z")},
	}
	want := []TakedownMonth{
		{Month: "2026-03", Platform: "x", Requested: 3, TakenDown: 2, Refused: 1, MedianDays: ptr(2.5)}, // 1.5 and 3.5 days
		{Month: "2026-04", Platform: "tiktok", Requested: 1, Pending: 1},
	}
	if got := takedownMonths(cases); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
