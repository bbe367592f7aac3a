package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var _ = Describe("References to missing objects", func() {
	var (
		ns  string
		now time.Time
	)
	BeforeEach(func() {
		ns = newNamespace()
		now = fakeClock.Now()
	})

	It("shows PublisherNotFound on an offer and heals when the publisher is created", func() {
		prog := build.Program()
		create(prog)
		offer := build.Offer(ns, "orphan", "late-publisher", v1alpha1.ListingTypeTransact, now.Add(-time.Hour))
		create(offer)
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(offer)().Status.Conditions })).Should(Equal("PublisherNotFound"))
		Expect(readyCondition(offer.Status.Conditions).Message).To(ContainSubstring(`"late-publisher"`))
		Eventually(func() []string { return eventReasons(offer) }).Should(ContainElement("PublisherNotFound"))

		create(build.Publisher(ns, "late-publisher", build.Following(prog.Name)))
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(offer)().Status.Conditions })).Should(Equal("Live"))
		Expect(readyCondition(offer.Status.Conditions).Status).To(Equal(metav1.ConditionTrue))
	})

	It("shows OfferNotFound on a sales line and counts it when the offer is created", func() {
		prog := build.Program()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name))
		rec := build.SalesRecord(ns, "early", "late-offer", "30000", "USD", now.Add(-time.Hour))
		create(prog, pub, rec)
		Eventually(func() string { return fetch(rec)().Status.Reason }).Should(Equal(v1alpha1.SalesOfferNotFound))
		Expect(readyCondition(rec.Status.Conditions).Status).To(Equal(metav1.ConditionFalse))

		create(build.Offer(ns, "late-offer", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-time.Hour)))
		Eventually(func() bool { return fetch(rec)().Status.Counted }).Should(BeTrue())
		Expect(rec.Status.Publisher).To(Equal("contoso"))
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
	})

	It("shows ProgramNotFound on a publisher and computes its tier once the program exists", func() {
		prog := build.Program()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name))
		create(pub, build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-time.Hour)),
			build.SalesRecord(ns, "l", "saas", "30000", "USD", now.Add(-time.Hour)))
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(pub)().Status.Conditions })).Should(Equal("ProgramNotFound"))
		Expect(readyCondition(pub.Status.Conditions).Status).To(Equal(metav1.ConditionFalse))
		Expect(pub.Status.Tier).To(Equal(int32(0)))
		Eventually(func() []string { return eventReasons(pub) }).Should(ContainElement("ProgramNotFound"))

		create(prog)
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(pub)().Status.Conditions })).Should(Equal("TierComputed"))
		Expect(pub.Status.Tier).To(Equal(int32(2)))
	})

	It("shows a program that names a benefit missing from its catalog as not Ready, and publishers with it", func() {
		// Admission refuses such a program; one stored before its rules
		// existed still reaches the operator, which checks again.
		prog := build.Program()
		prog.Spec.Tiers[2].Benefits = append(prog.Spec.Tiers[2].Benefits, "no-such-benefit")
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name))
		Expect(testenv.CreateWithoutValidation(bg, k8sClient, prog)).To(Succeed())
		create(pub)
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(prog)().Status.Conditions })).Should(Equal("UnknownBenefit"))
		Expect(readyCondition(prog.Status.Conditions).Message).To(ContainSubstring(`"no-such-benefit"`))
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(pub)().Status.Conditions })).Should(Equal("ProgramInvalid"))

		update(prog, func(p *v1alpha1.RewardsProgram) { p.Spec.Tiers[2].Benefits = []string{"campaign"} })
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(prog)().Status.Conditions })).Should(Equal("Valid"))
		Expect(prog.Status.RulesGeneration).To(Equal(prog.Generation))
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(pub)().Status.Conditions })).Should(Equal("TierComputed"))
	})
})

var _ = Describe("Status writes", func() {
	It("writes no status when a reconcile changes nothing", func() {
		ns := newNamespace()
		now := fakeClock.Now()
		prog := build.Program()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name))
		offer := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-time.Hour))
		rec := build.SalesRecord(ns, "l", "saas", "30000", "USD", now.Add(-time.Hour))
		create(prog, pub, offer, rec)

		// The final statuses, each computed from every object: no later
		// write can be due. (A write computed from a cache that was behind
		// is refused by its resourceVersion, so it cannot land late.)
		Eventually(func() bool {
			p := fetch(pub)()
			return p.Status.Tier == 2 && p.Status.SalesRecords.Counted == 1 && p.Status.Offers.Live == 1 &&
				p.Status.ObservedGeneration == p.Generation && readyReasonOf(func() []metav1.Condition { return p.Status.Conditions })() == "TierComputed"
		}).Should(BeTrue())
		Eventually(func() bool { return fetch(rec)().Status.Counted }).Should(BeTrue())
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(offer)().Status.Conditions })).Should(Equal("Live"))
		// And the program's own: its rules recorded, its status at its
		// generation.
		Eventually(func() bool {
			p := fetch(prog)()
			return p.Status.ObservedGeneration == p.Generation && p.Status.Revision != ""
		}).Should(BeTrue())
		pubWrites, offerWrites, recWrites := writes.of(pub), writes.of(offer), writes.of(rec)
		Expect(pubWrites).To(BeNumerically(">=", 1))
		progWrites := writes.of(prog)

		// A program edit that changes no rule re-reconciles the publisher,
		// its offer and its sales line; none of their statuses changes.
		reconciledAfter(func() { update(prog, func(p *v1alpha1.RewardsProgram) { p.Spec.Description = "edited, same rules" }) }, pub, offer, rec)
		Expect([]int{writes.of(pub), writes.of(offer), writes.of(rec)}).To(Equal([]int{pubWrites, offerWrites, recWrites}))
		Eventually(func() int64 { return fetch(prog)().Status.ObservedGeneration }).Should(Equal(prog.Generation))
		// Its observedGeneration moves; recording the new generation on its
		// revision (Event RevisionRecorded) may land in the same write or,
		// when the revision event comes after it, in a second one.
		Expect(writes.of(prog)).To(BeElementOf(progWrites+1, progWrites+2), "the program's own observedGeneration moved")

		// The same watch path carries a rule change: one write.
		update(prog, func(p *v1alpha1.RewardsProgram) { p.Spec.Tiers[1].MinBilledSales = "40000" })
		Eventually(publisherTier(pub)).Should(Equal(int32(1)))
		Expect(writes.of(pub)).To(Equal(pubWrites + 1))
	})
})
