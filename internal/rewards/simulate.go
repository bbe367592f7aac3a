package rewards

import (
	"math/big"
	"slices"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Outcome is what a program makes of a publisher at one instant (rules
// S1–S7): its tier, the next tier and the gap to it, and the Transact
// benefits its tier unlocks.
type Outcome struct {
	Tier        int32
	TierName    string
	Next        *v1alpha1.TierProgress
	BilledSales Money
	Seats       int64
	// Unlocked are the Transact benefits the tier unlocks, its own and the
	// lower tiers', sorted by name.
	Unlocked []string
}

// LineOutcome is a sales line's verdict under one program.
type LineOutcome struct {
	Counted bool
	Reason  string
	// Amount in program currency; nil without a rate.
	Amount *Money
}

// LineChange is a sales line judged differently by two programs.
type LineChange struct {
	Record             string
	Offer              string
	Current, Candidate LineOutcome
}

// Comparison is a publisher under the program in force and under a
// candidate program, at the same instant.
type Comparison struct {
	Current, Candidate Outcome
	// Lines whose verdict changes, in the order of the records compared.
	Lines []LineChange
}

// TierChanged reports whether the candidate gives another tier.
func (c Comparison) TierChanged() bool { return c.Current.Tier != c.Candidate.Tier }

// NextTierChanged reports whether the next tier or the gap to it differs.
func (c Comparison) NextTierChanged() bool { return !sameProgress(c.Current.Next, c.Candidate.Next) }

// NewlyUnlocked are the Transact benefits the candidate unlocks and the
// program in force does not.
func (c Comparison) NewlyUnlocked() []string {
	return missingFrom(c.Candidate.Unlocked, c.Current.Unlocked)
}

// NoLongerUnlocked are the Transact benefits the program in force unlocks
// and the candidate does not.
func (c Comparison) NoLongerUnlocked() []string {
	return missingFrom(c.Current.Unlocked, c.Candidate.Unlocked)
}

// Changed reports whether the candidate changes anything of the
// publisher: tier, next tier, benefits unlocked, billed sales, or a line's
// verdict.
func (c Comparison) Changed() bool {
	return c.TierChanged() || c.NextTierChanged() || len(c.Lines) > 0 ||
		!slices.Equal(c.Current.Unlocked, c.Candidate.Unlocked) ||
		c.Current.BilledSales.Cmp(c.Candidate.BilledSales) != 0 || c.Current.Seats != c.Candidate.Seats
}

// ComparePrograms evaluates a publisher's offers and sales lines under the
// program in force and under a candidate, in one pass over the lines. A
// line that both programs judge alike (same program currency, window and
// seats cut-off, and the same rate for the line's currency) is evaluated
// once: a change of thresholds, tiers or catalog costs little more than
// computing the tier once, and a changed rate re-evaluates only the lines
// in that currency.
func ComparePrograms(current, candidate *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) Comparison {
	byName := make(map[string]*v1alpha1.Offer, len(offers))
	hasLiveTransactOffer := false
	for i := range offers {
		o := &offers[i]
		byName[o.Name] = o
		if o.Spec.ListingType == v1alpha1.ListingTypeTransact {
			phase, _ := OfferPhaseAt(&o.Spec, now)
			hasLiveTransactOffer = hasLiveTransactOffer || phase == v1alpha1.OfferLive
		}
	}

	sameRules := current.Currency == candidate.Currency && current.Window == candidate.Window && current.SeatsCutoff.Equal(candidate.SeatsCutoff)
	ratesDiffer := currenciesConvertedDifferently(current, candidate)
	var c Comparison
	var billedCur, billedCand big.Int
	var seatsCur, seatsCand int64
	for i := range records {
		rec := &records[i]
		offer := byName[rec.Spec.OfferRef.Name]
		a := evaluateLine(&rec.Spec, offer, current, now)
		b := a
		alike := sameRules && !ratesDiffer[rec.Spec.Currency]
		if !alike {
			b = evaluateLine(&rec.Spec, offer, candidate, now)
		}
		if a.Counted {
			billedCur.Add(&billedCur, a.ProgramAmount.int())
			seatsCur += a.Seats
		}
		if b.Counted {
			billedCand.Add(&billedCand, b.ProgramAmount.int())
			seatsCand += b.Seats
		}
		if !alike && verdictChanged(&a, &b) {
			c.Lines = append(c.Lines, LineChange{
				Record: rec.Name, Offer: rec.Spec.OfferRef.Name,
				Current:   LineOutcome{Counted: a.Counted, Reason: a.Reason, Amount: a.ProgramAmount},
				Candidate: LineOutcome{Counted: b.Counted, Reason: b.Reason, Amount: b.ProgramAmount},
			})
		}
	}
	c.Current = outcomeOf(current, Money{micros: &billedCur}, seatsCur, hasLiveTransactOffer, now)
	c.Candidate = outcomeOf(candidate, Money{micros: &billedCand}, seatsCand, hasLiveTransactOffer, now)
	return c
}

func outcomeOf(rules *Rules, billed Money, seats int64, hasLiveTransactOffer bool, now time.Time) Outcome {
	o := Outcome{BilledSales: billed, Seats: seats}
	o.Tier, o.TierName, o.Next = TierFor(rules, billed, seats, hasLiveTransactOffer, now)
	o.Unlocked = UnlockedBenefits(rules, o.Tier)
	return o
}

// UnlockedBenefits are the Transact benefits a tier unlocks: its own and
// every lower tier's (rule S6), sorted by name.
func UnlockedBenefits(rules *Rules, tier int32) []string {
	var out []string
	for _, t := range rules.Tiers {
		if t.Level <= tier {
			out = append(out, t.Benefits...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// currenciesConvertedDifferently are the currencies two programs convert
// differently: one has a rate for it and the other not, or another rate.
// With the same program currency, window and seats cut-off, these rates
// are all the line rules (S1–S5) read of a program.
func currenciesConvertedDifferently(a, b *Rules) map[v1alpha1.CurrencyCode]bool {
	differ := map[v1alpha1.CurrencyCode]bool{}
	for cur, ra := range a.Rates {
		if rb, ok := b.Rates[cur]; !ok || ra.r.Cmp(rb.r) != 0 {
			differ[cur] = true
		}
	}
	for cur := range b.Rates {
		if _, ok := a.Rates[cur]; !ok {
			differ[cur] = true
		}
	}
	return differ
}

func verdictChanged(a, b *LineVerdict) bool {
	if a.Counted != b.Counted || a.Reason != b.Reason || a.Seats != b.Seats || (a.ProgramAmount == nil) != (b.ProgramAmount == nil) {
		return true
	}
	return a.ProgramAmount != nil && a.ProgramAmount.Cmp(*b.ProgramAmount) != 0
}

func sameProgress(a, b *v1alpha1.TierProgress) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	seatsA, seatsB := int64(-1), int64(-1)
	if a.SeatsMissing != nil {
		seatsA = *a.SeatsMissing
	}
	if b.SeatsMissing != nil {
		seatsB = *b.SeatsMissing
	}
	return a.Level == b.Level && a.Name == b.Name && a.BilledSalesMissing == b.BilledSalesMissing &&
		seatsA == seatsB && a.NeedsLiveTransactOffer == b.NeedsLiveTransactOffer
}

// missingFrom returns the elements of sorted a that are not in sorted b.
func missingFrom(a, b []string) []string {
	var out []string
	for _, s := range a {
		if _, found := slices.BinarySearch(b, s); !found {
			out = append(out, s)
		}
	}
	return out
}
