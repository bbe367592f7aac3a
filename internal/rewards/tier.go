package rewards

import (
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// TierResult is a publisher's standing in the Transact program at one
// instant (rules S1–S7).
type TierResult struct {
	BilledSales Money
	Seats       int64
	// Tier is the level reached; 0 for none.
	Tier     int32
	TierName string
	// Next is the next tier and what is missing; nil at the top tier.
	Next *v1alpha1.TierProgress

	HasLiveTransactOffer bool
	Offers               v1alpha1.OfferCounts
	Counted, Excluded    int32
	// NextChangeAt is the next instant the result changes by itself: a line
	// ageing out of (or being billed into) the window, an offer going live
	// or being delisted (a Transact one changes the tier, any one changes
	// Offers.Live), or the seats cut-off passing while Next shows seats
	// missing.
	NextChangeAt *time.Time
}

// ComputeTier sums a publisher's counted sales lines and finds its tier.
// offers are the publisher's offers, records the sales lines of those
// offers (a record whose offer is not among offers counts as OfferNotFound).
//
// S6: the tier is the highest whose billed-sales or seats threshold is
// reached, and every tier needs at least one live Transact offer: without
// one, the tier is 0 whatever the sales.
func ComputeTier(rules *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) TierResult {
	return newLedger(rules, offers, len(records), salesOf(pointersTo(records)), now, false, false, false).result(now)
}

// TierDetail explains a TierResult: a publisher's status.breakdown and
// status.forecast.
type TierDetail struct {
	Breakdown v1alpha1.SalesBreakdown
	// Forecast is nil when the tier does not drop by itself (see
	// v1alpha1.TierForecast).
	Forecast *v1alpha1.TierForecast
}

// ComputeTierDetail is ComputeTier with what explains its result, gathered
// in the same pass over the lines: the breakdown of billed sales by offer
// and of what was excluded by reason, and, under a Trailing12Months window,
// the forecast of when the tier drops.
func ComputeTierDetail(rules *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) (TierResult, TierDetail) {
	l := newLedger(rules, offers, len(records), salesOf(pointersTo(records)), now, true, false, false)
	res := l.result(now)
	return res, l.detail(&res)
}

// pointersTo points to each element of s.
func pointersTo[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// TierFor finds the tier reached by the given billed sales and seats, and
// the next tier with the gap to it (rules S6, S7).
func TierFor(rules *Rules, billed Money, seats int64, hasLiveTransactOffer bool, now time.Time) (int32, string, *v1alpha1.TierProgress) {
	reached := reachedTier(rules, billed, seats, hasLiveTransactOffer)
	var level int32
	var name string
	if reached >= 0 {
		level, name = rules.Tiers[reached].Level, rules.Tiers[reached].Name
	}
	if reached+1 >= len(rules.Tiers) {
		return level, name, nil
	}
	next := rules.Tiers[reached+1]
	p := &v1alpha1.TierProgress{
		Level:                  next.Level,
		Name:                   next.Name,
		BilledSalesMissing:     v1alpha1.DerivedMoney(next.MinBilledSales.Sub(billed).String()),
		NeedsLiveTransactOffer: !hasLiveTransactOffer,
	}
	// Seats only help while seats can still be billed before the cut-off.
	if next.MinSeats != nil && !now.After(rules.SeatsCutoff) {
		missing := max(*next.MinSeats-seats, 0)
		p.SeatsMissing = &missing
	}
	return level, name, p
}

// reachedTier is the index in rules.Tiers of the tier reached, -1 for none
// (rule S6).
func reachedTier(rules *Rules, billed Money, seats int64, hasLiveTransactOffer bool) int {
	reached := -1
	if hasLiveTransactOffer {
		for i, t := range rules.Tiers {
			if billed.Cmp(t.MinBilledSales) >= 0 || (t.MinSeats != nil && seats >= *t.MinSeats) {
				reached = i
			}
		}
	}
	return reached
}

func countOffer(c *v1alpha1.OfferCounts, lt v1alpha1.ListingType) {
	switch lt {
	case v1alpha1.ListingTypeList:
		c.List++
	case v1alpha1.ListingTypeTrial:
		c.Trial++
	case v1alpha1.ListingTypeConsulting:
		c.Consulting++
	case v1alpha1.ListingTypeTransact:
		c.Transact++
	}
}

func ptrTo[T any](v T) *T { return &v }
