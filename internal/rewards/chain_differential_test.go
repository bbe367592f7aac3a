package rewards

import (
	"fmt"

	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// Status and explain cannot disagree: over generated activations not yet
// granted, the first check `kubectl rewards explain activation` shows
// failing is what the decision shows (its reason, or for a revocation its
// cause), and an Active decision is one where every check passes.
func TestExplainAgreesWithTheDecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 27))
	benefits := []string{"go-live-blog", "sales-kit", "engagement-manager", "listing-badge", "co-sell", "azure-credits", "no-such-benefit"}
	listingTypes := []v1alpha1.ListingType{v1alpha1.ListingTypeList, v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting, v1alpha1.ListingTypeTransact}
	seen := map[string]int{}
	for i := range 5000 {
		in := generatedInput(rng, benefits, listingTypes)
		d := DecideActivation(in)
		if err := explainAgrees(ExplainChain(in), d); err != nil {
			t.Fatalf("input %d (benefit %s, offer %s, publisher %v): %v", i, in.Activation.Spec.Benefit, offerOf(in), in.Publisher != nil, err)
		}
		seen[string(d.Phase)+"/"+d.Reason]++
	}
	// The generator must reach every way the chain can decide, or the test
	// proves little.
	for _, want := range []string{
		"Active/Active", "Pending/" + v1alpha1.ReasonNameHeldByGrant, "Pending/" + v1alpha1.ReasonOfferNotFound,
		"Pending/" + v1alpha1.ReasonPublisherNotFound, "Pending/" + v1alpha1.ReasonProgramNotFound, "Pending/" + v1alpha1.ReasonUnknownBenefit,
		"Revoked/Revoked", "Expired/Expired", "OptedOut/" + v1alpha1.ReasonOptedOut, "OptedOut/" + v1alpha1.ReasonOfferOptedOut,
		"Pending/" + v1alpha1.ReasonViolation, "Pending/" + v1alpha1.ReasonFraud, "Pending/" + v1alpha1.ReasonNotEnrolled,
		"Pending/" + v1alpha1.ReasonMarketingContactMissing, "Pending/" + v1alpha1.ReasonOfferNotLive, "Pending/" + v1alpha1.ReasonNotForListingType,
		"Pending/" + v1alpha1.ReasonAlreadyUsed, "Pending/" + v1alpha1.ReasonTierNotReached,
	} {
		if seen[want] == 0 {
			t.Errorf("no generated input decided %s (decided: %v)", want, seen)
		}
	}
}

func offerOf(in ActivationInput) string {
	if in.Offer == nil {
		return "missing"
	}
	return fmt.Sprintf("%+v", in.Offer.Spec)
}

// explainAgrees says how the first failing check of chain and the
// decision d disagree; nil when they agree.
func explainAgrees(chain []CheckOutcome, d ActivationDecision) error {
	var first *CheckOutcome
	for k := range chain {
		if chain[k].Evaluated && !chain[k].Passed {
			first = &chain[k]
			break
		}
	}
	switch {
	case d.Phase == v1alpha1.ActivationActive && first == nil:
		return nil
	case d.Phase == v1alpha1.ActivationActive:
		return fmt.Errorf("active, but explain shows %s failing: %s", first.Name, first.Message)
	case first == nil:
		return fmt.Errorf("%s/%s, but explain shows every check passing", d.Phase, d.Reason)
	case d.Phase == v1alpha1.ActivationRevoked:
		if !cmp.Equal(first.Revocation, d.Revocation) {
			return fmt.Errorf("revoked by %+v, but explain's first failing check %s says %+v", d.Revocation, first.Name, first.CheckResult)
		}
		return nil
	}
	phase := first.Phase
	if phase == "" {
		phase = v1alpha1.ActivationPending
	}
	if first.Reason != d.Reason || phase != d.Phase {
		return fmt.Errorf("%s/%s (%s), but explain's first failing check is %s: %s/%s (%s)", d.Phase, d.Reason, d.Message,
			first.Name, phase, first.Reason, first.Message)
	}
	return nil
}

// generatedInput is an activation not yet granted, with every input the
// chain reads drawn at random: the name held or not, references missing,
// the offer's type, phase and opt-out, the publisher's standing, enrolment
// and contact, fraud, the tier, a sibling that used the benefit.
func generatedInput(rng *rand.Rand, benefits []string, listingTypes []v1alpha1.ListingType) ActivationInput {
	var actMods []build.ActivationOption
	if chance(rng, 0.1) {
		actMods = append(actMods, build.ActivationOptedOut())
	}
	act := baActivation("act", "offer", benefits[rng.IntN(len(benefits))], baCreated, actMods...)
	in := baInput(act, generatedOffer(rng, listingTypes), baPub(generatedPublisher(rng)...), baSales(baTier(int32(rng.IntN(6)))))
	if chance(rng, 0.1) {
		in.Sales.Fraud = []FraudLine{{Name: "line-1", Offer: "offer", State: v1alpha1.FraudSuspected}}
	}
	if chance(rng, 0.2) {
		// A sibling of the same benefit, older, or newer and granted.
		sibling := baActivation("older", "offer", act.Spec.Benefit, baCreated.Add(-time.Hour))
		if chance(rng, 0.5) {
			sibling = baActivation("newer", "offer", act.Spec.Benefit, baCreated.Add(time.Hour),
				baActive(baSince, v1alpha1.BenefitCategoryMarketing, nil))
		}
		baSiblings(sibling)(&in)
	}
	switch rng.IntN(20) {
	case 0:
		in.Offer = nil
	case 1:
		in.Publisher = nil
	case 2:
		in.Program = ProgramState{Name: "default", Missing: true, Rules: DefaultRules()}
	case 3:
		in.NameHeldBy = baGrantOf(baActivation("act", "offer", "other-benefit", baCreated, baActive(baSince, v1alpha1.BenefitCategoryMarketing, nil)))
	}
	return in
}

func chance(rng *rand.Rand, p float64) bool { return rng.Float64() < p }

// generatedOffer is an offer of a random listing type: live, scheduled, or
// live long enough for its benefits to have expired; delisted or opted out
// at times.
func generatedOffer(rng *rand.Rand, listingTypes []v1alpha1.ListingType) v1alpha1.Offer {
	liveAt := baLive
	switch rng.IntN(4) {
	case 0:
		liveAt = baNow.Add(time.Duration(1+rng.IntN(30*24)) * time.Hour)
	case 1:
		liveAt = baNow.AddDate(0, -4, 0)
	}
	var mods []build.OfferOption
	if chance(rng, 0.15) {
		mods = append(mods, build.DelistedAt(baNow.Add(time.Duration(rng.IntN(96)-48)*time.Hour)))
	}
	if chance(rng, 0.1) {
		mods = append(mods, build.OfferOptedOut())
	}
	return mkOffer("offer", listingTypes[rng.IntN(len(listingTypes))], liveAt, mods...)
}

// generatedPublisher: a violation, not enrolled, no contact, at times.
func generatedPublisher(rng *rand.Rand) []build.PublisherOption {
	var mods []build.PublisherOption
	for _, m := range []struct {
		p   float64
		mod build.PublisherOption
	}{{0.15, baViolation}, {0.15, build.NotEnrolled()}, {0.2, baNoContact}} {
		if chance(rng, m.p) {
			mods = append(mods, m.mod)
		}
	}
	return mods
}
