package rewards

import (
	"math/big"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseMoneyCases is shared by TestParseMoney and the seed corpus of
// FuzzParseMoney.
var parseMoneyCases = map[string]struct {
	reason  string
	in      string
	want    string // String() of the parsed amount
	wantErr bool
}{
	"Zero":             {reason: "S2: 0 is an amount", in: "0", want: "0.00"},
	"Integer":          {reason: "S2: an integer amount has no fraction", in: "25000", want: "25000.00"},
	"TwoDecimals":      {reason: "S2: cents are exact", in: "1234.56", want: "1234.56"},
	"OneMillionth":     {reason: "S2: six decimal places are the resolution", in: "0.000001", want: "0.000001"},
	"SixDecimals":      {reason: "S2: six decimal places are kept", in: "1.123456", want: "1.123456"},
	"TrailingZeros":    {reason: "S2: trailing zeros beyond the second are dropped", in: "1.100000", want: "1.10"},
	"TwentyDigits":     {reason: "S2: the API admits 20-digit integers and they stay exact", in: "99999999999999999999", want: "99999999999999999999.00"},
	"TwentyDigitsFrac": {reason: "S2: a 20-digit integer with six decimals stays exact", in: "12345678901234567890.123456", want: "12345678901234567890.123456"},
	"Empty":            {reason: "S2: an empty string is not an amount", in: "", wantErr: true},
	"Negative":         {reason: "S2: amounts are non-negative", in: "-5", wantErr: true},
	"Exponent":         {reason: "S2: exponents are not decimal amounts", in: "1e5", wantErr: true},
	"TrailingDot":      {reason: "S2: a dot needs a fraction", in: "1.", wantErr: true},
	"LeadingDot":       {reason: "S2: a fraction needs an integer part", in: ".5", wantErr: true},
	"SevenDecimals":    {reason: "S2: more than six decimals would be rounded, so they are refused", in: "1.2345678", wantErr: true},
	"LeadingSpace":     {reason: "S2: spaces are refused", in: " 1", wantErr: true},
	"TrailingSpace":    {reason: "S2: spaces are refused", in: "1 ", wantErr: true},
	"Thousands":        {reason: "S2: thousands separators are refused", in: "1,000", wantErr: true},
	"Plus":             {reason: "S2: signs are refused", in: "+1", wantErr: true},
	"Letters":          {reason: "S2: letters are not amounts", in: "abc", wantErr: true},
	"TwoDots":          {reason: "S2: one decimal point at most", in: "1.2.3", wantErr: true},
	"NonASCIIDigit":    {reason: "S2: only ASCII digits", in: "١٢", wantErr: true},
	"Float":            {reason: "S2: NaN is not an amount", in: "NaN", wantErr: true},
}

func TestParseMoney(t *testing.T) {
	for name, tc := range parseMoneyCases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMoney(tc.in)
			if diff := cmp.Diff(tc.wantErr, err != nil); diff != "" {
				t.Fatalf("%s\nParseMoney(%q): error %v; -want error, +got error:\n%s", tc.reason, tc.in, err, diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got.String()); diff != "" {
				t.Errorf("%s\nParseMoney(%q).String(): -want, +got:\n%s", tc.reason, tc.in, diff)
			}
		})
	}
}

func TestMustParseMoneyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("S2: MustParseMoney(\"-1\") should panic")
		}
	}()
	MustParseMoney("-1")
}

