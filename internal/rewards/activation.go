package rewards

import (
	"fmt"
	"sort"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Reasons of a BenefitActivation's Ready condition. For Pending, the reason
// names the first missing prerequisite (rule B2).
const (
	ReasonActive                  = "Active"
	ReasonOfferNotFound           = "OfferNotFound"
	ReasonPublisherNotFound       = "PublisherNotFound"
	ReasonProgramNotFound         = "ProgramNotFound"
	ReasonProgramInvalid          = "ProgramInvalid"
	ReasonNotEnrolled             = "NotEnrolled"
	ReasonViolation               = "Violation"
	ReasonFraud                   = "FraudReported"
	ReasonOfferNotLive            = "OfferNotLive"
	ReasonNotForListingType       = "BenefitNotForListingType"
	ReasonAlreadyUsed             = "AlreadyUsed"
	ReasonMarketingContactMissing = "MarketingContactMissing"
	ReasonTierNotReached          = "TierNotReached"
	ReasonOptedOut                = "OptedOut"
	ReasonOfferOptedOut           = "OfferOptedOut"
	ReasonExpired                 = "Expired"
	ReasonRevoked                 = "Revoked"
	ReasonContactOverdue          = "ContactOverdue"
	ReasonContactPending          = "ContactPending"
	ReasonContacted               = "Contacted"
)

// SalesFacts is what the activation rules need to know about a publisher's
// sales: its tier now, and enough to tell which benefits a cancelled
// purchase alone had unlocked (R4) and whether fraud was reported (R3).
type SalesFacts struct {
	Tier                 int32
	BilledSales          Money
	Seats                int64
	HasLiveTransactOffer bool
	// Cancelled lines that would count were they not cancelled.
	Cancelled []CancelledLine
	// Fraud lists the lines with fraud Suspected or Proven.
	Fraud []FraudLine
	// NextChangeAt is when the tier may next change by itself (a line
	// ageing out or being billed, an offer going live).
	NextChangeAt *time.Time
}

// CancelledLine is a cancelled purchase and what it would add back.
type CancelledLine struct {
	Name   string
	Amount Money
	Seats  int64
	// CancelledAt is spec.cancellation.time; nil when not recorded.
	CancelledAt *time.Time
}

// FraudLine is a sales line reported as fraudulent.
type FraudLine struct {
	Name  string
	Offer string
	State v1alpha1.FraudState
}

// SalesFactsFor gathers SalesFacts from a publisher's offers and sales lines.
func SalesFactsFor(rules *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) SalesFacts {
	res := ComputeTier(rules, offers, records, now)
	f := SalesFacts{Tier: res.Tier, BilledSales: res.BilledSales, Seats: res.Seats, HasLiveTransactOffer: res.HasLiveTransactOffer, NextChangeAt: res.NextChangeAt}
	byName := make(map[string]*v1alpha1.Offer, len(offers))
	for i := range offers {
		byName[offers[i].Name] = &offers[i]
	}
	for i := range records {
		rec := &records[i]
		if rec.Spec.Fraud == v1alpha1.FraudSuspected || rec.Spec.Fraud == v1alpha1.FraudProven {
			f.Fraud = append(f.Fraud, FraudLine{Name: rec.Name, Offer: rec.Spec.OfferRef.Name, State: rec.Spec.Fraud})
		}
		if rec.Spec.Cancellation == nil {
			continue
		}
		uncancelled := rec.Spec
		uncancelled.Cancellation = nil
		if v := evaluateLine(&uncancelled, byName[rec.Spec.OfferRef.Name], rules, now); v.Counted {
			f.Cancelled = append(f.Cancelled, CancelledLine{Name: rec.Name, Amount: *v.ProgramAmount, Seats: v.Seats, CancelledAt: timePtr(rec.Spec.Cancellation.Time)})
		}
	}
	sort.Slice(f.Fraud, func(i, j int) bool { return f.Fraud[i].Name < f.Fraud[j].Name })
	sort.Slice(f.Cancelled, func(i, j int) bool { return f.Cancelled[i].Name < f.Cancelled[j].Name })
	return f
}

// ProgramState is the program an activation's publisher follows.
type ProgramState struct {
	Name  string
	Rules *Rules
	// Missing is true when the RewardsProgram does not exist.
	Missing bool
	// Problem describes why the program is invalid, "" when it is valid.
	Problem string
}

// ActivationInput is everything the activation decision depends on.
type ActivationInput struct {
	Activation *v1alpha1.BenefitActivation
	// Offer and Publisher are nil when they do not exist.
	Offer     *v1alpha1.Offer
	Publisher *v1alpha1.Publisher
	Program   ProgramState
	// Siblings are the activations of the same offer (this one may be among
	// them), for the one-time-use rule (B3).
	Siblings []v1alpha1.BenefitActivation
	Sales    SalesFacts
	Now      time.Time
}

// ActivationDecision is the status an activation should have.
type ActivationDecision struct {
	Phase v1alpha1.ActivationPhase
	// Ready condition: True only while Active.
	Ready   bool
	Reason  string
	Message string

	Category     v1alpha1.BenefitCategory
	ActivatedAt  *time.Time
	ContactDueBy *time.Time
	ExpiresAt    *time.Time
	ExpiredAt    *time.Time
	Revocation   *v1alpha1.Revocation

	// ContactOverdue is the ContactOverdue condition (B4); ContactReason and
	// ContactMessage explain it. Unset (empty reason) before activation.
	ContactOverdue bool
	ContactReason  string
	ContactMessage string

	// NextCheck is the next instant the decision changes by itself.
	NextCheck *time.Time
}

// DecideActivation computes an activation's phase and instants (rules O3–O6,
// B1–B5, R1–R5). It is a pure function of its input: the specs, the time,
// and the few facts the activation's status must remember (activatedAt,
// contactDueBy, expiresAt, and that it expired or was revoked).
func DecideActivation(in ActivationInput) ActivationDecision {
	d := decide(in)
	// A Transact benefit waiting for (or, without R5, keeping) a tier looks
	// again when the tier may change by itself.
	if in.Offer != nil && in.Offer.Spec.ListingType == v1alpha1.ListingTypeTransact &&
		(d.Phase == v1alpha1.ActivationPending || d.Phase == v1alpha1.ActivationActive) {
		d.NextCheck = earliest(d.NextCheck, in.Sales.NextChangeAt)
	}
	return d
}

func decide(in ActivationInput) ActivationDecision {
	a := in.Activation
	st := a.Status
	d := ActivationDecision{
		Phase:        st.Phase,
		Category:     st.Category,
		ActivatedAt:  timePtr(st.ActivatedAt),
		ContactDueBy: timePtr(st.ContactDueBy),
		ExpiresAt:    timePtr(st.ExpiresAt),
		ExpiredAt:    timePtr(st.ExpiredAt),
		Revocation:   st.Revocation,
	}

	// B5: Expired and Revoked are terminal.
	switch st.Phase {
	case v1alpha1.ActivationExpired:
		d.Reason, d.Message = ReasonExpired, expiredMessage(d.ExpiredAt)
		return d
	case v1alpha1.ActivationRevoked:
		d.Reason = ReasonRevoked
		if st.Revocation != nil {
			d.Message = fmt.Sprintf("revoked (%s): %s", st.Revocation.Reason, st.Revocation.Message)
		}
		return d
	}
	wasActive := st.Phase == v1alpha1.ActivationActive
	// unlocked: the benefit was Active once and has not been taken away
	// (R5 keeps it through an opt-out or a passing missing reference too).
	unlocked := d.ActivatedAt != nil

	// References that admission cannot check.
	switch {
	case in.Offer == nil:
		return d.pending(ReasonOfferNotFound, fmt.Sprintf("offer %q does not exist in this namespace", a.Spec.OfferRef.Name))
	case in.Publisher == nil:
		return d.pending(ReasonPublisherNotFound, fmt.Sprintf("publisher %q of offer %q does not exist", in.Offer.Spec.PublisherRef.Name, in.Offer.Name))
	case in.Program.Missing:
		return d.pending(ReasonProgramNotFound, fmt.Sprintf("RewardsProgram %q does not exist", in.Program.Name))
	case in.Program.Problem != "":
		return d.pending(ReasonProgramInvalid, fmt.Sprintf("RewardsProgram %q is not valid: %s", in.Program.Name, in.Program.Problem))
	}
	rules, offer, pub := in.Program.Rules, in.Offer, in.Publisher
	benefit, ok := rules.Catalog[a.Spec.Benefit]
	if !ok {
		return d.pending(ReasonUnknownBenefit, fmt.Sprintf("benefit %q is not in the catalog of RewardsProgram %q (B1)", a.Spec.Benefit, in.Program.Name))
	}
	d.Category = benefit.Category
	transact := offer.Spec.ListingType == v1alpha1.ListingTypeTransact
	phase, offerNext := OfferPhaseAt(&offer.Spec, in.Now)

	// O4: a benefit whose time has run out expires. The persisted expiresAt
	// wins over a recomputation, so a restart cannot move it.
	expiresAt := d.ExpiresAt
	if expiresAt == nil {
		expiresAt = BenefitsExpireAt(&offer.Spec, rules)
	}
	expired := expiresAt != nil && !in.Now.Before(*expiresAt)
	// R2: a delisted offer revokes its activations, Active and Pending
	// alike. When both instants have passed, the earlier one decides, so a
	// decision made late (after a restart) is the one made on time.
	delisted := phase == v1alpha1.OfferDelisted
	if delisted && (!expired || offer.Spec.DelistedAt.Time.Before(*expiresAt)) {
		return d.revoke(v1alpha1.RevocationOfferDelisted,
			fmt.Sprintf("offer %q was delisted at %s, which ends this publication (R2)", offer.Name, offer.Spec.DelistedAt.UTC().Format(time.RFC3339)),
			"Offer", offer.Name, in.Now)
	}
	if expired {
		d.Phase, d.ExpiresAt, d.ExpiredAt = v1alpha1.ActivationExpired, expiresAt, expiresAt
		d.Reason, d.Message = ReasonExpired, expiredMessage(expiresAt)
		return d
	}
	d.NextCheck = earliest(expiresAt, offerNext)

	// O6: opting out, of this engagement or of the whole publication.
	switch {
	case a.Spec.OptOut:
		return d.optedOut(ReasonOptedOut, "spec.optOut is set; clear it to opt back in (O6)")
	case offer.Spec.OptOut:
		return d.optedOut(ReasonOfferOptedOut, fmt.Sprintf("offer %q has spec.optOut set; clear it to opt back in (O6)", offer.Name))
	}

	// R1: a violation revokes Active benefits and holds Pending ones.
	if n := len(pub.Spec.Violations); n > 0 {
		v := pub.Spec.Violations[n-1]
		msg := fmt.Sprintf("publisher %q has a %s violation recorded at %s (R1)", pub.Name, v.Type, v.Time.UTC().Format(time.RFC3339))
		if wasActive {
			return d.revoke(v1alpha1.RevocationViolation, msg, "Publisher", pub.Name, in.Now)
		}
		return d.pending(ReasonViolation, msg+"; removing the violation lets this benefit proceed")
	}

	// R3: fraud Suspected or Proven revokes active Transact benefits.
	if transact {
		if f, found := fraudInScope(in.Sales.Fraud, rules.FraudScope, offer.Name); found {
			msg := fmt.Sprintf("sales record %q is reported as fraud %s (R3, scope %s)", f.Name, f.State, rules.FraudScope)
			if wasActive {
				return d.revoke(v1alpha1.RevocationFraud, msg, "SalesRecord", f.Name, in.Now)
			}
			return d.pending(ReasonFraud, msg)
		}
	}

	// An unlocked Transact benefit whose tier is no longer reached.
	keptByR5 := false
	if transact && unlocked {
		need := rules.BenefitTier[benefit.Name]
		if in.Sales.Tier < need {
			// R4: revoked when cancelled purchases had unlocked it.
			if cause, ok := cancellationCause(rules, in.Sales, need, *d.ActivatedAt, in.Now); ok {
				return d.revoke(v1alpha1.RevocationCancellation,
					fmt.Sprintf("cancelled purchase %q had unlocked tier %d, which this benefit needs (R4)", cause, need),
					"SalesRecord", cause, in.Now)
			}
			// R5: otherwise (sales ageing out of a trailing window) an
			// unlocked benefit is kept, unless the program says not to.
			if !rules.KeepUnlockedBenefits {
				return d.pending(ReasonTierNotReached, tierNotReachedMessage(in, benefit.Name, need))
			}
			keptByR5 = true
		}
	}

	// B3: a one-time benefit has one user, the oldest activation (name
	// breaking ties), whatever order the operator saw them in. An activation
	// created in the same second as a sibling with an earlier name can be
	// reconciled, and made Active, before that sibling reaches the cache;
	// checking only activations that are not Active yet left both Active.
	// The loser goes back to Pending and loses its activation instants: it
	// never held the benefit.
	if wasActive && !transact {
		if winner := oneTimeWinner(in.Siblings, a); winner != a.Name {
			d.ActivatedAt, d.ContactDueBy, d.ExpiresAt = nil, nil, nil
			return d.pending(ReasonAlreadyUsed, alreadyUsedMessage(benefit.Name, winner, offer.Name))
		}
	}

	if !wasActive {
		if reason, msg, wait := firstMissing(in, benefit, phase, offerNext, keptByR5); reason != "" {
			d.NextCheck = earliest(d.NextCheck, wait)
			return d.pending(reason, msg)
		}
	}

	// B4: Active. activatedAt is set once; contact is due within the
	// program's days of it.
	d.Phase, d.Ready = v1alpha1.ActivationActive, true
	if d.ActivatedAt == nil {
		now := in.Now
		d.ActivatedAt = &now
	}
	if d.ContactDueBy == nil {
		due := d.ActivatedAt.Add(rules.ContactDue)
		d.ContactDueBy = &due
	}
	d.ExpiresAt = expiresAt
	d.Reason = ReasonActive
	d.Message = fmt.Sprintf("%s benefit %q is active for offer %q", benefit.Category, benefit.Name, offer.Name)
	if expiresAt != nil {
		d.Message += "; it expires at " + expiresAt.UTC().Format(time.RFC3339)
	}
	d.setContact(a.Spec.ContactedAt, in.Now)
	return d
}

// firstMissing returns the first prerequisite of B2 that does not hold, and
// when it may start holding by itself (an offer going live). keptByR5 skips
// the tier: an unlocked benefit is kept when its tier only aged out (R5).
// The checks (Prerequisites) work out benefit, phase and keptByR5 again by
// themselves, so that `kubectl rewards explain` can run them alone.
func firstMissing(in ActivationInput, benefit v1alpha1.Benefit, phase v1alpha1.OfferPhase, offerNext *time.Time, keptByR5 bool) (string, string, *time.Time) {
	// The checks of prerequisites.go, in B2's order; they work out the
	// benefit, the offer's phase and R5 themselves.
	if r, failing := FirstFailingPrerequisite(in); failing {
		return r.Reason, r.Message, r.Wait
	}
	return "", "", nil
}

// tierNotReachedMessage explains a Transact benefit waiting for its tier.
// The R5 branch of decide (an active benefit losing its tier with
// keepUnlockedBenefits false) and firstMissing (the next reconcile, now that
// it is Pending) must say the same thing: with two different messages the
// status changed again on a reconcile whose inputs had not changed.
func tierNotReachedMessage(in ActivationInput, benefit string, need int32) string {
	msg := fmt.Sprintf("benefit %q needs tier %d and publisher %q is at tier %d", benefit, need, in.Publisher.Name, in.Sales.Tier)
	if in.Activation.Status.ActivatedAt != nil && !in.Program.Rules.KeepUnlockedBenefits {
		return msg + "; keepUnlockedBenefits is false, so it is not kept from before (R5)"
	}
	return msg + " (B2)"
}

func alreadyUsedMessage(benefit, winner, offer string) string {
	return fmt.Sprintf("benefit %q is used once per offer and activation %q for offer %q came first (B3)", benefit, winner, offer)
}

// needsContact: Marketing and Sales benefits need a marketing contact;
// Technical ones do not (P4).
func needsContact(c v1alpha1.BenefitCategory) bool {
	return c == v1alpha1.BenefitCategoryMarketing || c == v1alpha1.BenefitCategorySales
}

// oneTimeWinner is the activation that gets a one-time benefit of an offer
// (B3): the oldest activation of the same benefit, name breaking ties.
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

// cancellationCause names the cancelled purchase without which the publisher
// no longer reaches tier need (R4): the first that alone would restore it,
// or, when only several together would, the last of them by name. Only
// purchases cancelled after the benefit was activated can have unlocked it;
// one cancelled before never counted while the benefit was in use.
func cancellationCause(rules *Rules, s SalesFacts, need int32, activatedAt, now time.Time) (string, bool) {
	reaches := func(billed Money, seats int64) bool {
		tier, _, _ := TierFor(rules, billed, seats, s.HasLiveTransactOffer, now)
		return tier >= need
	}
	var candidates []CancelledLine
	for _, c := range s.Cancelled {
		if c.CancelledAt == nil || !c.CancelledAt.Before(activatedAt) {
			candidates = append(candidates, c)
		}
	}
	billed, seats := s.BilledSales, s.Seats
	for _, c := range candidates {
		if reaches(s.BilledSales.Add(c.Amount), s.Seats+c.Seats) {
			return c.Name, true
		}
		billed, seats = billed.Add(c.Amount), seats+c.Seats
	}
	if len(candidates) > 0 && reaches(billed, seats) {
		return candidates[len(candidates)-1].Name, true
	}
	return "", false
}

// setContact computes the ContactOverdue condition of an active benefit (B4).
func (d *ActivationDecision) setContact(contactedAt interface{ IsZero() bool }, now time.Time) {
	switch {
	case contactedAt != nil && !contactedAt.IsZero():
		d.ContactReason, d.ContactMessage = ReasonContacted, "the marketing contact was contacted"
	case !now.Before(*d.ContactDueBy):
		d.ContactOverdue = true
		d.ContactReason = ReasonContactOverdue
		d.ContactMessage = fmt.Sprintf("the Rewards team had to contact the marketing contact by %s; record spec.contactedAt once done (B4)", d.ContactDueBy.UTC().Format(time.RFC3339))
	default:
		d.ContactReason = ReasonContactPending
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

func (d ActivationDecision) revoke(reason v1alpha1.RevocationReason, message, kind, name string, now time.Time) ActivationDecision {
	d.Phase, d.Ready, d.Reason, d.Message = v1alpha1.ActivationRevoked, false, ReasonRevoked, fmt.Sprintf("revoked (%s): %s", reason, message)
	d.NextCheck = nil
	d.Revocation = &v1alpha1.Revocation{
		Reason:   reason,
		Message:  message,
		Time:     metaNow(now),
		CausedBy: &v1alpha1.ObjectReference{Kind: kind, Name: name},
	}
	return d
}

func expiredMessage(at *time.Time) string {
	if at == nil {
		return "the benefit expired (O4)"
	}
	return "the benefit expired at " + at.UTC().Format(time.RFC3339) + " (O4)"
}
