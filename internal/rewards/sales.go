package rewards

import (
	"fmt"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// LineVerdict is whether one sales line counts towards its publisher's tier,
// and why.
type LineVerdict struct {
	Counted bool
	// Reason is one of the v1alpha1.Sales* reasons.
	Reason  string
	Message string
	// Settled is true when the verdict is final under the current specs
	// (counted, or excluded by a rule), false while the line waits for
	// something that can be fixed: a missing offer or exchange rate.
	Settled bool
	// Publisher of the line's offer; empty when the offer is missing.
	Publisher string
	// ProgramAmount is the amount in program currency; nil without a rate.
	ProgramAmount *Money
	// Rounded is true when ProgramAmount is the converted amount rounded to
	// six decimal places, the exact product having more.
	Rounded bool
	// Seats counted from this line (rule S5).
	Seats int64
	// Fraud is the line's fraud state, None when unset.
	Fraud v1alpha1.FraudState
	// NextChange is the next instant the verdict changes by itself: the line
	// being billed (entering the window) or leaving a trailing window.
	NextChange *time.Time
}

// WindowBounds returns whether a line billed at billedAt is inside the sales
// window at now (rule S4) and when that next changes. A line billed in the
// future is not counted until it is billed. With Trailing12Months, a line
// leaves the sum at the exact instant it is twelve calendar months old.
func WindowBounds(window v1alpha1.SalesWindow, billedAt, now time.Time) (inside bool, next *time.Time) {
	if now.Before(billedAt) {
		return false, &billedAt
	}
	if window != v1alpha1.SalesWindowTrailing12Months {
		return true, nil
	}
	leaves := AddCalendarMonths(billedAt, 12)
	if now.Before(leaves) {
		return true, &leaves
	}
	return false, nil
}

// EvaluateLine decides whether a sales line counts (rules S1, S2, S3, S4,
// S5), and explains it. offer is nil when the referenced Offer does not
// exist.
func EvaluateLine(rec *v1alpha1.SalesRecordSpec, offer *v1alpha1.Offer, rules *Rules, now time.Time) LineVerdict {
	v := evaluateLine(rec, offer, rules, now)
	if v.Counted {
		v.Message = fmt.Sprintf("counts %s %s towards %s's billed sales", v.ProgramAmount, rules.Currency, v.Publisher)
		if rec.Seats > 0 && v.Seats == 0 && IsMicrosoft365App(&offer.Spec) {
			v.Message += fmt.Sprintf("; its %d seats were billed after the seats cut-off and do not count (S5)", rec.Seats)
		}
	}
	if v.Rounded {
		// S2: the conversion is exact but for this one rounding, which the
		// line states so that no one wonders where the difference went.
		rate := rules.Rates[rec.Currency]
		amount, _ := ParseMoney(string(rec.Amount)) // parsed by evaluateLine already
		v.Message += fmt.Sprintf("; %s %s at rate %s is %s %s exactly, rounded half to even to 6 decimal places: %s %s",
			rec.Amount, rec.Currency, rate, amount.ExactProduct(rate), rules.Currency, v.ProgramAmount, rules.Currency)
	}
	return v
}

// evaluateLine is EvaluateLine without the message of a counted line, which
// is most lines: summing a publisher's thousands of lines has no use for it,
// and formatting it was most of the summing's cost.
func evaluateLine(rec *v1alpha1.SalesRecordSpec, offer *v1alpha1.Offer, rules *Rules, now time.Time) LineVerdict {
	v := LineVerdict{Fraud: rec.Fraud}
	if v.Fraud == "" {
		v.Fraud = v1alpha1.FraudNone
	}
	if offer == nil {
		v.Reason = v1alpha1.SalesOfferNotFound
		v.Message = fmt.Sprintf("offer %q does not exist in this namespace; the line counts once it does", rec.OfferRef.Name)
		return v
	}
	v.Publisher = offer.Spec.PublisherRef.Name

	amount, err := ParseMoney(string(rec.Amount))
	if err != nil { // admission forbids this; never crash on it
		v.Reason, v.Message, v.Settled = v1alpha1.ReasonInvalidAmount, "spec.amount: "+err.Error(), true
		return v
	}
	if rec.Currency == rules.Currency {
		v.ProgramAmount = &amount
	} else if rate, ok := rules.Rates[rec.Currency]; ok {
		converted, rounded := amount.ConvertRounded(rate)
		v.ProgramAmount, v.Rounded = &converted, rounded
	}

	switch {
	case offer.Spec.ListingType != v1alpha1.ListingTypeTransact:
		v.Reason, v.Settled = v1alpha1.SalesOfferNotTransact, true
		v.Message = fmt.Sprintf("offer %q is a %s offer; only Transact offers' sales count towards tiers (S1)", offer.Name, offer.Spec.ListingType)
		return v
	case v.Fraud == v1alpha1.FraudProven:
		v.Reason, v.Settled = v1alpha1.SalesFraudProven, true
		v.Message = "the transaction is proven fraudulent and does not count (S3)"
		return v
	case rec.Cancellation != nil:
		v.Reason, v.Settled = v1alpha1.SalesCancelled, true
		v.Message = fmt.Sprintf("the purchase was cancelled (%s) and does not count (S3)", rec.Cancellation.Reason)
		return v
	case v.ProgramAmount == nil:
		v.Reason = v1alpha1.SalesNoExchangeRate
		v.Message = fmt.Sprintf("the program has no exchange rate from %s to %s; the line counts once spec.exchangeRates gives one (S2)",
			rec.Currency, rules.Currency)
		return v
	}

	inside, next := WindowBounds(rules.Window, rec.BilledAt.Time, now)
	v.NextChange = next
	v.Settled = true
	if !inside {
		v.Reason = v1alpha1.SalesOutsideWindow
		if now.Before(rec.BilledAt.Time) {
			v.Message = "the line is billed in the future and counts from spec.billedAt"
		} else {
			v.Message = "the line is older than the program's Trailing12Months window (S4)"
		}
		return v
	}

	v.Counted, v.Reason = true, v1alpha1.SalesCounted
	if rec.Seats > 0 && IsMicrosoft365App(&offer.Spec) && !rec.BilledAt.After(rules.SeatsCutoff) {
		v.Seats = rec.Seats
	}
	return v
}
