package rewards

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AddCalendarMonths returns t plus n calendar months, keeping the time of
// day. When the target month is shorter than t's day of month, the result is
// the target month's last day: 30 November + 3 months is 28 (or 29)
// February, not 2 March as time.AddDate would say. This is how people read
// "expires three months after go-live" (rules O3, O4) and "twelve months"
// of a trailing window (rule S4).
func AddCalendarMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// earliest returns the earlier of a and b, either of which may be nil.
func earliest(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case b.Before(*a):
		return b
	default:
		return a
	}
}

// after returns &t when t is strictly after now, nil otherwise: a candidate
// for "the next instant at which the result changes by itself".
func after(t, now time.Time) *time.Time {
	if t.After(now) {
		return &t
	}
	return nil
}

// timePtr converts an optional API time to an optional time.
func timePtr(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}
