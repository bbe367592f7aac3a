package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var _ = Describe("Tier engine", func() {
	var (
		ns   string
		prog *v1alpha1.RewardsProgram
		pub  *v1alpha1.Publisher
		now  time.Time
	)

	BeforeEach(func() {
		ns = newNamespace()
		now = fakeClock.Now()
		prog = build.Program()
		pub = build.Publisher(ns, "contoso", build.Following(prog.Name))
		create(prog, pub)
	})

	It("S6: raises the tier as sales lines arrive", func() {
		create(build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)))
		Eventually(publisherTier(pub)).Should(Equal(int32(1)), "T1: any live Transact offer")

		create(build.SalesRecord(ns, "line-1", "saas", "20000", "USD", now.Add(-time.Hour)))
		Eventually(publisherSales(pub)).Should(Equal(v1alpha1.DerivedMoney("20000.00")))
		Expect(fetch(pub)().Status.Tier).To(Equal(int32(1)))
		Expect(pub.Status.NextTier).NotTo(BeNil())
		Expect(pub.Status.NextTier.Level).To(Equal(int32(2)))
		Expect(pub.Status.NextTier.BilledSalesMissing).To(Equal(v1alpha1.DerivedMoney("5000.00")), "S7: what is missing")

		create(build.SalesRecord(ns, "line-2", "saas", "5000.01", "USD", now.Add(-time.Hour)))
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
		Expect(fetch(pub)().Status.BilledSales).To(Equal(v1alpha1.DerivedMoney("25000.01")), "S2: exact sum")

		create(build.SalesRecord(ns, "line-3", "saas", "74999.99", "USD", now.Add(-time.Hour)))
		Eventually(publisherTier(pub)).Should(Equal(int32(3)))
		p := fetch(pub)()
		Expect(p.Status.BilledSales).To(Equal(v1alpha1.DerivedMoney("100000.00")))
		Expect(p.Status.SalesRecords.Counted).To(Equal(int32(3)))
		Expect(p.Status.Offers.Transact).To(Equal(int32(1)))
		Expect(readyCondition(p.Status.Conditions).Status).To(Equal(metav1.ConditionTrue))
		Expect(readyCondition(p.Status.Conditions).ObservedGeneration).To(Equal(p.Generation))
		Eventually(func() []string { return eventReasons(pub) }).Should(ContainElement("TierChanged"))
	})

	It("keeps same-named publishers, offers and lines of two namespaces apart", func() {
		// The field indexes answer lists within one namespace: a publisher's
		// offers, an offer's lines (indexInNamespaces).
		other := newNamespace()
		twin := build.Publisher(other, pub.Name, build.Following(prog.Name))
		create(twin)
		create(build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)),
			build.Offer(other, "saas", twin.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)),
			build.SalesRecord(ns, "line-1", "saas", "20000", "USD", now.Add(-time.Hour)),
			build.SalesRecord(other, "line-1", "saas", "7000", "USD", now.Add(-time.Hour)),
			build.SalesRecord(other, "line-2", "saas", "100", "USD", now.Add(-time.Hour)))
		Eventually(publisherSales(pub)).Should(Equal(v1alpha1.DerivedMoney("20000.00")))
		Eventually(publisherSales(twin)).Should(Equal(v1alpha1.DerivedMoney("7100.00")))
		Expect(fetch(pub)().Status.SalesRecords.Counted).To(Equal(int32(1)))
		Expect(pub.Status.Offers.Transact).To(Equal(int32(1)))
		Expect(fetch(twin)().Status.SalesRecords.Counted).To(Equal(int32(2)))
		Expect(twin.Status.Offers.Transact).To(Equal(int32(1)))
	})

	It("S1: sales of offers that are not Transact do not count", func() {
		create(build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now.Add(-24*time.Hour)),
			build.SalesRecord(ns, "trial-line", "trial", "50000", "USD", now.Add(-time.Hour)))
		rec := &v1alpha1.SalesRecord{}
		rec.Namespace, rec.Name = ns, "trial-line"
		Eventually(func() string { return fetch(rec)().Status.Reason }).Should(Equal(v1alpha1.SalesOfferNotTransact))
		Expect(rec.Status.Counted).To(BeFalse())
		Expect(readyCondition(rec.Status.Conditions).Status).To(Equal(metav1.ConditionTrue), "the verdict is final")
		Eventually(func() int32 { return fetch(pub)().Status.SalesRecords.Excluded }).Should(Equal(int32(1)))
		Expect(pub.Status.Tier).To(Equal(int32(0)), "no Transact offer, no tier")
		Expect(pub.Status.NextTier.NeedsLiveTransactOffer).To(BeTrue())
	})

	It("S3: lowers the tier when a line is proven fraudulent or cancelled", func() {
		create(build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)))
		big := build.SalesRecord(ns, "big", "saas", "80000", "USD", now.Add(-time.Hour))
		small := build.SalesRecord(ns, "small", "saas", "30000", "USD", now.Add(-time.Hour))
		create(big, small)
		Eventually(publisherTier(pub)).Should(Equal(int32(3)))

		update(big, func(s *v1alpha1.SalesRecord) { s.Spec.Fraud = v1alpha1.FraudProven })
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
		Eventually(func() string { return fetch(big)().Status.Reason }).Should(Equal(v1alpha1.SalesFraudProven))
		Expect(big.Status.Counted).To(BeFalse())
		Eventually(func() []string { return eventReasons(big) }).Should(ContainElement("CountingStopped"))

		update(small, func(s *v1alpha1.SalesRecord) {
			s.Spec.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase}
		})
		Eventually(publisherTier(pub)).Should(Equal(int32(1)))
		Eventually(func() string { return fetch(small)().Status.Reason }).Should(Equal(v1alpha1.SalesCancelled))
		Expect(fetch(pub)().Status.BilledSales).To(Equal(v1alpha1.DerivedMoney("0.00")))
	})

	It("S3: a line with fraud only Suspected still counts", func() {
		create(build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)))
		s := build.SalesRecord(ns, "suspect", "saas", "30000", "USD", now.Add(-time.Hour))
		s.Spec.Fraud = v1alpha1.FraudSuspected
		create(s)
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
	})

	It("S2: counts a line in a currency without a rate as soon as the program adds the rate", func() {
		create(build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)))
		eur := build.SalesRecord(ns, "eur-line", "saas", "25000", "EUR", now.Add(-time.Hour))
		create(eur)
		Eventually(func() string { return fetch(eur)().Status.Reason }).Should(Equal(v1alpha1.SalesNoExchangeRate))
		cond := readyCondition(eur.Status.Conditions)
		Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		Expect(cond.Message).To(ContainSubstring("spec.exchangeRates"))
		Eventually(func() []string { return eventReasons(eur) }).Should(ContainElement(v1alpha1.SalesNoExchangeRate))
		// The publisher reconciles on its own schedule: wait for it, too.
		Eventually(publisherTier(pub)).Should(Equal(int32(1)))
		Expect(eur.Spec.Amount).To(Equal(v1alpha1.Money("25000")), "nothing the user wrote is changed")

		update(prog, func(p *v1alpha1.RewardsProgram) {
			p.Spec.ExchangeRates = []v1alpha1.ExchangeRate{{Currency: "EUR", Rate: "1.08"}}
		})
		Eventually(func() bool { return fetch(eur)().Status.Counted }).Should(BeTrue())
		Expect(eur.Status.ProgramAmount).To(Equal(v1alpha1.DerivedMoney("27000.00")))
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
		Expect(fetch(pub)().Status.BilledSales).To(Equal(v1alpha1.DerivedMoney("27000.00")))
	})

	It("S5: counts seats only for Microsoft 365 apps and only before the cut-off", func() {
		m365 := build.Offer(ns, "teams-app", pub.Name, v1alpha1.ListingTypeTransact, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		m365.Spec.ProductFamily = v1alpha1.ProductFamilySaaS
		m365.Spec.Microsoft365Integrations = []v1alpha1.Microsoft365Integration{"Teams"}
		vm := build.Offer(ns, "vm", pub.Name, v1alpha1.ListingTypeTransact, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		vm.Spec.ProductFamily = v1alpha1.ProductFamilyVirtualMachine
		create(m365, vm)

		withSeats := func(s *v1alpha1.SalesRecord, n int64) *v1alpha1.SalesRecord { s.Spec.Seats = n; return s }
		create(
			withSeats(build.SalesRecord(ns, "m365-before", "teams-app", "10", "USD", time.Date(2021, 6, 30, 23, 59, 59, 0, time.UTC)), 60),
			withSeats(build.SalesRecord(ns, "m365-after", "teams-app", "10", "USD", time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC)), 500),
			withSeats(build.SalesRecord(ns, "vm-before", "vm", "10", "USD", time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)), 500),
		)
		Eventually(func() int32 { return fetch(pub)().Status.SalesRecords.Counted }).Should(Equal(int32(3)))
		Expect(pub.Status.Seats).To(Equal(int64(60)))
		Expect(pub.Status.Tier).To(Equal(int32(1)))

		create(withSeats(build.SalesRecord(ns, "m365-more", "teams-app", "10", "USD", time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)), 40))
		Eventually(publisherTier(pub)).Should(Equal(int32(2)), "100 seats reach tier 2")
		Expect(fetch(pub)().Status.Seats).To(Equal(int64(100)))
	})

	It("S4: drops a Trailing12Months publisher at the instant a line ages out", func() {
		update(prog, func(p *v1alpha1.RewardsProgram) { p.Spec.SalesWindow = v1alpha1.SalesWindowTrailing12Months })
		billed := fakeClock.Now().Add(-time.Hour).Truncate(time.Second)
		create(build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, billed.Add(-24*time.Hour)),
			build.SalesRecord(ns, "old", "saas", "30000", "USD", billed))
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
		// Twelve calendar months, month end clamped: the shared clock may sit
		// on 29 February, whose "one year later" is 28 February, not the
		// 1 March that time.Date normalizes it to.
		agesOut := rewards.AddCalendarMonths(billed, 12)
		Expect(fetch(pub)().Status.NextChangeAt.Time).To(BeTemporally("==", agesOut))

		reconciledAfter(func() { fakeClock.SetTime(agesOut.Add(-time.Second)) }, pub)
		Expect(publisherTier(pub)()).To(Equal(int32(2)), "still inside the window one second before")

		fakeClock.SetTime(agesOut)
		Eventually(publisherTier(pub)).Should(Equal(int32(1)), "leaves the sum at the exact instant")
		Expect(fetch(pub)().Status.BilledSales).To(Equal(v1alpha1.DerivedMoney("0.00")))
		old := &v1alpha1.SalesRecord{}
		old.Namespace, old.Name = ns, "old"
		Eventually(func() string { return fetch(old)().Status.Reason }).Should(Equal(v1alpha1.SalesOutsideWindow))
	})

	It("re-tiers every publisher a program governs when the program changes", func() {
		ns2 := newNamespace()
		pub2 := build.Publisher(ns2, "fabrikam", build.Following(prog.Name))
		create(pub2,
			build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)),
			build.Offer(ns2, "saas", pub2.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)),
			build.SalesRecord(ns, "l", "saas", "15000", "USD", now.Add(-time.Hour)),
			build.SalesRecord(ns2, "l", "saas", "12000", "USD", now.Add(-time.Hour)))
		Eventually(publisherTier(pub)).Should(Equal(int32(1)))
		Eventually(publisherTier(pub2)).Should(Equal(int32(1)))

		update(prog, func(p *v1alpha1.RewardsProgram) { p.Spec.Tiers[1].MinBilledSales = "10000" })
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
		Eventually(publisherTier(pub2)).Should(Equal(int32(2)))
	})

	It("O2: turns a scheduled offer Live at its instant, and the publisher's tier with it", func() {
		liveAt := fakeClock.Now().Add(2 * time.Hour).Truncate(time.Second)
		offer := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, liveAt)
		create(offer)
		Eventually(func() v1alpha1.OfferPhase { return fetch(offer)().Status.Phase }).Should(Equal(v1alpha1.OfferScheduled))
		Eventually(publisherTier(pub)).Should(Equal(int32(0)))
		// Tier 0 is also what the publisher shows before it is reconciled
		// with the offer: wait for nextChangeAt itself.
		Eventually(func() *metav1.Time { return fetch(pub)().Status.NextChangeAt }).
			Should(HaveField("Time", BeTemporally("==", liveAt)))

		fakeClock.SetTime(liveAt)
		Eventually(func() v1alpha1.OfferPhase { return fetch(offer)().Status.Phase }).Should(Equal(v1alpha1.OfferLive))
		Eventually(publisherTier(pub)).Should(Equal(int32(1)))

		delistAt := liveAt.Add(time.Hour)
		update(offer, func(o *v1alpha1.Offer) { o.Spec.DelistedAt = &metav1.Time{Time: delistAt} })
		fakeClock.SetTime(delistAt)
		Eventually(func() v1alpha1.OfferPhase { return fetch(offer)().Status.Phase }).Should(Equal(v1alpha1.OfferDelisted))
		Eventually(publisherTier(pub)).Should(Equal(int32(0)))
	})

	It("O3, O4, O7: shows engagement, expiry and ISV Connect on the offer", func() {
		liveAt := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		trial := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, liveAt)
		crm := build.Offer(ns, "crm", pub.Name, v1alpha1.ListingTypeTransact, liveAt)
		crm.Spec.Storefront = v1alpha1.StorefrontAppSource
		crm.Spec.ProductFamily = v1alpha1.ProductFamilyDynamics365
		create(trial, crm)
		Eventually(func() *metav1.Time { return fetch(trial)().Status.EngagementEndsAt }).ShouldNot(BeNil())
		want := time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC)
		Expect(trial.Status.EngagementEndsAt.Time).To(BeTemporally("==", want), "O3: 3 calendar months, month end clamped")
		Expect(trial.Status.BenefitsExpireAt.Time).To(BeTemporally("==", want), "O4")
		Expect(trial.Status.ISVConnectEligible).To(BeFalse())

		Eventually(func() bool { return fetch(crm)().Status.ISVConnectEligible }).Should(BeTrue(), "O7")
		Expect(crm.Status.EngagementEvergreen).To(BeTrue(), "O4: Transact engagement is evergreen")
		Expect(crm.Status.EngagementEndsAt).To(BeNil())
		Expect(crm.Status.BenefitsExpireAt).To(BeNil())
	})
})
