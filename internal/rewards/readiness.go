package rewards

import (
	"fmt"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Readiness is a Ready condition: what someone waiting on the object is
// told (docs/design.md, "The decision pipeline").
type Readiness struct {
	Ready   bool
	Reason  string
	Message string
}

// notReady is why an object is not Ready: its program decides nothing, or
// a derived value does not fit its status; nil when neither.
func notReady(prog ProgramState, outOfRange []*Problem) *Readiness {
	if reason, message := prog.NotInForce(); reason != "" {
		return &Readiness{Reason: reason, Message: message}
	}
	if p := FirstProblem(outOfRange...); p != nil {
		return &Readiness{Reason: p.Reason, Message: p.Message}
	}
	return nil
}

// PublisherReadiness is a publisher's Ready condition: its tier computed
// under the rules in force (S7), or why not. outOfRange are derived values
// its status cannot hold.
func PublisherReadiness(prog ProgramState, res TierResult, outOfRange ...*Problem) Readiness {
	if r := notReady(prog, outOfRange); r != nil {
		return *r
	}
	msg := TierSentence(res, prog.Rules.Currency)
	if superseded := prog.Superseded(); superseded != "" {
		msg += "; " + superseded
	}
	return Readiness{Ready: true, Reason: v1alpha1.ReasonTierComputed, Message: msg}
}

// TierSentence explains a tier in one sentence (rule S7): what was counted,
// the tier reached, and what the next tier needs. `kubectl describe` shows
// it, so it stays short; the breakdown is in status.breakdown.
func TierSentence(res TierResult, currency v1alpha1.CurrencyCode) string {
	msg := fmt.Sprintf("%s %s billed sales and %d seats counted", res.BilledSales, currency, res.Seats)
	if res.Tier > 0 {
		msg = fmt.Sprintf("%s reached: %s", res.TierName, msg)
	} else {
		msg = "no tier: " + msg
	}
	n := res.Next
	switch {
	case n == nil:
	case n.NeedsLiveTransactOffer:
		msg += fmt.Sprintf("; %s needs a live Transact offer", n.Name)
	default:
		msg += fmt.Sprintf("; %s needs %s %s more", n.Name, n.BilledSalesMissing, currency)
		if n.SeatsMissing != nil {
			msg += fmt.Sprintf(" or %d more seats", *n.SeatsMissing)
		}
	}
	return msg
}

// StandingOf is a publisher's compliance (P5): Violation while any
// violation is recorded, Good otherwise.
func StandingOf(spec *v1alpha1.PublisherSpec) v1alpha1.Standing {
	if len(spec.Violations) > 0 {
		return v1alpha1.StandingViolation
	}
	return v1alpha1.StandingGood
}

// OfferReadiness is an offer's Ready condition: its phase (O2) once its
// publisher exists and its program has rules in force, or why not.
// outOfRange are derived values its status cannot hold.
func OfferReadiness(offer *v1alpha1.Offer, publisherFound bool, prog ProgramState, facts OfferFacts, outOfRange ...*Problem) Readiness {
	if !publisherFound {
		return Readiness{Reason: v1alpha1.ReasonPublisherNotFound, Message: fmt.Sprintf(
			"publisher %q does not exist in namespace %q; create it or fix spec.publisherRef", offer.Spec.PublisherRef.Name, offer.Namespace)}
	}
	if r := notReady(prog, outOfRange); r != nil {
		return *r
	}
	var msg string
	switch facts.Phase {
	case v1alpha1.OfferScheduled:
		msg = "goes live at " + offer.Spec.LiveAt.UTC().Format(time.RFC3339)
	case v1alpha1.OfferDelisted:
		msg = "delisted at " + offer.Spec.DelistedAt.UTC().Format(time.RFC3339)
	default:
		msg = "live since " + offer.Spec.LiveAt.UTC().Format(time.RFC3339)
	}
	return Readiness{Ready: true, Reason: string(facts.Phase), Message: msg}
}

// LineReadiness is a sales line's Ready condition (S1–S5): True once its
// verdict is settled (counted, or excluded by a rule), False while it waits
// for something that can be fixed (a missing offer, an exchange rate) or
// when its program amount does not fit status.
func LineReadiness(v LineVerdict, outOfRange *Problem) Readiness {
	if outOfRange != nil {
		return Readiness{Reason: outOfRange.Reason, Message: outOfRange.Message}
	}
	return Readiness{Ready: v.Settled, Reason: v.Reason, Message: v.Message}
}

// ProgramReadiness is a program's Ready condition: its rules in force
// (spec valid), or the first of its problems, saying which earlier rules
// stay in force (the revision lastRevision, of program generation
// lastGeneration; "" when none ever was valid).
func ProgramReadiness(rules *Rules, problems []Problem, lastRevision string, lastGeneration int64) Readiness {
	if len(problems) == 0 {
		return Readiness{Ready: true, Reason: v1alpha1.ReasonValid, Message: fmt.Sprintf("%d tiers and %d benefits in force; billed sales in %s over a %s window",
			len(rules.Tiers), len(rules.Catalog), rules.Currency, rules.Window)}
	}
	msg := problems[0].Message
	if len(problems) > 1 {
		msg = fmt.Sprintf("%s (and %d more problems)", msg, len(problems)-1)
	}
	if lastRevision != "" {
		msg += fmt.Sprintf("; the rules of generation %d (RewardsProgramRevision %s) stay in force", lastGeneration, lastRevision)
	} else {
		msg += "; no rules are in force: publishers following this program get no tier until it is fixed"
	}
	return Readiness{Reason: problems[0].Reason, Message: msg}
}
