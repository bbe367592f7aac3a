package controllers_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// The life of a BenefitActivation (rules O3–O6, B1–B5, R1–R5), end to end:
// real API server, every controller, the shared fake clock. Every It starts
// with the rule ids it proves.

// activationProgram is build.Program with a one-time Marketing benefit for
// List, Trial and Consulting offers added to its catalog (presales-consult
// is the Technical one).
func activationProgram() *v1alpha1.RewardsProgram {
	p := build.Program()
	p.Spec.Benefits = append(p.Spec.Benefits, v1alpha1.Benefit{
		Name:         "webinar",
		Category:     v1alpha1.BenefitCategoryMarketing,
		ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeList, v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting},
	})
	return p
}

// stateOf reads an activation as "phase/reason of Ready", for example
// "Pending/AlreadyUsed", so one assertion shows both.
func stateOf(a *v1alpha1.BenefitActivation) func() string {
	return func() string {
		got := fetch(a)()
		reason := ""
		if c := readyCondition(got.Status.Conditions); c != nil {
			reason = c.Reason
		}
		return string(got.Status.Phase) + "/" + reason
	}
}

// conditionOf returns a copy of a condition of a freshly read activation,
// nil when absent.
func conditionOf(a *v1alpha1.BenefitActivation, typ string) func() *metav1.Condition {
	return func() *metav1.Condition {
		c := meta.FindStatusCondition(fetch(a)().Status.Conditions, typ)
		if c == nil {
			return nil
		}
		cp := *c
		return &cp
	}
}

// contactOverdue reads the ContactOverdue condition as "status/reason", ""
// when absent.
func contactOverdue(a *v1alpha1.BenefitActivation) func() string {
	return func() string {
		c := conditionOf(a, v1alpha1.ConditionContactOverdue)()
		if c == nil {
			return ""
		}
		return string(c.Status) + "/" + c.Reason
	}
}

func activationEvents(a *v1alpha1.BenefitActivation) func() []string {
	return func() []string { return eventReasons(a) }
}

// clockAtWholeSecond moves the fake clock to the next whole second if it is
// not on one (the API server keeps whole seconds) and returns its time.
func clockAtWholeSecond() time.Time {
	now := fakeClock.Now()
	if t := now.Truncate(time.Second); !t.Equal(now) {
		fakeClock.SetTime(t.Add(time.Second))
	}
	return fakeClock.Now()
}

const (
	active           = "Active/Active"
	optedOut         = "OptedOut/OptedOut"
	offerOptedOut    = "OptedOut/OfferOptedOut"
	expired          = "Expired/Expired"
	revoked          = "Revoked/Revoked"
	pendingAlready   = "Pending/AlreadyUsed"
	pendingViolation = "Pending/Violation"
)

