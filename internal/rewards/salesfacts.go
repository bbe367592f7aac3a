package rewards

import (
	"iter"
	"slices"
	"sort"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// SalesFacts is what the activation rules need to know about a publisher's
// sales: its tier now, the fraud reports (R3), and the lines themselves, so
// that R4 can look at the tier as it stood when a benefit was granted.
type SalesFacts struct {
	Tier                 int32
	BilledSales          Money
	Seats                int64
	HasLiveTransactOffer bool
	// Fraud lists the lines with fraud Suspected or Proven, by name.
	Fraud []FraudLine
	// NextChangeAt is when the tier may next change by itself (a line
	// ageing out or being billed, an offer going live).
	NextChangeAt *time.Time

	// The publisher's offers and sales lines under rules, for evaluating
	// them at another instant than now (R4, R6). Nil in facts built by
	// hand, which then know of no cancelled purchase.
	rules  *Rules
	offers []v1alpha1.Offer
	sales  []*sale
	// cancelled counts the cancelled purchases among sales.
	cancelled int
}

// FraudLine is a sales line reported as fraudulent.
type FraudLine struct {
	Name  string
	Offer string
	State v1alpha1.FraudState
}

// CancelledLine is a cancelled purchase and what it would add back.
type CancelledLine struct {
	Name   string
	Amount Money
	Seats  int64
	// CancelledAt is spec.cancellation.time; nil when not recorded.
	CancelledAt *time.Time
}

// SalesFactsFor gathers SalesFacts from a publisher's offers and sales lines.
func SalesFactsFor(rules *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) SalesFacts {
	sales := make([]*sale, len(records))
	for i := range records {
		sales[i] = ptrTo(saleOf(records[i].Name, &records[i].Spec))
	}
	return salesFactsOf(newLedger(rules, offers, len(sales), salesOfSales(sales), now, false, false, false).result(now), rules, offers, sales)
}

// salesOfSales gives the name and spec of each sale.
func salesOfSales(sales []*sale) iter.Seq2[string, *v1alpha1.SalesRecordSpec] {
	return func(yield func(string, *v1alpha1.SalesRecordSpec) bool) {
		for _, s := range sales {
			if !yield(s.name, &s.spec) {
				return
			}
		}
	}
}

// salesFactsOf is SalesFactsFor for a tier already computed from the same
// offers and lines (a ledger's).
func salesFactsOf(res TierResult, rules *Rules, offers []v1alpha1.Offer, sales []*sale) SalesFacts {
	f := salesFactsFrom(res, rules, offers)
	f.sales = sales
	for _, s := range sales {
		if s.spec.Fraud == v1alpha1.FraudSuspected || s.spec.Fraud == v1alpha1.FraudProven {
			f.Fraud = append(f.Fraud, FraudLine{Name: s.name, Offer: s.spec.OfferRef.Name, State: s.spec.Fraud})
		}
		if s.spec.Cancellation != nil {
			f.cancelled++
		}
	}
	sortFraud(f.Fraud)
	return f
}

// salesFactsFrom is the part of SalesFacts read from a tier result, with
// the rules and offers it was computed under; it knows of no line.
func salesFactsFrom(res TierResult, rules *Rules, offers []v1alpha1.Offer) SalesFacts {
	return SalesFacts{
		Tier: res.Tier, BilledSales: res.BilledSales, Seats: res.Seats,
		HasLiveTransactOffer: res.HasLiveTransactOffer, NextChangeAt: res.NextChangeAt,
		rules: rules, offers: offers,
	}
}

// sortFraud orders fraud reports by line name.
func sortFraud(fraud []FraudLine) {
	sort.Slice(fraud, func(i, j int) bool { return fraud[i].Name < fraud[j].Name })
}

// DecidesLike reports whether every activation decision made on s is made
// the same on o, both under the same rules: the same tier (B2, R4), live
// Transact offer, instant of the next change (when activations look
// again) and fraud reports (R3), and no cancelled purchase in either: R4
// looks at every line, as of each grant, when there is one. A publisher's
// new line that changes none of these (most new lines) changes no
// activation, which then need not be reconciled again.
func (s SalesFacts) DecidesLike(o SalesFacts) bool {
	return s.Tier == o.Tier && s.HasLiveTransactOffer == o.HasLiveTransactOffer &&
		sameInstant(s.NextChangeAt, o.NextChangeAt) && slices.Equal(s.Fraud, o.Fraud) &&
		s.cancelled == 0 && o.cancelled == 0
}

// sameInstant reports whether two optional instants are both absent or
// equal.
func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// CancelledLinesAt lists, by name, the cancelled purchases that would have
// counted at instant at were they not cancelled, with what each adds back.
func (s SalesFacts) CancelledLinesAt(at time.Time) []CancelledLine {
	byName := make(map[string]*v1alpha1.Offer, len(s.offers))
	for i := range s.offers {
		byName[s.offers[i].Name] = &s.offers[i]
	}
	var out []CancelledLine
	for _, line := range s.sales {
		if line.spec.Cancellation == nil {
			continue
		}
		uncancelled := line.spec
		uncancelled.Cancellation = nil
		if v := evaluateLine(&uncancelled, byName[line.spec.OfferRef.Name], s.rules, at); v.Counted {
			out = append(out, CancelledLine{Name: line.name, Amount: *v.ProgramAmount, Seats: v.Seats, CancelledAt: timePtr(line.spec.Cancellation.Time)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// cancellationCause names the cancelled purchase that alone had unlocked a
// benefit needing tier need, granted at grantedAt (R4). It looks at the
// publisher as it stood at grantedAt, with what is known now (R6): billing
// reports a cancellation after the fact, often dated before the grant, and
// the grant was then made on a purchase that did not count. If the tier was
// reached at grantedAt without the cancelled purchases, none of them
// unlocked it (a later drop is sales ageing out: R5). Otherwise the cause
// is the first cancelled line (by name) that alone restores the tier at
// grantedAt, or, when only several together do, the last of them.
func cancellationCause(s SalesFacts, need int32, grantedAt time.Time) (CancelledLine, bool) {
	if s.rules == nil {
		return CancelledLine{}, false
	}
	if s.cancelled == 0 {
		return CancelledLine{}, false // no cancelled purchase to be the cause
	}
	then := newLedger(s.rules, s.offers, len(s.sales), salesOfSales(s.sales), grantedAt, false, false, false).result(grantedAt)
	if then.Tier >= need {
		return CancelledLine{}, false
	}
	reaches := func(billed Money, seats int64) bool {
		tier, _, _ := TierFor(s.rules, billed, seats, then.HasLiveTransactOffer, grantedAt)
		return tier >= need
	}
	candidates := s.CancelledLinesAt(grantedAt)
	billed, seats := then.BilledSales, then.Seats
	for _, c := range candidates {
		if reaches(then.BilledSales.Add(c.Amount), then.Seats+c.Seats) {
			return c, true
		}
		billed, seats = billed.Add(c.Amount), seats+c.Seats
	}
	if len(candidates) > 0 && reaches(billed, seats) {
		return candidates[len(candidates)-1], true
	}
	return CancelledLine{}, false
}
