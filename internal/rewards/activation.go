package rewards

import (
	"fmt"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// ActivationInput is everything the activation decision depends on.
type ActivationInput struct {
	Activation *v1alpha1.BenefitActivation
	// Grant is the activation's BenefitGrant, the durable record that it
	// was granted: the grant of its namespace and name that records its
	// offer and benefit, whatever uid the activation had then (R7); nil
	// when there is none.
	Grant *v1alpha1.BenefitGrant
	// NameHeldBy is the BenefitGrant of the activation's name when it
	// records another offer or benefit: the name belongs to that record
	// (R7), and this activation cannot become Active under it.
	NameHeldBy *v1alpha1.BenefitGrant
	// Offer and Publisher are nil when they do not exist.
	Offer     *v1alpha1.Offer
	Publisher *v1alpha1.Publisher
	Program   ProgramState
	// Siblings are the activations of the same offer that could use a
	// benefit (this one may be among them), for the one-time-use rule
	// (B3): those whose name is held by a grant of another offer or
	// benefit never can, and are left out.
	Siblings []v1alpha1.BenefitActivation
	// SiblingGrants are the BenefitGrants of the same offer and benefit
	// that record other activations, whether those still exist or not
	// (B3, R8): a one-time benefit granted is used for good.
	SiblingGrants []v1alpha1.BenefitGrant
	Sales         SalesFacts
	Now           time.Time
}

// ActivationDecision is the status an activation should have, and what its
// BenefitGrant must record for it.
type ActivationDecision struct {
	Phase v1alpha1.ActivationPhase
	// Ready condition: True while Active with every reference resolved,
	// and once Expired (a normal end).
	Ready   bool
	Reason  string
	Message string

	Category     v1alpha1.BenefitCategory
	ActivatedAt  *time.Time
	ContactDueBy *time.Time
	ExpiresAt    *time.Time
	ExpiredAt    *time.Time
	Revocation   *Revocation

	// ContactOverdue is the ContactOverdue condition (B4); ContactReason and
	// ContactMessage explain it. Unset (empty reason) before activation.
	ContactOverdue bool
	ContactReason  string
	ContactMessage string

	// NextCheck is the next instant the decision changes by itself.
	NextCheck *time.Time

	// Record is what the BenefitGrant must record before the status is
	// written: a grant to create, or a revocation to add.
	Record Record
}

// DecideActivation computes an activation's phase and instants (rules O3–O6,
// B1–B5, R1–R6). It is a pure function of its input: the specs, the clock
// and the activation's BenefitGrant, so a status wiped and rebuilt is the
// same status. A granted benefit reads its instants and any revocation from
// the grant; one not yet granted is decided from the specs, and the
// decision says which grant to create when it becomes Active.
func DecideActivation(in ActivationInput) ActivationDecision {
	var grant *v1alpha1.BenefitGrantSpec
	if in.Grant != nil {
		grant = &in.Grant.Spec
	}
	var d ActivationDecision
	if grant != nil {
		d = decideGranted(in, grant)
	} else {
		d = decideNotGranted(in)
	}
	// A Transact benefit waiting for (or, without R5, keeping) a tier looks
	// again when the tier may change by itself.
	if in.Offer != nil && in.Offer.Spec.ListingType == v1alpha1.ListingTypeTransact &&
		(d.Phase == v1alpha1.ActivationPending || d.Phase == v1alpha1.ActivationActive) {
		d.NextCheck = earliest(d.NextCheck, in.Sales.NextChangeAt)
	}
	d.Record = recordFor(grant, in, d)
	return d
}

// decideGranted decides for a benefit that was granted: its instants come
// from the grant, a recorded revocation is final (B5), and only R1–R4 take
// it away (R5, R6). A missing or invalid reference pauses new decisions
// without demoting it.
func decideGranted(in ActivationInput, g *v1alpha1.BenefitGrantSpec) ActivationDecision {
	d := ActivationDecision{
		Category:     g.Category,
		ActivatedAt:  &g.ActivatedAt.Time,
		ContactDueBy: &g.ContactDueBy.Time,
		ExpiresAt:    timePtr(g.ExpiresAt),
	}
	if r := RevocationOfGrant(g.Revocation); r != nil {
		return d.revoked(r)
	}
	// O4: the grant's expiresAt decides, whatever the program says now.
	expired := d.ExpiresAt != nil && !in.Now.Before(*d.ExpiresAt)
	if reason, msg := missingReference(in); reason != "" {
		if expired {
			return d.expired()
		}
		return d.paused(in, reason, msg)
	}
	offer := in.Offer
	phase, offerNext := OfferPhaseAt(&offer.Spec, in.Now)
	// R2: when both instants have passed, the earlier one decides, so a
	// decision made late (after a restart) is the one made on time.
	if phase == v1alpha1.OfferDelisted && (!expired || offer.Spec.DelistedAt.Time.Before(*d.ExpiresAt)) {
		return d.revoke(delisting(offer), in.Now)
	}
	if expired {
		return d.expired()
	}
	d.NextCheck = earliest(d.ExpiresAt, offerNext)

	// R1, R3, R4 revoke what was granted, whatever the cause's date (R6);
	// an opted-out benefit was granted too.
	if c, found := revocationCause(in, g); found {
		return d.revoke(c, in.Now)
	}
	if reason, msg := optedOut(in); reason != "" {
		return d.optedOut(reason, msg)
	}
	// R5: a tier lost by sales ageing out keeps the benefit, unless the
	// program says not to; it is Active again, same grant, once the tier
	// is back.
	if need, lost := tierLost(in, g.Benefit); lost && !in.Program.Rules.KeepUnlockedBenefits {
		return d.pending(v1alpha1.ReasonTierNotReached, tierNotReachedMessage(in, g.Benefit, need, true))
	}
	return d.active(in, g.Benefit)
}

// decideNotGranted decides for an activation that holds no grant yet: the
// first check of NotGrantedChain that fails decides; when all pass it
// becomes Active, and is granted.
func decideNotGranted(in ActivationInput) ActivationDecision {
	var d ActivationDecision
	r, afterReferences, failing := firstFailing(in)
	if failing && !afterReferences {
		return d.pending(r.Reason, r.Message)
	}
	rules, offer := in.Program.Rules, in.Offer
	benefit := rules.Catalog[in.Activation.Spec.Benefit]
	d.Category = benefit.Category
	switch r.Phase {
	case v1alpha1.ActivationRevoked:
		return d.revoked(r.Revocation)
	case v1alpha1.ActivationExpired:
		d.ExpiresAt = r.ExpiresAt
		return d.expired()
	}
	// The decision changes by itself when the benefits expire or the offer
	// changes phase.
	expiresAt := BenefitsExpireAt(&offer.Spec, rules)
	_, offerNext := OfferPhaseAt(&offer.Spec, in.Now)
	d.NextCheck = earliest(expiresAt, offerNext)
	switch {
	case r.Phase == v1alpha1.ActivationOptedOut:
		return d.optedOut(r.Reason, r.Message)
	case failing:
		d.NextCheck = earliest(d.NextCheck, r.Wait)
		return d.pending(r.Reason, r.Message)
	}

	// B4: Active now. contactDueBy is the program's days later; both, and
	// expiresAt, are recorded in the grant and never move again.
	activatedAt := in.Now.Truncate(time.Second)
	d.ActivatedAt = &activatedAt
	d.ContactDueBy = ptrTo(activatedAt.Add(rules.ContactDue))
	d.ExpiresAt = expiresAt
	return d.active(in, benefit.Name)
}

// missingReference says which reference the decision cannot do without: the
// offer, its publisher, the publisher's program, or a valid one.
func missingReference(in ActivationInput) (reason, message string) {
	switch {
	case in.Offer == nil:
		return v1alpha1.ReasonOfferNotFound, fmt.Sprintf("offer %q does not exist in this namespace", in.Activation.Spec.OfferRef.Name)
	case in.Publisher == nil:
		return v1alpha1.ReasonPublisherNotFound, fmt.Sprintf("publisher %q of offer %q does not exist", in.Offer.Spec.PublisherRef.Name, in.Offer.Name)
	}
	return in.Program.NotInForce()
}

// optedOut: opting out, of this engagement or of the whole publication (O6).
func optedOut(in ActivationInput) (reason, message string) {
	switch {
	case in.Activation.Spec.OptOut:
		return v1alpha1.ReasonOptedOut, "spec.optOut is set; clear it to opt back in (O6)"
	case in.Offer.Spec.OptOut:
		return v1alpha1.ReasonOfferOptedOut, fmt.Sprintf("offer %q has spec.optOut set; clear it to opt back in (O6)", in.Offer.Name)
	}
	return "", ""
}

// revocationCause finds what takes a granted benefit away, in the order of
// the rules: a violation on the publisher (R1), fraud reported on a sales
// line in scope (R3, Transact), a cancelled purchase that alone had
// unlocked its tier (R4, Transact). None of them looks at when the cause
// happened relative to the grant (R6).
func revocationCause(in ActivationInput, g *v1alpha1.BenefitGrantSpec) (Revocation, bool) {
	if v, found := latestViolation(in.Publisher); found {
		return violationRevocation(in.Publisher, v), true
	}
	if in.Offer.Spec.ListingType != v1alpha1.ListingTypeTransact {
		return Revocation{}, false
	}
	rules := in.Program.Rules
	if f, found := fraudInScope(in.Sales.Fraud, rules.FraudScope, in.Offer.Name); found {
		return fraudRevocation(f, rules.FraudScope), true
	}
	if need, lost := tierLost(in, g.Benefit); lost {
		if c, found := cancellationCause(in.Sales, need, g.ActivatedAt.Time); found {
			return cancellationRevocation(c, need), true
		}
	}
	return Revocation{}, false
}

// tierLost reports whether a Transact benefit's tier is no longer reached,
// and which tier it needs. A benefit no tier unlocks any more (the program
// changed) is not taken away by a tier.
func tierLost(in ActivationInput, benefit string) (int32, bool) {
	if in.Offer.Spec.ListingType != v1alpha1.ListingTypeTransact {
		return 0, false
	}
	need, known := in.Program.Rules.BenefitTier[benefit]
	return need, known && in.Sales.Tier < need
}

// latestViolation is the publisher's most recent violation (P5), the last
// listed breaking ties.
func latestViolation(pub *v1alpha1.Publisher) (v1alpha1.Violation, bool) {
	var latest *v1alpha1.Violation
	for i := range pub.Spec.Violations {
		v := &pub.Spec.Violations[i]
		if latest == nil || !v.Time.Before(&latest.Time) {
			latest = v
		}
	}
	if latest == nil {
		return v1alpha1.Violation{}, false
	}
	return *latest, true
}

func violationMessage(pub *v1alpha1.Publisher, v v1alpha1.Violation) string {
	return fmt.Sprintf("publisher %q has a %s violation recorded at %s (R1)", pub.Name, v.Type, v.Time.UTC().Format(time.RFC3339))
}

func fraudMessage(f FraudLine, scope v1alpha1.FraudRevocationScope) string {
	return fmt.Sprintf("sales record %q is reported as fraud %s (R3, scope %s)", f.Name, f.State, scope)
}

// tierNotReachedMessage explains a Transact benefit waiting for its tier;
// granted is true for one granted before (R5 without keepUnlockedBenefits).
func tierNotReachedMessage(in ActivationInput, benefit string, need int32, granted bool) string {
	msg := fmt.Sprintf("benefit %q needs tier %d and publisher %q is at tier %d", benefit, need, in.Publisher.Name, in.Sales.Tier)
	if granted {
		return msg + "; keepUnlockedBenefits is false, so it is not kept from before (R5)"
	}
	return msg + " (B2)"
}

func alreadyUsedMessage(benefit, winner, offer string, used *v1alpha1.BenefitGrant) string {
	if used != nil {
		return fmt.Sprintf("benefit %q is used once per offer: it was granted to activation %q for offer %q at %s, as BenefitGrant %q records (B3)",
			benefit, winner, offer, used.Spec.ActivatedAt.UTC().Format(time.RFC3339), used.Name)
	}
	return fmt.Sprintf("benefit %q is used once per offer and activation %q for offer %q came first (B3)", benefit, winner, offer)
}

// nameHeldMessage says that a grant of the activation's name records
// another offer or benefit, and what a person can do about it.
func nameHeldMessage(act *v1alpha1.BenefitActivation, held *v1alpha1.BenefitGrant) string {
	return fmt.Sprintf("BenefitGrant %q records the grant of benefit %q for offer %q at %s to the activation of this name, "+
		"and a grant belongs to the activation of its name for good (R7); this activation asks for benefit %q for offer %q: "+
		"apply it under another name, or have an administrator delete BenefitGrant %q if that record must go",
		held.Name, held.Spec.Benefit, held.Spec.Offer, held.Spec.ActivatedAt.UTC().Format(time.RFC3339),
		act.Spec.Benefit, act.Spec.OfferRef.Name, held.Name)
}

// needsContact: Marketing and Sales benefits need a marketing contact;
// Technical ones do not (P4).
func needsContact(c v1alpha1.BenefitCategory) bool {
	return c == v1alpha1.BenefitCategoryMarketing || c == v1alpha1.BenefitCategorySales
}

// oneTimeUse says who uses a one-time benefit of an offer (B3). A granted
// benefit is used, whatever activation appears later and whether the
// activation it was granted to still exists (R8): the earliest grant of
// the offer and benefit holds it, name breaking ties, and used is that
// grant. Until one is granted, the oldest activation of the same benefit
// gets it, name breaking ties, whatever order the operator saw them in.
func oneTimeUse(in ActivationInput) (holder string, used *v1alpha1.BenefitGrant) {
	self := in.Activation
	for i := range in.SiblingGrants {
		g := &in.SiblingGrants[i]
		if g.Spec.Activation.Name == self.Name || g.Spec.Benefit != self.Spec.Benefit || g.Spec.Offer != self.Spec.OfferRef.Name {
			continue
		}
		if used == nil || g.Spec.ActivatedAt.Before(&used.Spec.ActivatedAt) ||
			(g.Spec.ActivatedAt.Equal(&used.Spec.ActivatedAt) && g.Spec.Activation.Name < used.Spec.Activation.Name) {
			used = g
		}
	}
	if used != nil {
		return used.Spec.Activation.Name, used
	}
	return oneTimeWinner(in.Siblings, self), nil
}

// oneTimeWinner is the oldest activation of the same benefit for the same
// offer, name breaking ties.
func oneTimeWinner(siblings []v1alpha1.BenefitActivation, self *v1alpha1.BenefitActivation) string {
	winner := self
	for i := range siblings {
		s := &siblings[i]
		if s.Spec.Benefit != self.Spec.Benefit || s.Spec.OfferRef.Name != self.Spec.OfferRef.Name {
			continue
		}
		ts, tw := s.CreationTimestamp.Time, winner.CreationTimestamp.Time
		if ts.Before(tw) || (ts.Equal(tw) && s.Name < winner.Name) {
			winner = s
		}
	}
	return winner.Name
}

// fraudInScope finds a fraud report that applies to an offer's Transact
// benefits under the program's fraud scope (R3).
func fraudInScope(fraud []FraudLine, scope v1alpha1.FraudRevocationScope, offer string) (FraudLine, bool) {
	for _, f := range fraud {
		if scope != v1alpha1.FraudScopeOffer || f.Offer == offer {
			return f, true
		}
	}
	return FraudLine{}, false
}

// setContact computes the ContactOverdue condition of an active benefit (B4).
func (d *ActivationDecision) setContact(contactedAt interface{ IsZero() bool }, now time.Time) {
	switch {
	case contactedAt != nil && !contactedAt.IsZero():
		d.ContactReason, d.ContactMessage = v1alpha1.ReasonContacted, "the marketing contact was contacted"
	case !now.Before(*d.ContactDueBy):
		d.ContactOverdue = true
		d.ContactReason = v1alpha1.ReasonContactOverdue
		d.ContactMessage = fmt.Sprintf("the Rewards team had to contact the marketing contact by %s; record spec.contactedAt once done (B4)",
			d.ContactDueBy.UTC().Format(time.RFC3339))
	default:
		d.ContactReason = v1alpha1.ReasonContactPending
		d.ContactMessage = fmt.Sprintf("the Rewards team will contact the marketing contact by %s (B4)", d.ContactDueBy.UTC().Format(time.RFC3339))
		d.NextCheck = earliest(d.NextCheck, d.ContactDueBy)
	}
}

func (d ActivationDecision) pending(reason, message string) ActivationDecision {
	d.Phase, d.Ready, d.Reason, d.Message = v1alpha1.ActivationPending, false, reason, message
	return d
}

func (d ActivationDecision) optedOut(reason, message string) ActivationDecision {
	d.Phase, d.Ready, d.Reason, d.Message = v1alpha1.ActivationOptedOut, false, reason, message
	return d
}

// active: the benefit is in use (B4); the contact condition says whether the
// Rewards team is late.
func (d ActivationDecision) active(in ActivationInput, benefit string) ActivationDecision {
	d.Phase, d.Ready, d.Reason = v1alpha1.ActivationActive, true, v1alpha1.ReasonActive
	d.Message = fmt.Sprintf("%s benefit %q is active for offer %q", d.Category, benefit, in.Activation.Spec.OfferRef.Name)
	if d.ExpiresAt != nil {
		d.Message += "; it expires at " + d.ExpiresAt.UTC().Format(time.RFC3339)
	}
	d.setContact(in.Activation.Spec.ContactedAt, in.Now)
	return d
}

// paused: a granted benefit whose offer, publisher or program is missing or
// invalid keeps its phase and instants; nothing new is decided until the
// reference is back, and then it resumes under the same grant.
func (d ActivationDecision) paused(in ActivationInput, reason, message string) ActivationDecision {
	d.Phase, d.Ready, d.Reason = v1alpha1.ActivationActive, false, reason
	d.Message = message + "; the benefit granted at " + d.ActivatedAt.UTC().Format(time.RFC3339) + " is kept, and no new decision is made until then"
	d.NextCheck = d.ExpiresAt
	if in.Activation.Spec.OptOut {
		d.Phase = v1alpha1.ActivationOptedOut
		return d
	}
	d.setContact(in.Activation.Spec.ContactedAt, in.Now)
	return d
}

// expired: the benefit ran its course (O4). It is a normal end, not a
// failure: Ready is True (nothing is pending, nothing is wrong), so kstatus,
// Flux and Argo CD read it as done, not as in progress or failed.
func (d ActivationDecision) expired() ActivationDecision {
	d.Phase, d.Ready, d.Reason = v1alpha1.ActivationExpired, true, v1alpha1.ReasonExpired
	d.ExpiredAt, d.NextCheck = d.ExpiresAt, nil
	d.Message = expiredMessage(d.ExpiresAt)
	return d
}

// revoke revokes a granted benefit now: the revocation is recorded at now.
func (d ActivationDecision) revoke(r Revocation, now time.Time) ActivationDecision {
	recordedAt := now.Truncate(time.Second)
	r.RecordedAt = &recordedAt
	return d.revoked(&r)
}

func (d ActivationDecision) revoked(r *Revocation) ActivationDecision {
	d.Phase, d.Ready, d.Reason = v1alpha1.ActivationRevoked, false, v1alpha1.ReasonRevoked
	d.Message = fmt.Sprintf("revoked (%s): %s", r.Reason, r.Message)
	d.Revocation, d.NextCheck = r, nil
	return d
}

func expiredMessage(at *time.Time) string {
	if at == nil {
		return "the benefit expired (O4)"
	}
	return "the benefit expired at " + at.UTC().Format(time.RFC3339) + " (O4)"
}
