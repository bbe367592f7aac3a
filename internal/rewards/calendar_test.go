package rewards

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAddCalendarMonths(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	type args struct {
		t time.Time
		n int
	}
	cases := map[string]struct {
		reason string
		args   args
		want   time.Time
	}{
		"EndOfNovemberToFebruary": {
			reason: "O4: 30 Nov 2026 + 3 calendar months is 28 Feb 2027, not 2 March",
			args:   args{utc(2026, time.November, 30, 0, 0, 0), 3},
			want:   utc(2027, time.February, 28, 0, 0, 0),
		},
		"EndOfNovemberToLeapFebruary": {
			reason: "O4: 30 Nov 2027 + 3 calendar months is 29 Feb 2028 (leap year)",
			args:   args{utc(2027, time.November, 30, 0, 0, 0), 3},
			want:   utc(2028, time.February, 29, 0, 0, 0),
		},
		"EndOfJanuary": {
			reason: "O3: 31 Jan 2027 + 1 is 28 Feb 2027",
			args:   args{utc(2027, time.January, 31, 12, 0, 0), 1},
			want:   utc(2027, time.February, 28, 12, 0, 0),
		},
		"EndOfJanuaryLeap": {
			reason: "O3: 31 Jan 2028 + 1 is 29 Feb 2028",
			args:   args{utc(2028, time.January, 31, 12, 0, 0), 1},
			want:   utc(2028, time.February, 29, 12, 0, 0),
		},
		"EndOfMarch": {
			reason: "O3: 31 Mar + 1 is 30 Apr",
			args:   args{utc(2026, time.March, 31, 8, 0, 0), 1},
			want:   utc(2026, time.April, 30, 8, 0, 0),
		},
		"LeapDayPlusYear": {
			reason: "S4: 29 Feb 2024 + 12 calendar months is 28 Feb 2025",
			args:   args{utc(2024, time.February, 29, 0, 0, 0), 12},
			want:   utc(2025, time.February, 28, 0, 0, 0),
		},
		"TimeOfDayPreserved": {
			reason: "O2/S4: the time of day, to the nanosecond, is kept",
			args:   args{time.Date(2026, time.May, 15, 17, 42, 9, 123456789, time.UTC), 3},
			want:   time.Date(2026, time.August, 15, 17, 42, 9, 123456789, time.UTC),
		},
		"AcrossYearEnd": {
			reason: "S4: +12 across the year end lands on the same day next year",
			args:   args{utc(2025, time.December, 31, 23, 59, 59), 12},
			want:   utc(2026, time.December, 31, 23, 59, 59),
		},
		"AcrossYearEndShort": {
			reason: "O3: 15 Nov + 3 crosses the year end",
			args:   args{utc(2025, time.November, 15, 10, 0, 0), 3},
			want:   utc(2026, time.February, 15, 10, 0, 0),
		},
		"Zero": {
			reason: "O4: 0 months is the same instant",
			args:   args{utc(2026, time.January, 31, 1, 2, 3), 0},
			want:   utc(2026, time.January, 31, 1, 2, 3),
		},
		"Negative": {
			reason: "S4: going back a month clamps too: 31 Mar - 1 is 28 Feb",
			args:   args{utc(2026, time.March, 31, 0, 0, 0), -1},
			want:   utc(2026, time.February, 28, 0, 0, 0),
		},
		"Location": {
			reason: "O3: the wall clock of the time's own location is kept across a DST change",
			args:   args{time.Date(2026, time.January, 31, 9, 30, 0, 0, paris), 3},
			want:   time.Date(2026, time.April, 30, 9, 30, 0, 0, paris),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := AddCalendarMonths(tc.args.t, tc.args.n)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nAddCalendarMonths(%s, %d): -want, +got:\n%s", tc.reason, tc.args.t, tc.args.n, diff)
			}
		})
	}
}

func TestEarliestAndAfter(t *testing.T) {
	a, b := utc(2026, time.January, 1, 0, 0, 0), utc(2026, time.February, 1, 0, 0, 0)
	cases := map[string]struct {
		reason string
		got    *time.Time
		want   *time.Time
	}{
		"BothNil":       {reason: "S4: no instant at all", got: earliest(nil, nil), want: nil},
		"FirstNil":      {reason: "S4: nil is no candidate", got: earliest(nil, &b), want: &b},
		"SecondNil":     {reason: "S4: nil is no candidate", got: earliest(&a, nil), want: &a},
		"Earlier":       {reason: "S4: the earlier instant wins", got: earliest(&b, &a), want: &a},
		"Equal":         {reason: "S4: equal instants", got: earliest(&a, &a), want: &a},
		"AfterFuture":   {reason: "O2: a future instant is a candidate", got: after(b, a), want: &b},
		"AfterNow":      {reason: "O2: now itself is not in the future", got: after(a, a), want: nil},
		"AfterPastTime": {reason: "O2: a past instant is no candidate", got: after(a, b), want: nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
