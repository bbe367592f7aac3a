package rewards

import (
	"math"
	"math/big"
	"testing"
)

// A line's amount held inline adds to and takes from a sum exactly as
// big.Int arithmetic does, on either side of the int64 range.
func TestAmountAddsLikeBigInt(t *testing.T) {
	huge := new(big.Int).Lsh(big.NewInt(1), 70)
	for _, tc := range []struct {
		name   string
		sum, x *big.Int
	}{
		{"small amounts", big.NewInt(1_500_000), big.NewInt(250_000)},
		{"zero sum", big.NewInt(0), big.NewInt(7)},
		{"to the int64 edge", big.NewInt(math.MaxInt64 - 10), big.NewInt(10)},
		{"past the int64 edge", big.NewInt(math.MaxInt64 - 10), big.NewInt(11)},
		{"a sum beyond int64", new(big.Int).Add(huge, big.NewInt(3)), big.NewInt(5)},
		{"an amount beyond int64", big.NewInt(42), huge},
		{"below zero and back", big.NewInt(3), big.NewInt(5)},
		{"past the least int64", big.NewInt(math.MinInt64 + 2), big.NewInt(3)},
	} {
		for _, sign := range []int{+1, -1} {
			want := new(big.Int)
			if sign > 0 {
				want.Add(tc.sum, tc.x)
			} else {
				want.Sub(tc.sum, tc.x)
			}
			got := new(big.Int).Set(tc.sum)
			amountOf(new(big.Int).Set(tc.x)).addTo(got, sign)
			if got.Cmp(want) != 0 {
				t.Errorf("%s, sign %+d: %s, want %s", tc.name, sign, got, want)
			}
		}
	}
}
