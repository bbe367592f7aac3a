package rewards

import (
	"fmt"
	"strings"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Check is one named, ordered step of the decision for an activation not
// yet granted: a small pure function of the activation's input that says
// whether the step lets it go on, and if not, why (cert-manager's
// policies.Chain is the model). DecideActivation and `kubectl rewards
// explain activation` run the same chain, so the reason an activation
// waits is the first check explain shows failing.
type Check struct {
	// Name identifies the check, in kebab case ("enrolled").
	Name string
	// Rule is the id of the rule the check comes from ("P2", docs/rules.md).
	Rule string
	// Title says what must hold, for people ("publisher enrolled").
	Title string
	// Reference: the checks after this one read the object or rules it
	// checks for, and cannot be evaluated while it fails.
	Reference bool
	// Check decides. It may assume the reference checks before it pass.
	Check func(in ActivationInput) CheckResult
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	Passed bool
	// Reason is the Ready condition's reason when the check fails (one of
	// the Reason* constants), "" when it passes.
	Reason string
	// Message explains the outcome, passed or failed.
	Message string
	// Wait is when a failed check may start holding by itself (an offer
	// going live); nil when only a change of spec can fix it.
	Wait *time.Time
	// Phase is where a failed check leaves the activation: Pending (the
	// zero value), OptedOut, or a terminal Expired or Revoked.
	Phase v1alpha1.ActivationPhase
	// Revocation is a failed check's revocation (Phase Revoked).
	Revocation *Revocation
	// ExpiresAt is when the benefit expired (Phase Expired).
	ExpiresAt *time.Time
}

// CheckOutcome is a check with its outcome, as ExplainChain lists them.
type CheckOutcome struct {
	Name, Rule, Title string
	CheckResult
	// Evaluated is false when an earlier reference check failed and this
	// one could not be evaluated without what it checks for.
	Evaluated bool
}

// NotGrantedChain decides an activation not yet granted, in order: its name
// free (R7), what it refers to (B1), its publication not ended (O4, R2),
// not opted out (O6), the publisher in good standing (R1) with no fraud
// reported (R3), then the prerequisites of B2 in B2's order: enrolled, a
// marketing contact where P4 needs one, the offer Live, the benefit
// offered for the listing type, then one-time use (B3) or the tier (S6).
// The first check that fails decides; when all pass, it becomes Active.
var NotGrantedChain = []Check{
	{Name: "name-free", Rule: "R7", Title: "name not held by another benefit's grant", Check: checkNameFree},
	{Name: "offer-exists", Rule: "B1", Title: "offer exists", Reference: true, Check: checkOfferExists},
	{Name: "publisher-exists", Rule: "B1", Title: "publisher exists", Reference: true, Check: checkPublisherExists},
	{Name: "program-valid", Rule: "B1", Title: "program exists and is valid", Reference: true, Check: checkProgramValid},
	{Name: "benefit-in-catalog", Rule: "B1", Title: "benefit in the program's catalog", Reference: true, Check: checkBenefitInCatalog},
	{Name: "publication-open", Rule: "O4/R2", Title: "publication not ended (expired or delisted)", Check: checkPublicationOpen},
	{Name: "not-opted-out", Rule: "O6", Title: "not opted out", Check: checkNotOptedOut},
	{Name: "good-standing", Rule: "R1", Title: "publisher in good standing (no violation)", Check: checkGoodStanding},
	{Name: "no-fraud-reported", Rule: "R3", Title: "no fraud reported (Transact)", Check: checkNoFraud},
	{Name: "enrolled", Rule: "P2", Title: "publisher enrolled", Check: checkEnrolled},
	{Name: "marketing-contact", Rule: "P4", Title: "marketing contact where needed", Check: checkMarketingContact},
	{Name: "offer-live", Rule: "O2", Title: "offer Live", Check: checkOfferLive},
	{Name: "listing-type", Rule: "B2", Title: "benefit offered for the listing type", Check: checkListingType},
	{Name: "one-time-use-or-tier", Rule: "B3/S6", Title: "one-time use, or tier reached for Transact", Check: checkOneTimeUseOrTier},
}

// firstFailing runs NotGrantedChain and returns the outcome of the first
// check that fails; ok is false when every check passes. afterReferences
// says whether every reference check passed before it: then the benefit's
// catalog entry and the offer's instants are known.
func firstFailing(in ActivationInput) (result CheckResult, afterReferences, ok bool) {
	references := 0
	for _, c := range NotGrantedChain {
		if c.Reference {
			references++
		}
	}
	for _, c := range NotGrantedChain {
		r := c.Check(in)
		if !r.Passed {
			return r, references == 0, true
		}
		if c.Reference {
			references--
		}
	}
	return CheckResult{Passed: true}, true, false
}

// ExplainChain runs NotGrantedChain in order and returns every outcome: what
// `kubectl rewards explain activation` prints. After a failed reference
// check the checks after it cannot be evaluated and are returned with
// Evaluated false.
func ExplainChain(in ActivationInput) []CheckOutcome {
	out := make([]CheckOutcome, 0, len(NotGrantedChain))
	referencesHold := true
	for _, c := range NotGrantedChain {
		o := CheckOutcome{Name: c.Name, Rule: c.Rule, Title: c.Title}
		if referencesHold {
			o.CheckResult, o.Evaluated = c.Check(in), true
			referencesHold = o.Passed || !c.Reference
		}
		out = append(out, o)
	}
	return out
}

func passed(format string, args ...any) CheckResult {
	return CheckResult{Passed: true, Message: fmt.Sprintf(format, args...)}
}

func failed(reason, message string) CheckResult {
	return CheckResult{Reason: reason, Message: message}
}

// benefitOf is the catalog entry of the activation's benefit.
func benefitOf(in ActivationInput) v1alpha1.Benefit {
	return in.Program.Rules.Catalog[in.Activation.Spec.Benefit]
}

func checkNameFree(in ActivationInput) CheckResult {
	if held := in.NameHeldBy; held != nil {
		return failed(v1alpha1.ReasonNameHeldByGrant, nameHeldMessage(in.Activation, held))
	}
	return passed("no grant of another offer or benefit holds the name %q", in.Activation.Name)
}

func checkOfferExists(in ActivationInput) CheckResult {
	if in.Offer == nil {
		return failed(missingReference(in))
	}
	return passed("offer %q (%s) exists", in.Offer.Name, in.Offer.Spec.ListingType)
}

func checkPublisherExists(in ActivationInput) CheckResult {
	if in.Publisher == nil {
		return failed(missingReference(in))
	}
	return passed("publisher %q exists", in.Publisher.Name)
}

func checkProgramValid(in ActivationInput) CheckResult {
	if reason, msg := missingReference(in); reason != "" {
		return failed(reason, msg)
	}
	if superseded := in.Program.Superseded(); superseded != "" {
		return passed("%s", superseded)
	}
	return passed("the publisher follows RewardsProgram %q, which is valid", in.Program.Name)
}

func checkBenefitInCatalog(in ActivationInput) CheckResult {
	b, ok := in.Program.Rules.Catalog[in.Activation.Spec.Benefit]
	if !ok {
		return failed(v1alpha1.ReasonUnknownBenefit, fmt.Sprintf("benefit %q is not in the catalog of RewardsProgram %q (B1)",
			in.Activation.Spec.Benefit, in.Program.Name))
	}
	types := make([]string, len(b.ListingTypes))
	for i, lt := range b.ListingTypes {
		types[i] = string(lt)
	}
	return passed("benefit %q is a %s benefit for %s offers", b.Name, b.Category, strings.Join(types, ", "))
}

// checkPublicationOpen: a publication that ended ends its activations not
// granted too (O4, R2), whichever came first when both did. Nothing was
// granted, so nothing is recorded: both follow from the offer's spec and
// the clock.
func checkPublicationOpen(in ActivationInput) CheckResult {
	offer := in.Offer
	phase, _ := OfferPhaseAt(&offer.Spec, in.Now)
	expiresAt := BenefitsExpireAt(&offer.Spec, in.Program.Rules)
	expired := expiresAt != nil && !in.Now.Before(*expiresAt)
	if phase == v1alpha1.OfferDelisted && (!expired || offer.Spec.DelistedAt.Time.Before(*expiresAt)) {
		r := delisting(offer)
		return CheckResult{Reason: string(r.Reason), Message: r.Message, Phase: v1alpha1.ActivationRevoked, Revocation: &r}
	}
	if expired {
		return CheckResult{Reason: v1alpha1.ReasonExpired, Message: expiredMessage(expiresAt), Phase: v1alpha1.ActivationExpired, ExpiresAt: expiresAt}
	}
	if expiresAt != nil {
		return passed("the benefits of offer %q expire at %s", offer.Name, expiresAt.UTC().Format(time.RFC3339))
	}
	return passed("offer %q is not delisted and its benefits do not expire", offer.Name)
}

func checkEnrolled(in ActivationInput) CheckResult {
	if !in.Publisher.Spec.Enrolled {
		return failed(v1alpha1.ReasonNotEnrolled, fmt.Sprintf("publisher %q is not enrolled; set spec.enrolled to take part (P2)", in.Publisher.Name))
	}
	return passed("publisher %q is enrolled", in.Publisher.Name)
}

func checkGoodStanding(in ActivationInput) CheckResult {
	pub := in.Publisher
	if v, found := latestViolation(pub); found {
		return failed(v1alpha1.ReasonViolation, violationMessage(pub, v)+"; removing the violation lets this benefit proceed")
	}
	return passed("publisher %q has no violation recorded", pub.Name)
}

func checkNoFraud(in ActivationInput) CheckResult {
	if in.Offer.Spec.ListingType != v1alpha1.ListingTypeTransact {
		return passed("fraud reports only hold Transact benefits (R3)")
	}
	scope := in.Program.Rules.FraudScope
	if f, found := fraudInScope(in.Sales.Fraud, scope, in.Offer.Name); found {
		return failed(v1alpha1.ReasonFraud, fraudMessage(f, scope))
	}
	return passed("no sales record in scope %s is reported as fraud", scope)
}

func checkMarketingContact(in ActivationInput) CheckResult {
	b, pub := benefitOf(in), in.Publisher
	switch {
	case !needsContact(b.Category):
		return passed("%s benefits need no marketing contact (P4)", b.Category)
	case pub.Spec.MarketingContact == nil:
		return failed(v1alpha1.ReasonMarketingContactMissing, fmt.Sprintf("%s benefits need a marketing contact: set spec.marketingContact on publisher %q (P4)",
			b.Category, pub.Name))
	}
	return passed("publisher %q has a marketing contact", pub.Name)
}

func checkOfferLive(in ActivationInput) CheckResult {
	offer := in.Offer
	switch phase, next := OfferPhaseAt(&offer.Spec, in.Now); phase {
	case v1alpha1.OfferScheduled:
		r := failed(v1alpha1.ReasonOfferNotLive, fmt.Sprintf("offer %q goes live at %s (B2)", offer.Name, offer.Spec.LiveAt.UTC().Format(time.RFC3339)))
		r.Wait = next
		return r
	}
	return passed("offer %q is Live since %s", offer.Name, offer.Spec.LiveAt.UTC().Format(time.RFC3339))
}

func checkNotOptedOut(in ActivationInput) CheckResult {
	if reason, msg := optedOut(in); reason != "" {
		r := failed(reason, msg)
		r.Phase = v1alpha1.ActivationOptedOut
		return r
	}
	return passed("neither the activation nor offer %q is opted out", in.Offer.Name)
}

func checkListingType(in ActivationInput) CheckResult {
	b, offer := benefitOf(in), in.Offer
	if !forListingType(b, offer.Spec.ListingType) {
		return failed(v1alpha1.ReasonNotForListingType, fmt.Sprintf("benefit %q is for %v offers, and offer %q is %s (B2)",
			b.Name, b.ListingTypes, offer.Name, offer.Spec.ListingType))
	}
	return passed("benefit %q is offered for %s offers", b.Name, offer.Spec.ListingType)
}

// checkOneTimeUseOrTier is B3 for List, Trial and Consulting offers (a
// granted sibling, or else the oldest, has the benefit) and the tier (S6)
// for Transact ones.
func checkOneTimeUseOrTier(in ActivationInput) CheckResult {
	b, offer := benefitOf(in), in.Offer
	if offer.Spec.ListingType != v1alpha1.ListingTypeTransact {
		if holder, used := oneTimeUse(in); holder != in.Activation.Name {
			return failed(v1alpha1.ReasonAlreadyUsed, alreadyUsedMessage(b.Name, holder, offer.Name, used))
		}
		return passed("benefit %q is used once per offer and this activation is the one to use it for offer %q (B3)", b.Name, offer.Name)
	}
	need := in.Program.Rules.BenefitTier[b.Name]
	if in.Sales.Tier < need {
		return failed(v1alpha1.ReasonTierNotReached, tierNotReachedMessage(in, b.Name, need, false))
	}
	return passed("benefit %q needs tier %d and publisher %q is at tier %d", b.Name, need, in.Publisher.Name, in.Sales.Tier)
}
