package rewards

import (
	"math/big"
	"sort"

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

// offerTally is an offer's counted sales in a breakdown.
type offerTally struct {
	billed big.Int
	lines  int32
}

// excludedTally is the lines excluded for one reason in a breakdown.
type excludedTally struct {
	amount      big.Int
	lines       int32
	withoutRate int32
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
func (l *Ledger) breakdown() v1alpha1.SalesBreakdown {
	var b v1alpha1.SalesBreakdown
	names := make([]string, 0, len(l.byOffer))
	for name := range l.byOffer {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		if c := l.byOffer[names[i]].billed.Cmp(&l.byOffer[names[j]].billed); c != 0 {
			return c > 0
		}
		return names[i] < names[j]
	})
	var others *v1alpha1.OtherOffersSales
	var othersBilled big.Int
	for i, name := range names {
		o := l.byOffer[name]
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
		e := &l.excludedSales[i]
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
