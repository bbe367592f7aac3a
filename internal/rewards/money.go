// Package rewards holds the rules of the Marketplace Rewards program as pure
// functions: no Kubernetes client, no clock of its own, no I/O. Controllers
// gather objects from the cache, call these functions with the time, and
// write what they return into status. Each function names the rule ids of
// docs/rules.md it implements, and so do its table tests.
package rewards

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// microsPerUnit is the resolution of Money: amounts carry at most six
// decimal places (the API's Money pattern), so an integer count of
// millionths holds every valid amount exactly.
const microsPerUnit = 1_000_000

var bigMicros = big.NewInt(microsPerUnit)

// Money is an exact non-negative amount, stored as an integer number of
// millionths of a currency unit (rule S2: never a float). The zero value is 0.
type Money struct {
	micros *big.Int
}

// ZeroMoney is 0.
func ZeroMoney() Money { return Money{} }

func (m Money) int() *big.Int {
	if m.micros == nil {
		return new(big.Int)
	}
	return m.micros
}

// ParseMoney parses a decimal string of digits with at most six decimal
// places, such as "25000" or "1234.56". Signs, exponents, spaces and
// thousands separators are errors: the API admits none of them.
func ParseMoney(s string) (Money, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return Money{}, fmt.Errorf("%q is not a decimal amount: digits with an optional fraction, like 1234.56", s)
	}
	if len(frac) > 6 {
		return Money{}, fmt.Errorf("%q has more than 6 decimal places", s)
	}
	digits := intPart + frac + strings.Repeat("0", 6-len(frac))
	v, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Money{}, fmt.Errorf("%q is not a decimal amount", s)
	}
	return Money{micros: v}, nil
}

// MustParseMoney is ParseMoney for constants in code and tests.
func MustParseMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Add returns m + o.
func (m Money) Add(o Money) Money {
	return Money{micros: new(big.Int).Add(m.int(), o.int())}
}

// Sub returns m - o, or zero when o exceeds m (a gap is never negative).
func (m Money) Sub(o Money) Money {
	d := new(big.Int).Sub(m.int(), o.int())
	if d.Sign() < 0 {
		return Money{}
	}
	return Money{micros: d}
}

// Cmp compares m and o: -1, 0 or +1.
func (m Money) Cmp(o Money) int { return m.int().Cmp(o.int()) }

// IsZero reports whether m is 0.
func (m Money) IsZero() bool { return m.int().Sign() == 0 }

// String formats m with at least two and at most six decimal places, with no
// trailing zeros beyond the second: "25000.00", "1234.5678".
func (m Money) String() string {
	q, r := new(big.Int).QuoRem(m.int(), bigMicros, new(big.Int))
	// The six digits of the fraction, zero-padded: 1 followed by them,
	// without the 1 (strconv is much cheaper than fmt here, and statuses
	// and simulate format thousands of amounts).
	frac := strconv.FormatInt(microsPerUnit+r.Int64(), 10)[1:]
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return q.String() + "." + frac
}

// Rate is an exact positive exchange rate: units of program currency per
// unit of another currency.
type Rate struct {
	r *big.Rat
}

// ParseRate parses a positive decimal such as "1.08".
func ParseRate(s string) (Rate, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return Rate{}, fmt.Errorf("rate %q is not a decimal number like 1.08", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return Rate{}, fmt.Errorf("rate %q is not a decimal number like 1.08", s)
	}
	if r.Sign() <= 0 {
		return Rate{}, fmt.Errorf("rate %q must be greater than zero", s)
	}
	return Rate{r: r}, nil
}

// String formats the rate as the exact decimal it was parsed from, without
// trailing zeros: "1.08", "0.000000000001".
func (rate Rate) String() string {
	if rate.r == nil {
		return "1"
	}
	return exactDecimal(rate.r)
}

// exactDecimal formats r, whose denominator divides a power of ten (a
// product of decimals), with as many decimal places as it needs.
func exactDecimal(r *big.Rat) string {
	places, scaled := 0, new(big.Rat).Set(r)
	for !scaled.IsInt() && places < 64 {
		scaled.Mul(scaled, big.NewRat(10, 1))
		places++
	}
	return r.FloatString(places)
}

// Convert returns m × rate, rounded half to even to the nearest millionth.
// Rounding happens once per line, so sums of converted lines stay exact sums
// of what each line shows.
func (m Money) Convert(rate Rate) Money {
	c, _ := m.ConvertRounded(rate)
	return c
}

// ConvertRounded is Convert that also reports whether the exact product had
// more than six decimal places, so that rounding changed it.
func (m Money) ConvertRounded(rate Rate) (Money, bool) {
	if rate.r == nil {
		return m, false
	}
	p := new(big.Rat).Mul(new(big.Rat).SetInt(m.int()), rate.r)
	num, den := p.Num(), p.Denom()
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	// Round half to even: compare 2r with den.
	twice := new(big.Int).Lsh(r, 1)
	switch twice.Cmp(den) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return Money{micros: q}, r.Sign() != 0
}

// ExactProduct formats m × rate exactly, with as many decimal places as it
// needs: what ConvertRounded rounds.
func (m Money) ExactProduct(rate Rate) string {
	if rate.r == nil {
		return m.String()
	}
	return exactDecimal(new(big.Rat).Mul(new(big.Rat).SetFrac(m.int(), bigMicros), rate.r))
}
