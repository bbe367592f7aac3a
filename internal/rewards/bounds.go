package rewards

import (
	"fmt"
	"math/big"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// What a status field can hold. Admission bounds the inputs so that nothing
// the operator derives from them goes beyond these limits (docs/rules.md,
// "Program safety"): amounts have at most 20 digits before the point and
// rates 12, so a converted line has at most 32 and a sum of lines fewer
// than 40; liveAt and billedAt are before the year 9000, and no derived
// instant is more than 120 months later. The checks below are the defence
// for what still gets through, such as objects stored before those bounds
// existed: a status holding one value its schema refuses cannot be written
// at all, and the object would keep a stale status, Ready=True included.

// MaxDerivedMoneyDigits is how many digits before the decimal point a
// status amount (v1alpha1.DerivedMoney) holds.
const MaxDerivedMoneyDigits = 40

// The range of instants a status field holds: the API server reads and
// writes instants in RFC 3339, whose years have four digits.
var (
	EarliestStatusInstant = time.Date(0, time.January, 1, 0, 0, 0, 0, time.UTC)
	LatestStatusInstant   = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)
)

var maxDerivedMoney = new(big.Int).Mul(
	new(big.Int).Exp(big.NewInt(10), big.NewInt(MaxDerivedMoneyDigits), nil), bigMicros)

// StatusMoney returns m as a status amount. When m has more digits before
// the point than MaxDerivedMoneyDigits, it returns "" and a problem naming
// field: the caller leaves the field empty and shows the problem as
// Ready=False.
func StatusMoney(field string, m Money) (v1alpha1.DerivedMoney, *Problem) {
	if m.int().Cmp(maxDerivedMoney) >= 0 {
		q := new(big.Int).Quo(m.int(), bigMicros)
		return "", &Problem{v1alpha1.ReasonValueOutOfRange, fmt.Sprintf(
			"%s cannot be shown: the amount has %d digits before the decimal point, more than the %d the field holds",
			field, len(q.String()), MaxDerivedMoneyDigits)}
	}
	return v1alpha1.DerivedMoney(m.String()), nil
}

// StatusInstant returns t (nil for nil) as a status instant. When t,
// truncated to the second as status keeps it, is outside
// [EarliestStatusInstant, LatestStatusInstant], it returns nil and a
// problem naming field: the caller leaves the field empty and shows the
// problem as Ready=False.
func StatusInstant(field string, t *time.Time) (*time.Time, *Problem) {
	if t == nil {
		return nil, nil
	}
	s := t.Truncate(time.Second)
	if s.Before(EarliestStatusInstant) || s.After(LatestStatusInstant) {
		return nil, &Problem{v1alpha1.ReasonValueOutOfRange, fmt.Sprintf(
			"%s cannot be shown: %s is outside the years 0000 to 9999 that the API stores; "+
				"it is derived from an instant too far in the future (spec.liveAt and spec.billedAt must be before 9000-01-01T00:00:00Z)",
			field, s.UTC().Format(time.RFC3339))}
	}
	return t, nil
}

// FirstProblem returns the first of problems that is not nil, or nil.
func FirstProblem(problems ...*Problem) *Problem {
	for _, p := range problems {
		if p != nil {
			return p
		}
	}
	return nil
}
