package rewards

import (
	"math/big"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// change is something known now that changes a publisher's sum at an
// instant of the future: a counted line leaving the Trailing12Months window
// (sign -1), a line billed in the future entering it (sign +1), or a
// Transact offer going live (live +1) or being delisted (live -1).
type change struct {
	at     time.Time
	billed amount
	seats  int64
	sign   int8
	live   int8
	// owner is the ledger line the change comes from; nil for an offer's.
	owner *ledgerLine
}

// transactOfferChanges are a Transact offer's phase changes to come after
// now, for the forecast.
func transactOfferChanges(spec *v1alpha1.OfferSpec, phase v1alpha1.OfferPhase, now time.Time) []change {
	// The offer is live from liveAt until delistedAt (O2).
	liveAt, delistedAt := spec.LiveAt.Time, timePtr(spec.DelistedAt)
	if delistedAt != nil && !delistedAt.After(liveAt) {
		return nil // never live
	}
	var out []change
	if phase == v1alpha1.OfferScheduled {
		out = append(out, change{at: liveAt, live: +1})
	}
	if delistedAt != nil && delistedAt.After(now) {
		out = append(out, change{at: *delistedAt, live: -1})
	}
	return out
}

// forecast is status.forecast: under a Trailing12Months window, the first
// instant at which the tier falls below the tier reached now, playing the
// changes known now in time order (rules S4, S6). Lines leave the sum at
// the exact instant they are twelve calendar months old (WindowBounds), so
// the instant is exact; it is nil when nothing known makes the tier drop.
func (l *Ledger) forecast(res *TierResult) *v1alpha1.TierForecast {
	if !l.trailing || res.Tier == 0 || len(l.changes) == 0 {
		return nil
	}
	// l.changes is kept sorted by instant.
	var billed big.Int
	billed.Set(res.BilledSales.int())
	seats, live := res.Seats, l.liveTransact
	for i := 0; i < len(l.changes); {
		at := l.changes[i].at
		// Every change of the same instant at once.
		for ; i < len(l.changes) && l.changes[i].at.Equal(at); i++ {
			c := &l.changes[i]
			switch c.sign {
			case -1:
				c.billed.addTo(&billed, -1)
				seats -= c.seats
			case +1:
				c.billed.addTo(&billed, +1)
				seats += c.seats
			}
			live += int(c.live)
		}
		var tier int32
		var name string
		if reached := reachedTier(l.rules, Money{micros: &billed}, seats, live > 0); reached >= 0 {
			tier, name = l.rules.Tiers[reached].Level, l.rules.Tiers[reached].Name
		}
		if tier < res.Tier {
			if _, tooLate := StatusInstant("status.forecast.dropsAt", &at); tooLate != nil {
				return nil // beyond what status can hold (admission bounds the inputs)
			}
			// Whole seconds, as the API keeps them (the instants come from
			// API objects, which have no fraction of a second).
			return &v1alpha1.TierForecast{
				DropsAt:     metav1.NewTime(at.Truncate(time.Second)),
				Tier:        tier,
				TierName:    name,
				BilledSales: moneyOf(&billed),
				Seats:       seats,
			}
		}
	}
	return nil
}
