package rewards

import (
	"fmt"
	"strings"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Prerequisite is one named check of rule B2: a small pure function of an
// activation's input that says whether the prerequisite holds, and why.
type Prerequisite struct {
	// Name identifies the check, in kebab case ("enrolled").
	Name string
	// Rule is the id of the rule the check comes from ("P2", docs/rules.md).
	Rule string
	// Title says what must hold, for people ("publisher enrolled").
	Title string
	// Check decides. It may assume the references hold (see
	// ReferenceChecks): the offer, publisher and program exist, the program
	// has rules in force and its catalog names the benefit.
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
}

// PrerequisiteResult is a check with its outcome, as ExplainPrerequisites
// lists them.
type PrerequisiteResult struct {
	Name, Rule, Title string
	CheckResult
	// Evaluated is false when an earlier reference check failed and this
	// one could not be evaluated without the missing object.
	Evaluated bool
}

// ReferenceChecks are what must hold before any prerequisite can be
// judged: the objects an activation refers to exist and the program is
// usable (admission cannot check any of them).
var ReferenceChecks = []Prerequisite{
	{Name: "offer-exists", Rule: "B1", Title: "offer exists", Check: checkOfferExists},
	{Name: "publisher-exists", Rule: "B1", Title: "publisher exists", Check: checkPublisherExists},
	{Name: "program-valid", Rule: "B1", Title: "program exists and is valid", Check: checkProgramValid},
	{Name: "benefit-in-catalog", Rule: "B1", Title: "benefit in the program's catalog", Check: checkBenefitInCatalog},
}

// Prerequisites are the checks of rule B2 in B2's own order: the
// publisher enrolled and in good standing (no violation, R1; no fraud
// reported on a Transact offer, R3), a marketing contact where P4 needs
// one, the offer Live and not opted out (O2, O6), the benefit offered for
// the offer's listing type, then one-time use (B3) for List, Trial and
// Consulting offers or the tier reached for Transact ones (S6). An
// activation stays Pending on the first that fails.
var Prerequisites = []Prerequisite{
	{Name: "enrolled", Rule: "P2", Title: "publisher enrolled", Check: checkEnrolled},
	{Name: "good-standing", Rule: "R1", Title: "publisher in good standing (no violation)", Check: checkGoodStanding},
	{Name: "no-fraud-reported", Rule: "R3", Title: "no fraud reported (Transact)", Check: checkNoFraud},
	{Name: "marketing-contact", Rule: "P4", Title: "marketing contact where needed", Check: checkMarketingContact},
	{Name: "offer-live", Rule: "O2", Title: "offer Live", Check: checkOfferLive},
	{Name: "not-opted-out", Rule: "O6", Title: "not opted out", Check: checkNotOptedOut},
	{Name: "listing-type", Rule: "B2", Title: "benefit offered for the listing type", Check: checkListingType},
	{Name: "one-time-use-or-tier", Rule: "B3/S6", Title: "one-time use, or tier reached for Transact", Check: checkOneTimeUseOrTier},
}

// FirstFailingPrerequisite returns the first of Prerequisites that fails,
// and false when all hold. The references must hold (ReferenceChecks).
func FirstFailingPrerequisite(in ActivationInput) (CheckResult, bool) {
	for _, p := range Prerequisites {
		if r := p.Check(in); !r.Passed {
			return r, true
		}
	}
	return CheckResult{Passed: true}, false
}

// ExplainPrerequisites runs ReferenceChecks then Prerequisites, in order,
// and returns every outcome: what `kubectl rewards explain activation`
// prints. After a failed reference check the rest cannot be evaluated and
// are returned with Evaluated false.
func ExplainPrerequisites(in ActivationInput) []PrerequisiteResult {
	out := make([]PrerequisiteResult, 0, len(ReferenceChecks)+len(Prerequisites))
	referencesHold := true
	for _, p := range ReferenceChecks {
		r := PrerequisiteResult{Name: p.Name, Rule: p.Rule, Title: p.Title}
		if referencesHold {
			r.CheckResult, r.Evaluated = p.Check(in), true
			referencesHold = r.Passed
		}
		out = append(out, r)
	}
	for _, p := range Prerequisites {
		r := PrerequisiteResult{Name: p.Name, Rule: p.Rule, Title: p.Title}
		if referencesHold {
			r.CheckResult, r.Evaluated = p.Check(in), true
		}
		out = append(out, r)
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
	case v1alpha1.OfferDelisted:
		// decide ends the activation (R2) before asking; explain still
		// says why.
		return failed(string(v1alpha1.RevocationOfferDelisted), delisting(offer).message)
	}
	return passed("offer %q is Live since %s", offer.Name, offer.Spec.LiveAt.UTC().Format(time.RFC3339))
}

func checkNotOptedOut(in ActivationInput) CheckResult {
	if reason, msg := optedOut(in); reason != "" {
		return failed(reason, msg)
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