func TestMoneyString(t *testing.T) {
	cases := map[string]struct {
		reason string
		m      Money
		want   string
	}{
		"ZeroValue":   {reason: "S7: the zero Money shows as 0.00", m: Money{}, want: "0.00"},
		"ZeroMoney":   {reason: "S7: ZeroMoney shows as 0.00", m: ZeroMoney(), want: "0.00"},
		"Integer":     {reason: "S7: at least two decimals", m: MustParseMoney("25000"), want: "25000.00"},
		"FourDecimal": {reason: "S7: decimals beyond the second are kept when non-zero", m: MustParseMoney("1234.5678"), want: "1234.5678"},
		"OneDecimal":  {reason: "S7: one decimal is padded to two", m: MustParseMoney("0.5"), want: "0.50"},
		"Millionth":   {reason: "S7: the millionth is shown", m: MustParseMoney("7.000001"), want: "7.000001"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.m.String()); diff != "" {
				t.Errorf("%s\nString(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMoneyArithmetic(t *testing.T) {
	type args struct{ a, b string }
	type want struct {
		sum, diff string
		cmp       int
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"PointOnePlusPointTwo": {
			reason: "S2: 0.1 + 0.2 is exactly 0.3, unlike floats",
			args:   args{"0.1", "0.2"},
			want:   want{sum: "0.30", diff: "0.00", cmp: -1},
		},
		"Larger": {
			reason: "S2: sums and differences are exact",
			args:   args{"25000", "0.01"},
			want:   want{sum: "25000.01", diff: "24999.99", cmp: 1},
		},
		"Equal": {
			reason: "S7: an exact match leaves nothing missing",
			args:   args{"1234.56", "1234.560"},
			want:   want{sum: "2469.12", diff: "0.00", cmp: 0},
		},
		"SubNeverNegative": {
			reason: "S7: a gap is never negative: 3 - 10 is 0",
			args:   args{"3", "10"},
			want:   want{sum: "13.00", diff: "0.00", cmp: -1},
		},
		"Millionths": {
			reason: "S2: millionths add without loss",
			args:   args{"0.999999", "0.000001"},
			want:   want{sum: "1.00", diff: "0.999998", cmp: 1},
		},
		"Huge": {
			reason: "S2: 20-digit amounts add without overflow",
			args:   args{"99999999999999999999", "99999999999999999999.999999"},
			want:   want{sum: "199999999999999999998.999999", diff: "0.00", cmp: -1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, b := MustParseMoney(tc.args.a), MustParseMoney(tc.args.b)
			got := want{sum: a.Add(b).String(), diff: a.Sub(b).String(), cmp: a.Cmp(b)}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\n%s op %s: -want, +got:\n%s", tc.reason, tc.args.a, tc.args.b, diff)
			}
		})
	}
}

func TestMoneyZero(t *testing.T) {
	cases := map[string]struct {
		reason string
		m      Money
		want   bool
	}{
		"ZeroValue":  {reason: "S2: the zero value is 0", m: Money{}, want: true},
		"ParsedZero": {reason: "S2: \"0.000\" is 0", m: MustParseMoney("0.000"), want: true},
		"Millionth":  {reason: "S2: one millionth is not 0", m: MustParseMoney("0.000001"), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.m.IsZero()); diff != "" {
				t.Errorf("%s\nIsZero(): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, tc.m.Cmp(Money{}) == 0); diff != "" {
				t.Errorf("%s\nCmp(zero) == 0: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSumOfTenthsIsExact(t *testing.T) {
	// S2: ten lines of 0.1 add up to exactly 1, where float64 gives
	// 0.9999999999999999.
	sum := ZeroMoney()
	for range 10 {
		sum = sum.Add(MustParseMoney("0.1"))
	}
	if diff := cmp.Diff(MustParseMoney("1"), sum, cmpOpts...); diff != "" {
		t.Errorf("S2: ten times 0.1: -want, +got:\n%s", diff)
	}
}

func TestParseRate(t *testing.T) {
	cases := map[string]struct {
		reason  string
		in      string
		want    Rate
		wantErr bool
	}{
		"Decimal":      {reason: "S2: a decimal rate is exact", in: "1.08", want: Rate{big.NewRat(108, 100)}},
		"Integer":      {reason: "S2: an integer rate", in: "2", want: Rate{big.NewRat(2, 1)}},
		"Small":        {reason: "S2: a rate below 1", in: "0.000001", want: Rate{big.NewRat(1, 1_000_000)}},
		"TwelvePlaces": {reason: "S2: the API admits 12 decimal places", in: "0.123456789012", want: Rate{big.NewRat(123456789012, 1_000_000_000_000)}},
		"Zero":         {reason: "S2: a rate must be greater than zero", in: "0", wantErr: true},
		"ZeroDecimals": {reason: "S2: 0.000 is zero too", in: "0.000", wantErr: true},
		"Negative":     {reason: "S2: negative rates are refused", in: "-1.08", wantErr: true},
		"Empty":        {reason: "S2: an empty rate is refused", in: "", wantErr: true},
		"Garbage":      {reason: "S2: garbage is refused", in: "abc", wantErr: true},
		"Fraction":     {reason: "S2: a fraction like 1/2 is not a decimal", in: "1/2", wantErr: true},
		"Exponent":     {reason: "S2: exponents are refused", in: "1e3", wantErr: true},
		"TrailingDot":  {reason: "S2: a dot needs a fraction", in: "1.", wantErr: true},
		"LeadingDot":   {reason: "S2: a fraction needs an integer part", in: ".5", wantErr: true},
		"Space":        {reason: "S2: spaces are refused", in: " 1.08", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseRate(tc.in)
			if diff := cmp.Diff(tc.wantErr, err != nil); diff != "" {
				t.Fatalf("%s\nParseRate(%q): error %v; -want error, +got error:\n%s", tc.reason, tc.in, err, diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmpOpts...); diff != "" {
				t.Errorf("%s\nParseRate(%q): -want, +got:\n%s", tc.reason, tc.in, diff)
			}
		})
	}
}

func TestConvert(t *testing.T) {
	type args struct{ amount, rate string }
	cases := map[string]struct {
		reason string
		args   args
		want   string
		// rounded: the exact product has more than six decimal places.
		rounded bool
	}{
		"Exact": {
			reason: "S2: a product that fits in millionths is exact",
			args:   args{"1234.56", "1.08"},
			want:   "1333.3248",
		},
		"One": {
			reason: "S2: a rate of 1 changes nothing",
			args:   args{"99999999999999999999.999999", "1"},
			want:   "99999999999999999999.999999",
		},
		"TieOddRoundsUp": {
			reason:  "S2: 15.0000015 ends in 5 at the 7th decimal after an odd digit and rounds half to even, up to 15.000002",
			args:    args{"10.000001", "1.5"},
			want:    "15.000002",
			rounded: true,
		},
		"TieEvenRoundsDown": {
			reason:  "S2: 15.0000045 ends in 5 at the 7th decimal after an even digit and rounds half to even, down to 15.000004",
			args:    args{"10.000003", "1.5"},
			want:    "15.000004",
			rounded: true,
		},
		"TieHalfMillionthToZero": {
			reason:  "S2: half a millionth rounds half to even, down to 0",
			args:    args{"0.000001", "0.5"},
			want:    "0.00",
			rounded: true,
		},
		"TieOneAndAHalfMillionths": {
			reason:  "S2: 1.5 millionths rounds half to even, up to 2 millionths",
			args:    args{"0.000003", "0.5"},
			want:    "0.000002",
			rounded: true,
		},
		"TieTwoAndAHalfMillionths": {
			reason:  "S2: 2.5 millionths rounds half to even, down to 2 millionths",
			args:    args{"0.000005", "0.5"},
			want:    "0.000002",
			rounded: true,
		},
		"AboveHalfRoundsUp": {
			reason:  "S2: more than half a millionth rounds up",
			args:    args{"0.000001", "0.500000000001"},
			want:    "0.000001",
			rounded: true,
		},
		"BelowHalfRoundsDown": {
			reason:  "S2: less than half a millionth rounds down",
			args:    args{"0.000001", "0.499999999999"},
			want:    "0.00",
			rounded: true,
		},
		"RepeatingFraction": {
			reason:  "S2: 100 × 0.333333333333 = 33.3333333333 rounds to the nearest millionth",
			args:    args{"100", "0.333333333333"},
			want:    "33.333333",
			rounded: true,
		},
		"ZeroAmount": {
			reason: "S2: 0 converts to 0",
			args:   args{"0", "1.27"},
			want:   "0.00",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rate, err := ParseRate(tc.args.rate)
			if err != nil {
				t.Fatalf("ParseRate(%q): %v", tc.args.rate, err)
			}
			got, rounded := MustParseMoney(tc.args.amount).ConvertRounded(rate)
			if diff := cmp.Diff(tc.want, got.String()); diff != "" {
				t.Errorf("%s\n%s × %s: -want, +got:\n%s", tc.reason, tc.args.amount, tc.args.rate, diff)
			}
			if rounded != tc.rounded {
				t.Errorf("%s\n%s × %s: rounded = %v, want %v", tc.reason, tc.args.amount, tc.args.rate, rounded, tc.rounded)
			}
			if c := MustParseMoney(tc.args.amount).Convert(rate); c.Cmp(got) != 0 {
				t.Errorf("%s\nConvert = %s, ConvertRounded = %s", tc.reason, c, got)
			}
		})
	}
}

func TestConvertZeroRateValue(t *testing.T) {
	// S2: the zero Rate (no rate parsed) leaves the amount as it is rather
	// than crashing.
	m := MustParseMoney("12.34")
	if diff := cmp.Diff(m, m.Convert(Rate{}), cmpOpts...); diff != "" {
		t.Errorf("S2: Convert(Rate{}): -want, +got:\n%s", diff)
	}
}

// moneyPattern is the API's Money pattern, loosened to admit leading zeros
// and any number of integer digits, which ParseMoney also accepts.
var moneyPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,6})?$`)

// stringPattern is what Money.String produces.
var stringPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)\.[0-9]{2,6}$`)

// moneyToRat is the amount m in units, computed independently of Money.String.
func moneyToRat(m Money) *big.Rat { return new(big.Rat).SetFrac(m.int(), big.NewInt(microsPerUnit)) }

func decimalRat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("big.Rat cannot parse %q, which ParseMoney accepted", s)
	}
	return r
}

