package stats

import (
	"time"

	"github.com/jarimu/jarimu/problem"
)

// The period an aggregate covers: DefaultDays (30) UTC calendar days ending
// today unless the caller says otherwise, at most MaxDays (366), and no
// day before FirstDay.
const (
	DefaultDays = 30
	MaxDays     = 366
	dayLayout   = time.DateOnly
)

// FirstDay is the earliest day a period may start on.
var FirstDay = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Period is a run of whole UTC days, From and To both included.
type Period struct {
	From, To time.Time // midnight UTC
}

// End is the first instant after the period.
func (p Period) End() time.Time { return p.To.AddDate(0, 0, 1) }

// Days is how many days the period holds.
func (p Period) Days() int { return int(p.End().Sub(p.From) / (24 * time.Hour)) }

// ParsePeriod reads the query's from and to (YYYY-MM-DD, either may be
// ""): to defaults to today (UTC) or, with only from given, to the last day
// of DefaultDays from it (not past today); from defaults to DefaultDays
// ending at to. A malformed date, from after to, a period longer than
// MaxDays, one starting before FirstDay or ending after today is
// bad-query.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	today := midnight(now.UTC())
	var p Period
	var err error
	if from != "" {
		if p.From, err = parseDay("from", from); err != nil {
			return p, err
		}
	}
	switch {
	case to != "":
		if p.To, err = parseDay("to", to); err != nil {
			return p, err
		}
	case from != "":
		p.To = p.From.AddDate(0, 0, DefaultDays-1)
		if p.To.After(today) {
			p.To = today
		}
	default:
		p.To = today
	}
	if from == "" {
		p.From = p.To.AddDate(0, 0, 1-DefaultDays)
	}
	switch {
	case p.To.After(today):
		return p, problem.BadQueryType.New("to must not be after today (%s, UTC)", today.Format(dayLayout))
	case p.From.After(p.To):
		return p, problem.BadQueryType.New("from must not be after to")
	case p.From.Before(FirstDay):
		return p, problem.BadQueryType.New("from must not be before %s", FirstDay.Format(dayLayout))
	case p.Days() > MaxDays:
		return p, problem.BadQueryType.New("a period holds at most %d days", MaxDays)
	}
	return p, nil
}

func parseDay(name, v string) (time.Time, error) {
	t, err := time.Parse(dayLayout, v)
	if err != nil || len(v) != len(dayLayout) {
		return t, problem.BadQueryType.New("%s must be a date as YYYY-MM-DD", name)
	}
	return t, nil
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
