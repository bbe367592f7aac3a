package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/controllers"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// Program safety (docs/rules.md): whatever admission lets through never changes
// a decision already made; the last valid rules stay in force, and a
// program that was never valid decides nothing. Admission refuses every
// inconsistency the operator detects, so these tests store the invalid
// program with the CRD's rules lifted, as an object stored before them.
var _ = Describe("Program safety", func() {
	var (
		ns  string
		now time.Time
	)
	BeforeEach(func() {
		ns = newNamespace()
		now = clockAtWholeSecond()
	})

	// breaks makes a program inconsistent in a way only the operator's own
	// check sees once admission is lifted, and raises tier 2's threshold so
	// that rules taken from it would change the tier.
	breaks := func(p *v1alpha1.RewardsProgram) {
		p.Spec.Tiers[1].MinBilledSales = "40000"
		p.Spec.Tiers[2].Benefits = append(p.Spec.Tiers[2].Benefits, "no-such-benefit")
	}

	It("keeps the last valid rules in force when a newer spec is not valid: tiers and benefits stay as they were, rulesGeneration says which", func() {
		prog := activationProgram()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
		caseStudy := build.Activation(ns, "case", saas.Name, "case-study")
		create(prog, pub, saas, build.SalesRecord(ns, "l", saas.Name, "30000", "USD", now.Add(-time.Hour)), caseStudy)
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
		Eventually(stateOf(caseStudy)).Should(Equal(active))
		Eventually(func() int64 { return fetch(prog)().Status.RulesGeneration }).Should(Equal(prog.Generation))
		validGeneration := prog.Generation

		broken := fetch(prog)()
		breaks(broken)
		Expect(testenv.UpdateWithoutValidation(bg, k8sClient, broken)).To(Succeed())
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(prog)().Status.Conditions })).Should(Equal("UnknownBenefit"))
		Expect(prog.Status.ObservedGeneration).To(Equal(broken.Generation))
		Expect(prog.Status.RulesGeneration).To(Equal(validGeneration), "rulesGeneration: the rules in force")
		Expect(readyCondition(prog.Status.Conditions).Message).To(ContainSubstring("stay in force"))

		// The publisher is reconciled under the program's new generation
		// (its message says so), and its tier is the old rules' tier.
		Eventually(func() string { return readyCondition(fetch(pub)().Status.Conditions).Message }).Should(ContainSubstring("stay in force"))
		Expect(pub.Status.Tier).To(Equal(int32(2)), "40000 would be tier 1: the invalid spec decides nothing")
		Expect(readyCondition(pub.Status.Conditions).Reason).To(Equal("TierComputed"))
		Expect(stateOf(caseStudy)()).To(Equal(active))

		// A new activation is decided by the rules in force too.
		again := build.Activation(ns, "case-2", saas.Name, "case-study")
		create(again)
		Eventually(stateOf(again)).Should(Equal(active), "tier 2 unlocks case-study under the rules in force")
	})

	It("decides nothing with a program that was never valid: publishers get no tier, activations wait ProgramInvalid", func() {
		prog := activationProgram()
		breaks(prog)
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
		badge := build.Activation(ns, "badge", saas.Name, "listing-badge")
		Expect(testenv.CreateWithoutValidation(bg, k8sClient, prog)).To(Succeed())
		create(pub, saas, build.SalesRecord(ns, "l", saas.Name, "300000", "USD", now.Add(-time.Hour)), badge)

		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(pub)().Status.Conditions })).Should(Equal("ProgramInvalid"))
		Expect(pub.Status.Tier).To(BeZero(), "no tier under a program never valid")
		Expect(readyCondition(pub.Status.Conditions).Message).To(ContainSubstring("never was"))
		Eventually(stateOf(badge)).Should(Equal("Pending/ProgramInvalid"))
		Expect(grantOf(badge)()).To(BeNil())
		Expect(fetch(prog)().Status.RulesGeneration).To(BeZero())
		Expect(prog.Status.RulesInForce).To(BeNil())
	})

	It("after a status wipe while the spec is not valid, the last valid rules stay in force: the RewardsProgramRevision keeps them, not the status", func() {
		prog := activationProgram()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
		caseStudy := build.Activation(ns, "case", saas.Name, "case-study")
		create(prog, pub, saas, build.SalesRecord(ns, "l", saas.Name, "30000", "USD", now.Add(-time.Hour)), caseStudy)
		Eventually(stateOf(caseStudy)).Should(Equal(active))
		activatedAt := caseStudy.Status.ActivatedAt.Time
		Eventually(func() int64 { return fetch(prog)().Status.RulesGeneration }).Should(Equal(prog.Generation))
		revision := prog.Status.Revision
		Expect(revision).NotTo(BeEmpty())
		Expect(grantOf(caseStudy)().Spec.Program).To(Equal(&v1alpha1.GrantedUnder{Name: prog.Name, Revision: revision}),
			"the grant names the rules it was granted under")
		var rev v1alpha1.RewardsProgramRevision
		Expect(k8sClient.Get(bg, types.NamespacedName{Name: revision}, &rev)).To(Succeed())
		Expect(rev.Spec.Program).To(Equal(prog.Name))
		Expect(rev.Spec.Rules).To(Equal(prog.Spec))

		broken := fetch(prog)()
		breaks(broken)
		Expect(testenv.UpdateWithoutValidation(bg, k8sClient, broken)).To(Succeed())
		Eventually(func() int64 { return fetch(prog)().Status.ObservedGeneration }).Should(Equal(broken.Generation))

		By("wiping the program's status")
		Expect(k8sClient.Status().Patch(bg, &v1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: prog.Name}},
			client.RawPatch(types.MergePatchType, []byte(`{"status":null}`)))).To(Succeed())
		// The operator's cache must have seen the wipe (a status change is
		// not an event the publishers' reconciles follow).
		Eventually(func() bool {
			var cached v1alpha1.RewardsProgram
			Expect(mgr.GetClient().Get(bg, client.ObjectKeyFromObject(prog), &cached)).To(Succeed())
			return cached.Status.RulesInForce == nil
		}).Should(BeTrue())
		// A publisher edit is an event: the publisher and its activations
		// are reconciled with what the record says.
		update(pub, func(p *v1alpha1.Publisher) { p.Spec.DisplayName = "Contoso" })
		resynced(pub, caseStudy)
		Expect(readyCondition(fetch(pub)().Status.Conditions).Message).To(ContainSubstring(revision))
		Expect(pub.Status.Tier).To(Equal(int32(2)), "the last valid rules, from their revision: 30000 is tier 2")
		Expect(stateOf(caseStudy)()).To(Equal(active))
		again := build.Activation(ns, "case-2", saas.Name, "case-study")
		create(again)
		Eventually(stateOf(again)).Should(Equal(active), "tier 2 unlocks case-study under the rules in force")
		Expect(grantOf(again)().Spec.Program.Revision).To(Equal(revision), "granted under the last valid rules")
		fakeClock.Step(controllers.DefaultResyncPeriod)
		Eventually(func() string { return fetch(prog)().Status.Revision }).Should(Equal(revision), "the program's status is rebuilt from its revision")
		Expect(prog.Status.RulesInForce).NotTo(BeNil())

		By("fixing the spec")
		update(prog, func(p *v1alpha1.RewardsProgram) { p.Spec.Tiers[2].Benefits = []string{"campaign"} })
		Eventually(publisherTier(pub)).Should(Equal(int32(1)), "the fixed spec's 40000 threshold is in force now")
		Eventually(stateOf(caseStudy)).Should(Equal(active), "granted at tier 2: kept through the drop (R5), same grant")
		Expect(caseStudy.Status.ActivatedAt.Time).To(BeTemporally("==", activatedAt))
		Expect(countEvents(caseStudy, "Activated")).To(Equal(1))
		Eventually(func() string { return fetch(prog)().Status.Revision }).ShouldNot(Equal(revision), "the fixed rules have a revision of their own")
	})
})