func FuzzParseMoney(f *testing.F) {
	seeds := make([]string, 0, len(parseMoneyCases))
	for _, tc := range parseMoneyCases {
		seeds = append(seeds, tc.in)
	}
	for i, a := range seeds {
		f.Add(a, seeds[(i+1)%len(seeds)])
	}
	f.Add("0.1", "0.2")
	f.Add("24999.99", "0.01")

	f.Fuzz(func(t *testing.T, a, b string) {
		ma, errA := ParseMoney(a)
		mb, errB := ParseMoney(b)

		// S2: exactly the decimal strings of digits with at most six
		// decimals parse.
		if got, want := errA == nil, moneyPattern.MatchString(a); got != want {
			t.Fatalf("S2: ParseMoney(%q) succeeded=%v, want %v (err %v)", a, got, want, errA)
		}
		if errA != nil || errB != nil {
			return
		}

		// Round trip through String.
		for _, m := range []Money{ma, mb} {
			s := m.String()
			if !stringPattern.MatchString(s) {
				t.Fatalf("S7: String() = %q is not a canonical decimal", s)
			}
			back, err := ParseMoney(s)
			if err != nil {
				t.Fatalf("S2: ParseMoney(String() = %q): %v", s, err)
			}
			if back.Cmp(m) != 0 {
				t.Fatalf("S2: ParseMoney(%q) = %s, want an equal amount", s, back)
			}
		}

		// The parsed value is the decimal value of the string.
		ra, rb := decimalRat(t, a), decimalRat(t, b)
		if moneyToRat(ma).Cmp(ra) != 0 {
			t.Fatalf("S2: ParseMoney(%q) = %s, want %s", a, moneyToRat(ma).FloatString(6), ra.FloatString(6))
		}

		// Add is exact.
		sum := new(big.Rat).Add(ra, rb)
		if got := moneyToRat(ma.Add(mb)); got.Cmp(sum) != 0 {
			t.Fatalf("S2: %q + %q = %s, want %s", a, b, got.FloatString(6), sum.FloatString(6))
		}

		// Sub is exact and never negative; Cmp agrees with big.Rat.
		diff := new(big.Rat).Sub(ra, rb)
		if diff.Sign() < 0 {
			diff.SetInt64(0)
		}
		if got := moneyToRat(ma.Sub(mb)); got.Cmp(diff) != 0 {
			t.Fatalf("S7: %q - %q = %s, want %s", a, b, got.FloatString(6), diff.FloatString(6))
		}
		if got, want := ma.Cmp(mb), ra.Cmp(rb); got != want {
			t.Fatalf("S2: Cmp(%q, %q) = %d, want %d", a, b, got, want)
		}
	})
}

