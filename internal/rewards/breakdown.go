package rewards

import (
	"math/big"
	"sort"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// BreakdownOffersLimit is how many offers a breakdown lists one by one; the
// rest are summed as others, so that a publisher's status stays small
// whatever its number of offers.
const BreakdownOffersLimit = 20

// ExcludedReasons are the reasons a line is left out of billed sales, in
// the order a breakdown lists them.
var ExcludedReasons = []string{
	v1alpha1.SalesFraudProven,
	v1alpha1.SalesCancelled,
	v1alpha1.SalesNoExchangeRate,
	v1alpha1.SalesOutsideWindow,
	v1alpha1.SalesOfferNotTransact,
	v1alpha1.SalesOfferNotFound,
	v1alpha1.ReasonInvalidAmount,
}

// tally gathers, line by line while ComputeTierDetail sums them, what
// explains the result: the breakdown, and the changes to come for the
// forecast.
type tally struct {
	rules *Rules
	now   time.Time

	offers   map[string]*offerTally
	excluded [7]excludedTally // indexed like ExcludedReasons

	// Forecast (Trailing12Months only): the changes to come, and the live
	// Transact offers now.
	trailing     bool
	changes      []change
	liveTransact int
}

type offerTally struct {
	billed big.Int
	lines  int32
}

type excludedTally struct {
	amount      big.Int
	lines       int32
	withoutRate int32
}

func newTally(rules *Rules, now time.Time) *tally {
	return &tally{
		rules:    rules,
		now:      now,
		offers:   map[string]*offerTally{},
		trailing: rules.Window == v1alpha1.SalesWindowTrailing12Months,
	}
}

// line takes one evaluated line into account.
func (t *tally) line(rec *v1alpha1.SalesRecord, offer *v1alpha1.Offer, v *LineVerdict) {
	if v.Counted {
		o := t.offers[offer.Name]
		if o == nil {
			o = &offerTally{}
			t.offers[offer.Name] = o
		}
		o.billed.Add(&o.billed, v.ProgramAmount.int())
		o.lines++
		if t.trailing && v.NextChange != nil {
			t.changes = append(t.changes, change{at: *v.NextChange, billed: v.ProgramAmount.int(), seats: v.Seats, sign: -1})
		}
		return
	}

	e := &t.excluded[excludedIndex(v.Reason)]
	e.lines++
	amount := v.ProgramAmount
	if amount == nil && v.Reason == v1alpha1.SalesOfferNotFound {
		// The verdict stops at the missing offer; the amount is still known.
		amount = programAmount(&rec.Spec, t.rules)
	}
	switch {
	case amount != nil:
		e.amount.Add(&e.amount, amount.int())
	case v.Reason != v1alpha1.ReasonInvalidAmount:
		e.withoutRate++
	}

	// A line billed in the future enters the window at its billedAt.
	if t.trailing && v.Reason == v1alpha1.SalesOutsideWindow && t.now.Before(rec.Spec.BilledAt.Time) {
		at := rec.Spec.BilledAt.Time
		if w := evaluateLine(&rec.Spec, offer, t.rules, at); w.Counted {
			t.changes = append(t.changes, change{at: at, billed: w.ProgramAmount.int(), seats: w.Seats, sign: +1})
			if w.NextChange != nil {
				t.changes = append(t.changes, change{at: *w.NextChange, billed: w.ProgramAmount.int(), seats: w.Seats, sign: -1})
			}
		}
	}
}

// excludedIndex is the index of reason in ExcludedReasons.
func excludedIndex(reason string) int {
	for i, r := range ExcludedReasons {
		if r == reason {
			return i
		}
	}
	return len(ExcludedReasons) - 1 // never: every exclusion has a listed reason
}

// programAmount is a line's amount in program currency; nil when it does
// not parse or its currency has no rate.
func programAmount(rec *v1alpha1.SalesRecordSpec, rules *Rules) *Money {
	amount, err := ParseMoney(string(rec.Amount))
	if err != nil {
		return nil
	}
	if rec.Currency == rules.Currency {
		return &amount
	}
	if rate, ok := rules.Rates[rec.Currency]; ok {
		converted := amount.Convert(rate)
		return &converted
	}
	return nil
}

// breakdown is status.breakdown: the counted sales of the largest
// BreakdownOffersLimit offers (by name when equal), the rest summed, and
// the exclusions per reason.
func (t *tally) breakdown() v1alpha1.SalesBreakdown {
	var b v1alpha1.SalesBreakdown
	names := make([]string, 0, len(t.offers))
	for name := range t.offers {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		if c := t.offers[names[i]].billed.Cmp(&t.offers[names[j]].billed); c != 0 {
			return c > 0
		}
		return names[i] < names[j]
	})
	var others *v1alpha1.OtherOffersSales
	var othersBilled big.Int
	for i, name := range names {
		o := t.offers[name]
		if i < BreakdownOffersLimit {
			b.Offers = append(b.Offers, v1alpha1.OfferSales{Offer: name, BilledSales: moneyOf(&o.billed), Lines: o.lines})
			continue
		}
		if others == nil {
			others = &v1alpha1.OtherOffersSales{}
		}
		others.Offers++
		others.Lines += o.lines
		othersBilled.Add(&othersBilled, &o.billed)
	}
	if others != nil {
		others.BilledSales = moneyOf(&othersBilled)
		b.Others = others
	}
	for i, reason := range ExcludedReasons {
		e := &t.excluded[i]
		if e.lines == 0 {
			continue
		}
		b.Excluded = append(b.Excluded, v1alpha1.ExcludedSales{
			Reason:           v1alpha1.ExcludedSalesReason(reason),
			Lines:            e.lines,
			Amount:           moneyOf(&e.amount),
			LinesWithoutRate: e.withoutRate,
		})
	}
	return b
}

// moneyOf formats an exact sum of millionths as a status amount. Every sum
// here is part of a sum of the publisher's lines, which fits (see
// MaxDerivedMoneyDigits).
func moneyOf(micros *big.Int) v1alpha1.DerivedMoney {
	return v1alpha1.DerivedMoney(Money{micros: micros}.String())
}