var _ = Describe("Benefit activations", func() {
	var (
		ns   string
		prog *v1alpha1.RewardsProgram
		pub  *v1alpha1.Publisher
		now  time.Time
	)

	BeforeEach(func() {
		ns = newNamespace()
		prog = activationProgram()
		pub = build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		create(prog, pub)
		now = clockAtWholeSecond()
	})

	Context("expiry and engagement", func() {
		It("O3, O4: a Trial benefit of an offer live on 30 November expires at the end of February, at that instant; List and Transact benefits do not expire", func() {
			// The next 30 November at noon from the shared clock (which only
			// moves forward), so the offer is live and its benefits not yet
			// expired.
			liveAt := time.Date(now.Year(), time.November, 30, 12, 0, 0, 0, time.UTC)
			if liveAt.Before(now) {
				liveAt = liveAt.AddDate(1, 0, 0)
			}
			fakeClock.SetTime(liveAt)
			y := liveAt.Year() + 1
			lastFeb := 28
			if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
				lastFeb = 29
			}
			want := time.Date(y, time.February, lastFeb, 12, 0, 0, 0, time.UTC)
			Expect(want).To(Equal(rewards.AddCalendarMonths(liveAt, 3)), "3 calendar months, month end clamped")

			trialOffer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, liveAt)
			listOffer := build.Offer(ns, "byol", pub.Name, v1alpha1.ListingTypeList, liveAt)
			saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, liveAt)
			trial := build.Activation(ns, "trial-webinar", trialOffer.Name, "webinar")
			list := build.Activation(ns, "list-webinar", listOffer.Name, "webinar")
			badge := build.Activation(ns, "saas-badge", saas.Name, "listing-badge")
			create(trialOffer, listOffer, saas, trial, list, badge)

			Eventually(stateOf(trial)).Should(Equal(active))
			Expect(trial.Status.ExpiresAt).NotTo(BeNil())
			Expect(trial.Status.ExpiresAt.Time).To(BeTemporally("==", want), "O4")
			Expect(trial.Status.ActivatedAt.Time).To(BeTemporally("==", liveAt))
			Eventually(func() *metav1.Time { return fetch(trialOffer)().Status.EngagementEndsAt }).ShouldNot(BeNil())
			Expect(trialOffer.Status.EngagementEndsAt.Time).To(BeTemporally("==", want), "O3: engagement manager for 3 calendar months")
			Expect(trialOffer.Status.BenefitsExpireAt.Time).To(BeTemporally("==", want))

			Eventually(stateOf(list)).Should(Equal(active))
			Expect(list.Status.ExpiresAt).To(BeNil(), "O4: List benefits do not expire")
			Eventually(stateOf(badge)).Should(Equal(active))
			Expect(badge.Status.ExpiresAt).To(BeNil(), "O4: Transact engagement is evergreen")

			reconciledAfter(func() { fakeClock.SetTime(want.Add(-time.Second)) }, trial)
			Expect(stateOf(trial)()).To(Equal(active), "one second before: still Active")

			fakeClock.SetTime(want)
			Eventually(stateOf(trial)).Should(Equal(expired), "expires at exactly that instant")
			Expect(trial.Status.ExpiredAt.Time).To(BeTemporally("==", want))
			Expect(meta.FindStatusCondition(trial.Status.Conditions, "Stalled")).To(BeNil(), "a normal end, not a failure")
			Expect(readyCondition(trial.Status.Conditions).Status).To(Equal(metav1.ConditionTrue), "done: nothing is pending")
			Eventually(activationEvents(trial)).Should(ContainElement("Expired"))

			resynced(list, badge)
			Expect([]string{stateOf(list)(), stateOf(badge)()}).To(Equal([]string{active, active}), "O4: List and Transact benefits outlive the Trial's")
		})

		It("O5: shows a follow-up hint on an offer live for 28 days with no contacted activation, and clears it when one is contacted", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			act := build.Activation(ns, "presales", offer.Name, "presales-consult")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal(active))
			due := now.Add(28 * 24 * time.Hour)

			reconciledAfter(func() { fakeClock.SetTime(due.Add(-time.Second)) }, offer)
			Expect(fetch(offer)().Status.FollowUpHint).To(BeEmpty())
			Expect(meta.IsStatusConditionTrue(offer.Status.Conditions, v1alpha1.ConditionFollowUpNeeded)).To(BeFalse())

			fakeClock.SetTime(due)
			Eventually(func() string { return fetch(offer)().Status.FollowUpHint }).Should(ContainSubstring("support ticket"))
			Expect(offer.Status.FollowUpHint).To(ContainSubstring("owns the offer"))
			cond := meta.FindStatusCondition(offer.Status.Conditions, v1alpha1.ConditionFollowUpNeeded)
			Expect(cond).NotTo(BeNil())
			Expect(cond.Status).To(Equal(metav1.ConditionTrue))
			Eventually(func() []string { return eventReasons(offer) }).Should(ContainElement("FollowUpNeeded"))

			update(act, func(a *v1alpha1.BenefitActivation) { a.Spec.ContactedAt = &metav1.Time{Time: due} })
			Eventually(func() string { return fetch(offer)().Status.FollowUpHint }).Should(BeEmpty())
			Expect(meta.FindStatusCondition(offer.Status.Conditions, v1alpha1.ConditionFollowUpNeeded).Status).To(Equal(metav1.ConditionFalse))
		})
	})

	Context("opting out", func() {
		It("O6: opting out of one engagement and back in keeps its activatedAt", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			act := build.Activation(ns, "webinar-1", offer.Name, "webinar")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal(active))
			activatedAt, dueBy := act.Status.ActivatedAt.DeepCopy(), act.Status.ContactDueBy.DeepCopy()

			fakeClock.Step(time.Hour)
			update(act, func(a *v1alpha1.BenefitActivation) { a.Spec.OptOut = true })
			Eventually(stateOf(act)).Should(Equal(optedOut))
			Expect(readyCondition(act.Status.Conditions).Status).To(Equal(metav1.ConditionFalse))
			Eventually(activationEvents(act)).Should(ContainElement("OptedOut"))
			resynced(act)
			Expect(stateOf(act)()).To(Equal(optedOut), "B5: OptedOut lasts while optOut is set")

			fakeClock.Step(time.Hour)
			update(act, func(a *v1alpha1.BenefitActivation) { a.Spec.OptOut = false })
			Eventually(stateOf(act)).Should(Equal(active))
			Expect(act.Status.ActivatedAt.Time).To(BeTemporally("==", activatedAt.Time), "activatedAt is set once")
			Expect(act.Status.ContactDueBy.Time).To(BeTemporally("==", dueBy.Time))
		})

		It("O6: opting an offer out opts out its activations; clearing it opts them back in", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			tech := build.Activation(ns, "presales", offer.Name, "presales-consult")
			mkt := build.Activation(ns, "webinar-1", offer.Name, "webinar")
			create(offer, tech, mkt)
			Eventually(stateOf(tech)).Should(Equal(active))
			Eventually(stateOf(mkt)).Should(Equal(active))
			activatedAt := tech.Status.ActivatedAt.DeepCopy()

			fakeClock.Step(time.Hour)
			update(offer, func(o *v1alpha1.Offer) { o.Spec.OptOut = true })
			Eventually(stateOf(tech)).Should(Equal(offerOptedOut))
			Eventually(stateOf(mkt)).Should(Equal(offerOptedOut))
			Expect(readyCondition(mkt.Status.Conditions).Message).To(ContainSubstring(`offer "trial"`))
			Eventually(activationEvents(tech)).Should(ContainElement("OptedOut"))

			update(offer, func(o *v1alpha1.Offer) { o.Spec.OptOut = false })
			Eventually(stateOf(tech)).Should(Equal(active))
			Eventually(stateOf(mkt)).Should(Equal(active))
			Expect(fetch(tech)().Status.ActivatedAt.Time).To(BeTemporally("==", activatedAt.Time))
		})
	})

	Context("prerequisites", func() {
		It("B1: waits Pending UnknownBenefit, with an Event, for a benefit not in the catalog, and heals when the program adds it", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			act := build.Activation(ns, "hack", offer.Name, "hackathon")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal("Pending/UnknownBenefit"))
			Expect(readyCondition(act.Status.Conditions).Message).To(And(ContainSubstring(`"hackathon"`), ContainSubstring(prog.Name)))
			Eventually(activationEvents(act)).Should(ContainElement("UnknownBenefit"))
			Expect(act.Spec.Benefit).To(Equal("hackathon"), "nothing the user wrote is changed")

			update(prog, func(p *v1alpha1.RewardsProgram) {
				p.Spec.Benefits = append(p.Spec.Benefits, v1alpha1.Benefit{
					Name: "hackathon", Category: v1alpha1.BenefitCategoryTechnical,
					ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTrial},
				})
			})
			Eventually(stateOf(act)).Should(Equal(active))
			Expect(act.Status.Category).To(Equal(v1alpha1.BenefitCategoryTechnical))
		})

		It("B2, P4: a Marketing benefit waits for a marketing contact and turns Active once one is added; a Technical one needs none", func() {
			bare := build.Publisher(ns, "fabrikam", build.Following(prog.Name))
			offer := build.Offer(ns, "trial", bare.Name, v1alpha1.ListingTypeTrial, now)
			mkt := build.Activation(ns, "webinar-1", offer.Name, "webinar")
			tech := build.Activation(ns, "presales", offer.Name, "presales-consult")
			create(bare, offer, mkt, tech)
			Eventually(stateOf(mkt)).Should(Equal("Pending/MarketingContactMissing"))
			Expect(readyCondition(mkt.Status.Conditions).Message).To(ContainSubstring("spec.marketingContact"))
			Eventually(stateOf(tech)).Should(Equal(active), "P4: Technical benefits need no contact")
			Expect(tech.Status.Category).To(Equal(v1alpha1.BenefitCategoryTechnical))

			update(bare, build.WithContact())
			Eventually(stateOf(mkt)).Should(Equal(active), "turns Active by itself")
			Expect(mkt.Status.Category).To(Equal(v1alpha1.BenefitCategoryMarketing))
		})

		It("B2, P2: waits Pending NotEnrolled until the publisher enrolls", func() {
			out := build.Publisher(ns, "fabrikam", build.Following(prog.Name), build.WithContact())
			out.Spec.Enrolled = false
			offer := build.Offer(ns, "trial", out.Name, v1alpha1.ListingTypeTrial, now)
			act := build.Activation(ns, "presales", offer.Name, "presales-consult")
			create(out, offer, act)
			Eventually(stateOf(act)).Should(Equal("Pending/NotEnrolled"))
			resynced(act)
			Expect(stateOf(act)()).To(Equal("Pending/NotEnrolled"))
			Expect(act.Status.ActivatedAt).To(BeNil())

			update(out, func(p *v1alpha1.Publisher) { p.Spec.Enrolled = true })
			Eventually(stateOf(act)).Should(Equal(active))
		})

		It("B2, O2: waits Pending OfferNotLive for a scheduled offer and turns Active at its liveAt", func() {
			liveAt := now.Add(2 * time.Hour)
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, liveAt)
			act := build.Activation(ns, "webinar-1", offer.Name, "webinar")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal("Pending/OfferNotLive"))

			reconciledAfter(func() { fakeClock.SetTime(liveAt.Add(-time.Second)) }, act)
			Expect(stateOf(act)()).To(Equal("Pending/OfferNotLive"))

			fakeClock.SetTime(liveAt)
			Eventually(stateOf(act)).Should(Equal(active))
			Expect(act.Status.ActivatedAt.Time).To(BeTemporally("==", liveAt))
			Eventually(activationEvents(act)).Should(ContainElement("Activated"))
		})

		It("B2: waits Pending BenefitNotForListingType for a benefit not offered for the offer's listing type", func() {
			trialOffer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now)
			onTrial := build.Activation(ns, "case-on-trial", trialOffer.Name, "case-study")
			onSaas := build.Activation(ns, "presales-on-saas", saas.Name, "presales-consult")
			create(trialOffer, saas, onTrial, onSaas)
			Eventually(stateOf(onTrial)).Should(Equal("Pending/BenefitNotForListingType"))
			Expect(readyCondition(onTrial.Status.Conditions).Message).To(ContainSubstring("Trial"))
			Eventually(stateOf(onSaas)).Should(Equal("Pending/BenefitNotForListingType"))
			resynced(onSaas)
			Expect(stateOf(onSaas)()).To(Equal("Pending/BenefitNotForListingType"))
		})

		It("B2, S6: a tier-2 Transact benefit waits TierNotReached and turns Active when billed sales reach 25000", func() {
			saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
			caseStudy := build.Activation(ns, "case", saas.Name, "case-study")
			badge := build.Activation(ns, "badge", saas.Name, "listing-badge")
			create(saas, build.SalesRecord(ns, "first", saas.Name, "20000", "USD", now.Add(-time.Hour)), caseStudy, badge)
			Eventually(stateOf(caseStudy)).Should(Equal("Pending/TierNotReached"))
			Expect(readyCondition(caseStudy.Status.Conditions).Message).To(ContainSubstring("needs tier 2"))
			Eventually(stateOf(badge)).Should(Equal(active), "tier 1 from a live Transact offer")

			create(build.SalesRecord(ns, "second", saas.Name, "5000", "USD", now.Add(-time.Hour)))
			Eventually(stateOf(caseStudy)).Should(Equal(active))
			Eventually(publisherTier(pub)).Should(Equal(int32(2)))
		})
	})

	Context("one-time use", func() {
		It("O3, B3, R8: the older activation of a one-time benefit wins, the other waits AlreadyUsed, even once the winner is deleted; another offer is another publication", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			// The older one has the name that sorts last, so only its age
			// can make it win.
			older := build.Activation(ns, "zz-older", offer.Name, "webinar")
			create(offer, older)
			Eventually(stateOf(older)).Should(Equal(active))
			// Creation timestamps have a resolution of one second: the next
			// one is strictly newer once the wall clock is in a later second.
			Eventually(func() bool { return time.Now().Truncate(time.Second).After(older.CreationTimestamp.Time) }).Should(BeTrue())

			newer := build.Activation(ns, "aa-newer", offer.Name, "webinar")
			create(newer)
			Expect(newer.CreationTimestamp.After(older.CreationTimestamp.Time)).To(BeTrue())
			Eventually(stateOf(newer)).Should(Equal(pendingAlready))
			Expect(readyCondition(newer.Status.Conditions).Message).To(ContainSubstring(`"zz-older"`))
			resynced(older, newer)
			Expect([]string{stateOf(older)(), stateOf(newer)()}).To(Equal([]string{active, pendingAlready}))

			// O3: each offer is a publication with its own set of benefits.
			other := build.Offer(ns, "trial-2", pub.Name, v1alpha1.ListingTypeTrial, now)
			again := build.Activation(ns, "webinar-2", other.Name, "webinar")
			create(other, again)
			Eventually(stateOf(again)).Should(Equal(active))

			// R8: a used one-time benefit stays used: the winner's grant
			// outlives it.
			reconciledAfter(func() { Expect(k8sClient.Delete(bg, older)).To(Succeed()) }, newer)
			Expect(stateOf(newer)()).To(Equal(pendingAlready), "deleting the winner does not free a benefit it used")
			Expect(readyCondition(newer.Status.Conditions).Message).To(ContainSubstring(`BenefitGrant "zz-older"`))
		})

		It("B3: with equal creation timestamps the name breaks the tie, whichever is created first", func() {
			// Both activations exist before their offer does, so the
			// operator decides with both in view: the later name is created
			// first, then the earlier one, in the same second (an attempt
			// that straddles a second is left alone and retried).
			var first, second *v1alpha1.BenefitActivation
			var offer *v1alpha1.Offer
			attempt := 0
			Eventually(func() bool {
				attempt++
				offer = build.Offer(ns, fmt.Sprintf("tie-%d", attempt), pub.Name, v1alpha1.ListingTypeTrial, now)
				second = build.Activation(ns, fmt.Sprintf("tie-%d-b", attempt), offer.Name, "webinar")
				first = build.Activation(ns, fmt.Sprintf("tie-%d-a", attempt), offer.Name, "webinar")
				create(second, first)
				return first.CreationTimestamp.Equal(&second.CreationTimestamp)
			}).Should(BeTrue())
			Eventually(stateOf(first)).Should(Equal("Pending/OfferNotFound"))
			Eventually(stateOf(second)).Should(Equal("Pending/OfferNotFound"))

			create(offer)
			Eventually(func() []string { return []string{stateOf(first)(), stateOf(second)()} }).
				Should(Equal([]string{active, pendingAlready}))
			Expect(readyCondition(second.Status.Conditions).Message).To(ContainSubstring(first.Name))
			Expect(grantOf(first)()).NotTo(BeNil(), "the winner holds the grant")
			Expect(grantOf(second)()).To(BeNil(), "the loser was never granted")
		})

		It("B3: ten activations of one one-time benefit decided at once by concurrent workers: exactly one grant, the others AlreadyUsed naming it", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			acts := make([]*v1alpha1.BenefitActivation, 0, 10)
			objs := make([]client.Object, 0, 10)
			for i := range 10 {
				a := build.Activation(ns, fmt.Sprintf("webinar-%d", i), offer.Name, "webinar")
				create(a)
				acts, objs = append(acts, a), append(objs, a)
			}
			for _, a := range acts {
				Eventually(stateOf(a)).Should(Equal("Pending/OfferNotFound"))
			}
			// The offer's appearance requeues all ten at once.
			create(offer)
			holder := ""
			Eventually(func() int {
				granted := 0
				for _, a := range acts {
					if grantOf(a)() != nil {
						granted++
						holder = a.Name
					}
				}
				return granted
			}).Should(Equal(1))
			for _, a := range acts {
				if a.Name == holder {
					Eventually(stateOf(a)).Should(Equal(active), a.Name)
					continue
				}
				Eventually(stateOf(a)).Should(Equal(pendingAlready), a.Name)
				Expect(readyCondition(a.Status.Conditions).Message).To(ContainSubstring(holder), a.Name)
			}
			resynced(objs...)
			granted := 0
			for _, a := range acts {
				if grantOf(a)() != nil {
					granted++
				}
			}
			Expect(granted).To(Equal(1), "still one grant after every activation was decided again")
		})

		It("B3, R6: a granted one-time benefit is not taken back by a sibling that would have won the tie-break", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			holder := build.Activation(ns, "zz-holder", offer.Name, "webinar")
			create(offer, holder)
			Eventually(stateOf(holder)).Should(Equal(active))
			// A sibling with an earlier name; whatever its timestamp, the
			// benefit was granted and used.
			late := build.Activation(ns, "aa-late", offer.Name, "webinar")
			create(late)
			Eventually(stateOf(late)).Should(Equal(pendingAlready))
			Expect(readyCondition(late.Status.Conditions).Message).To(ContainSubstring(holder.Name))
			Expect(stateOf(holder)()).To(Equal(active))
		})
	})

	Context("contact", func() {
		It("B4: sets activatedAt once, makes contact due 7 days later, shows ContactOverdue at that instant and closes it with contactedAt", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			act := build.Activation(ns, "webinar-1", offer.Name, "webinar")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal(active))
			Expect(act.Status.ActivatedAt.Time).To(BeTemporally("==", now))
			due := now.Add(7 * 24 * time.Hour)
			Expect(act.Status.ContactDueBy.Time).To(BeTemporally("==", due))
			Expect(contactOverdue(act)()).To(Equal("False/ContactPending"))

			reconciledAfter(func() { fakeClock.SetTime(due.Add(-time.Second)) }, act)
			Expect(contactOverdue(act)()).To(Equal("False/ContactPending"))

			fakeClock.SetTime(due)
			Eventually(contactOverdue(act)).Should(Equal("True/ContactOverdue"))
			Eventually(activationEvents(act)).Should(ContainElement("ContactOverdue"))
			Expect(stateOf(act)()).To(Equal(active), "an overdue contact does not end the benefit")

			update(act, func(a *v1alpha1.BenefitActivation) { a.Spec.ContactedAt = &metav1.Time{Time: due.Add(time.Hour)} })
			Eventually(contactOverdue(act)).Should(Equal("False/Contacted"))
			Expect(act.Status.ActivatedAt.Time).To(BeTemporally("==", now), "activatedAt is set once")
			Expect(act.Status.ContactDueBy.Time).To(BeTemporally("==", due))
		})
	})

	Context("terminal outcomes", func() {
		It("B5, O4: an Expired activation stays Expired when the program lengthens the expiry", func() {
			liveAt := now.Add(-time.Hour)
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, liveAt)
			act := build.Activation(ns, "presales", offer.Name, "presales-consult")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal(active))
			expiresAt := act.Status.ExpiresAt.Time

			fakeClock.SetTime(expiresAt)
			Eventually(stateOf(act)).Should(Equal(expired))

			update(prog, func(p *v1alpha1.RewardsProgram) { p.Spec.Durations.TrialConsultingExpiryMonths = ptr.To[int32](6) })
			Eventually(func() *metav1.Time { return fetch(offer)().Status.BenefitsExpireAt }).
				Should(HaveField("Time", BeTemporally("==", rewards.AddCalendarMonths(liveAt, 6))), "the program change was seen")
			resynced(act)
			Expect(stateOf(act)()).To(Equal(expired), "Expired is terminal")
			Expect(act.Status.ExpiredAt.Time).To(BeTemporally("==", expiresAt))
		})

		It("B5, O4: an activation whose expiry passed while the operator was down is Expired after a restart", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			act := build.Activation(ns, "presales", offer.Name, "presales-consult")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal(active))
			expiresAt := act.Status.ExpiresAt.Time

			stopManager()
			DeferCleanup(func() {
				if mgr == nil { // a failure before the restart
					startManager()
				}
			})
			fakeClock.SetTime(expiresAt.Add(time.Hour))
			Expect(stateOf(act)()).To(Equal(active), "the operator is stopped: its last status stands")

			startManager()
			Eventually(stateOf(act)).Should(Equal(expired))
			Expect(act.Status.ExpiredAt.Time).To(BeTemporally("==", expiresAt), "expired at its instant, not at the restart")
			Eventually(activationEvents(act)).Should(ContainElement("Expired"))
		})
	})

	Context("revocation", func() {
		It("R1, B5: a violation revokes Active activations and holds Pending ones; removing it lets the Pending proceed, not the Revoked", func() {
			live := build.Offer(ns, "live", pub.Name, v1alpha1.ListingTypeTrial, now)
			soonAt := now.Add(2 * time.Hour)
			soon := build.Offer(ns, "soon", pub.Name, v1alpha1.ListingTypeTrial, soonAt)
			activeOne := build.Activation(ns, "active-one", live.Name, "presales-consult")
			pendingOne := build.Activation(ns, "pending-one", soon.Name, "presales-consult")
			create(live, soon, activeOne, pendingOne)
			Eventually(stateOf(activeOne)).Should(Equal(active))
			Eventually(stateOf(pendingOne)).Should(Equal("Pending/OfferNotLive"))

			violationAt := now.Add(-24 * time.Hour)
			update(pub, func(p *v1alpha1.Publisher) {
				p.Spec.Violations = []v1alpha1.Violation{{Type: v1alpha1.ViolationSponsorshipPolicy, Time: metav1.NewTime(violationAt), Note: "bitcoin mining"}}
			})
			Eventually(stateOf(activeOne)).Should(Equal(revoked))
			rev := activeOne.Status.Revocation
			Expect(rev).NotTo(BeNil())
			Expect(rev.Reason).To(Equal(v1alpha1.RevocationViolation))
			Expect(rev.CausedBy).To(Equal(&v1alpha1.ObjectReference{Kind: "Publisher", Name: pub.Name}))
			Expect(rev.Time.Time).To(BeTemporally("==", now))
			Expect(rev.Message).To(ContainSubstring("SponsorshipPolicy"))
			Expect(meta.IsStatusConditionTrue(activeOne.Status.Conditions, "Stalled")).To(BeTrue())
			Eventually(activationEvents(activeOne)).Should(ContainElement("Revoked"))

			Eventually(stateOf(pendingOne)).Should(Equal(pendingViolation))
			Expect(readyCondition(pendingOne.Status.Conditions).Message).To(ContainSubstring("SponsorshipPolicy"))
			later := build.Offer(ns, "later", pub.Name, v1alpha1.ListingTypeTrial, now)
			newOne := build.Activation(ns, "new-one", later.Name, "presales-consult")
			create(later, newOne)
			Eventually(stateOf(newOne)).Should(Equal(pendingViolation), "new ones stay Pending too")

			Eventually(func() int64 { return fetch(pub)().Status.RevocationCount }).Should(Equal(int64(1)))
			Expect(pub.Status.Standing).To(Equal(v1alpha1.StandingViolation))
			Expect(pub.Status.Revocations).To(HaveLen(1))
			entry := pub.Status.Revocations[0]
			Expect(entry.Activation).To(Equal(activeOne.Name))
			Expect(entry.Benefit).To(Equal("presales-consult"))
			Expect(entry.Reason).To(Equal(v1alpha1.RevocationViolation))
			Expect(entry.CausedBy).To(Equal(&v1alpha1.ObjectReference{Kind: "Publisher", Name: pub.Name}))
			Expect(entry.Time.Time).To(BeTemporally("==", now))

			update(pub, func(p *v1alpha1.Publisher) { p.Spec.Violations = nil })
			Eventually(stateOf(newOne)).Should(Equal(active))
			Eventually(stateOf(pendingOne)).Should(Equal("Pending/OfferNotLive"), "back to its own first missing prerequisite")
			resynced(activeOne)
			Expect(stateOf(activeOne)()).To(Equal(revoked), "B5: Revoked is terminal")

			fakeClock.SetTime(soonAt)
			Eventually(stateOf(pendingOne)).Should(Equal(active))
			Eventually(func() v1alpha1.Standing { return fetch(pub)().Status.Standing }).Should(Equal(v1alpha1.StandingGood))
			Expect(pub.Status.RevocationCount).To(Equal(int64(1)), "the history is not rewritten")
			Expect(stateOf(activeOne)()).To(Equal(revoked))
		})

		It("R2: delisting an offer revokes its Active and Pending activations at delistedAt", func() {
			bare := build.Publisher(ns, "fabrikam", build.Following(prog.Name)) // no contact: Marketing benefits wait
			offer := build.Offer(ns, "trial", bare.Name, v1alpha1.ListingTypeTrial, now)
			stays := build.Offer(ns, "trial-2", bare.Name, v1alpha1.ListingTypeTrial, now)
			tech := build.Activation(ns, "presales", offer.Name, "presales-consult")
			mkt := build.Activation(ns, "webinar-1", offer.Name, "webinar")
			other := build.Activation(ns, "presales-2", stays.Name, "presales-consult")
			create(bare, offer, stays, tech, mkt, other)
			Eventually(stateOf(tech)).Should(Equal(active))
			Eventually(stateOf(mkt)).Should(Equal("Pending/MarketingContactMissing"))
			Eventually(stateOf(other)).Should(Equal(active))

			delistAt := now.Add(time.Hour)
			update(offer, func(o *v1alpha1.Offer) { o.Spec.DelistedAt = &metav1.Time{Time: delistAt} })
			reconciledAfter(func() { fakeClock.SetTime(delistAt.Add(-time.Second)) }, tech, mkt)
			Expect([]string{stateOf(tech)(), stateOf(mkt)()}).To(Equal([]string{active, "Pending/MarketingContactMissing"}))

			fakeClock.SetTime(delistAt)
			for _, a := range []*v1alpha1.BenefitActivation{tech, mkt} {
				Eventually(stateOf(a)).Should(Equal(revoked), a.Name)
				Expect(a.Status.Revocation.Reason).To(Equal(v1alpha1.RevocationOfferDelisted))
				Expect(a.Status.Revocation.CausedBy).To(Equal(&v1alpha1.ObjectReference{Kind: "Offer", Name: offer.Name}))
				Expect(a.Status.Revocation.Time.Time).To(BeTemporally("==", delistAt))
			}
			resynced(other)
			Expect(stateOf(other)()).To(Equal(active), "another publication is not affected")
			Expect(mkt.Status.Revocation.RecordedAt).To(BeNil(), "never granted: nothing recorded")
			Expect(tech.Status.Revocation.RecordedAt.Time).To(BeTemporally("==", delistAt))
			// The history holds what was granted and taken away: tech only.
			Eventually(func() int64 { return fetch(bare)().Status.RevocationCount }).Should(Equal(int64(1)))
			Expect(bare.Status.Revocations[0].Activation).To(Equal(tech.Name))
		})

		It("R3: a sales line with fraud Suspected revokes the publisher's active Transact benefits, on every offer", func() {
			saasA := build.Offer(ns, "saas-a", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
			saasB := build.Offer(ns, "saas-b", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
			trial := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			badge := build.Activation(ns, "badge", saasA.Name, "listing-badge")
			caseStudy := build.Activation(ns, "case", saasB.Name, "case-study")
			tech := build.Activation(ns, "presales", trial.Name, "presales-consult")
			create(saasA, saasB, trial, build.SalesRecord(ns, "big", saasA.Name, "30000", "USD", now.Add(-time.Hour)), badge, caseStudy, tech)
			for _, a := range []*v1alpha1.BenefitActivation{badge, caseStudy, tech} {
				Eventually(stateOf(a)).Should(Equal(active), a.Name)
			}

			suspect := build.SalesRecord(ns, "suspect", saasB.Name, "100", "USD", now.Add(-time.Hour))
			suspect.Spec.Fraud = v1alpha1.FraudSuspected
			create(suspect)
			for _, a := range []*v1alpha1.BenefitActivation{badge, caseStudy} {
				Eventually(stateOf(a)).Should(Equal(revoked), a.Name)
				Expect(a.Status.Revocation.Reason).To(Equal(v1alpha1.RevocationFraud))
				Expect(a.Status.Revocation.CausedBy).To(Equal(&v1alpha1.ObjectReference{Kind: "SalesRecord", Name: suspect.Name}))
			}
			resynced(tech)
			Expect(stateOf(tech)()).To(Equal(active), "only Transact benefits")
			Eventually(func() int64 { return fetch(pub)().Status.RevocationCount }).Should(Equal(int64(2)))

			late := build.Activation(ns, "badge-2", saasB.Name, "listing-badge")
			create(late)
			Eventually(stateOf(late)).Should(Equal("Pending/FraudReported"), "a new Transact benefit waits while fraud is reported")
		})

		It("R4: a cancelled purchase revokes the Transact benefits it alone had unlocked; a lower-tier one stays Active", func() {
			saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
			base := build.SalesRecord(ns, "base", saas.Name, "20000", "USD", now.Add(-2*time.Hour))
			over := build.SalesRecord(ns, "over", saas.Name, "10000", "USD", now.Add(-time.Hour))
			caseStudy := build.Activation(ns, "case", saas.Name, "case-study")
			badge := build.Activation(ns, "badge", saas.Name, "listing-badge")
			create(saas, base, over, caseStudy, badge)
			Eventually(stateOf(caseStudy)).Should(Equal(active))
			Eventually(stateOf(badge)).Should(Equal(active))
			Eventually(publisherTier(pub)).Should(Equal(int32(2)))

			update(over, func(s *v1alpha1.SalesRecord) {
				s.Spec.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase}
			})
			Eventually(stateOf(caseStudy)).Should(Equal(revoked))
			Expect(caseStudy.Status.Revocation.Reason).To(Equal(v1alpha1.RevocationCancellation))
			Expect(caseStudy.Status.Revocation.CausedBy).To(Equal(&v1alpha1.ObjectReference{Kind: "SalesRecord", Name: over.Name}))
			Eventually(publisherTier(pub)).Should(Equal(int32(1)))
			resynced(badge)
			Expect(stateOf(badge)()).To(Equal(active), "tier 1 is still reached")
		})

		It("R5: with a trailing window, a tier-2 benefit stays Active when the tier drops because a line ages out (keepUnlockedBenefits default); with it false the benefit waits", func() {
			update(prog, func(p *v1alpha1.RewardsProgram) { p.Spec.SalesWindow = v1alpha1.SalesWindowTrailing12Months })
			strict := activationProgram()
			strict.Spec.SalesWindow = v1alpha1.SalesWindowTrailing12Months
			strict.Spec.Revocation.KeepUnlockedBenefits = ptr.To(false)
			ns2 := newNamespace()
			pub2 := build.Publisher(ns2, "fabrikam", build.Following(strict.Name), build.WithContact())
			create(strict, pub2)

			billed := now.Add(-time.Hour)
			create(build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, billed.Add(-24*time.Hour)),
				build.SalesRecord(ns, "old", "saas", "30000", "USD", billed),
				build.Offer(ns2, "saas", pub2.Name, v1alpha1.ListingTypeTransact, billed.Add(-24*time.Hour)),
				build.SalesRecord(ns2, "old", "saas", "30000", "USD", billed))
			kept := build.Activation(ns, "case", "saas", "case-study")
			dropped := build.Activation(ns2, "case", "saas", "case-study")
			create(kept, dropped)
			Eventually(stateOf(kept)).Should(Equal(active))
			Eventually(stateOf(dropped)).Should(Equal(active))

			agesOut := rewards.AddCalendarMonths(billed, 12)
			fakeClock.SetTime(agesOut)
			Eventually(publisherTier(pub)).Should(Equal(int32(1)))
			Eventually(publisherTier(pub2)).Should(Equal(int32(1)))
			Eventually(stateOf(dropped)).Should(Equal("Pending/TierNotReached"), "the tier drop was evaluated")
			Expect(readyCondition(dropped.Status.Conditions).Message).To(ContainSubstring("keepUnlockedBenefits"))
			droppedWrites := writes.of(dropped)
			resynced(dropped, kept)
			Expect(writes.of(dropped)).To(Equal(droppedWrites), "a further reconcile changes nothing")
			Expect(readyCondition(fetch(dropped)().Status.Conditions).Message).To(ContainSubstring("keepUnlockedBenefits"))
			Expect(stateOf(kept)()).To(Equal(active), "R5: unlocked benefits are kept")
			Expect(kept.Status.Revocation).To(BeNil())
			Expect(fetch(pub)().Status.RevocationCount).To(BeZero())
		})
	})
})