func FuzzConvert(f *testing.F) {
	f.Add("1234.56", "1.08")
	f.Add("10.000001", "1.5")
	f.Add("10.000003", "1.5")
	f.Add("0.000001", "0.5")
	f.Add("0.000001", "0.500000000001")
	f.Add("99999999999999999999.999999", "999999999999.999999999999")
	f.Add("100", "0.333333333333")
	f.Add("0", "1")
	f.Add("1", "0")
	f.Add("abc", "1.08")
	f.Add("1", "-1")

	halfMicro := big.NewRat(1, 2*microsPerUnit)
	f.Fuzz(func(t *testing.T, amount, rate string) {
		m, errM := ParseMoney(amount)
		r, errR := ParseRate(rate)
		if errM != nil || errR != nil {
			return
		}
		got, rounded := m.ConvertRounded(r)
		if got.int().Sign() < 0 {
			t.Fatalf("S2: %s × %s = %s is negative", amount, rate, got)
		}
		exact := new(big.Rat).Mul(decimalRat(t, amount), decimalRat(t, rate))
		if shown := m.ExactProduct(r); decimalRat(t, shown).Cmp(exact) != 0 {
			t.Fatalf("S2: ExactProduct(%s × %s) = %s, want %s", amount, rate, shown, exact.FloatString(24))
		}
		dist := new(big.Rat).Sub(moneyToRat(got), exact)
		dist.Abs(dist)
		if rounded != (dist.Sign() != 0) {
			t.Fatalf("S2: %s × %s = %s reported rounded=%v, exact %s", amount, rate, got, rounded, exact.FloatString(24))
		}
		switch dist.Cmp(halfMicro) {
		case 1:
			t.Fatalf("S2: %s × %s = %s, more than half a millionth from %s", amount, rate, got, exact.FloatString(12))
		case 0:
			// A tie goes to the even millionth.
			if got.int().Bit(0) != 0 {
				t.Fatalf("S2: %s × %s = %s, a tie not rounded to even (exact %s)", amount, rate, got, exact.FloatString(12))
			}
		}
	})
}
