package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// Program safety (docs/rules.md): every value the operator derives from what
// admission accepts fits its status schema. A value that did not would make
// every status write of the object fail: the object would keep a stale
// status (Ready=True included) and its controller would fail the same
// reconcile again and again. So each test here feeds the largest inputs
// admission accepts, waits for a correct Ready status, and checks that no
// reconcile failed meanwhile.

// Largest inputs admission accepts (api/v1alpha1).
const (
	largestAmount = "99999999999999999999.999999" // 20 digits before the point, 6 after
	largestRate   = "999999999999.999999999999"   // 12 and 12
)

var lastAdmittedInstant = time.Date(8999, time.December, 31, 23, 59, 59, 0, time.UTC) // liveAt, billedAt < 9000-01-01

// reconcileErrors returns controller-runtime's reconcile error counts
// (controller_runtime_reconcile_errors_total) by controller name.
func reconcileErrors() map[string]float64 {
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_errors_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

var _ = Describe("Largest admitted inputs", func() {
	var (
		ns           string
		prog         *v1alpha1.RewardsProgram
		pub          *v1alpha1.Publisher
		now          time.Time
		errorsBefore map[string]float64
	)

	BeforeEach(func() {
		ns = newNamespace()
		now = fakeClock.Now()
		prog = build.Program()
		errorsBefore = reconcileErrors()
	})

	AfterEach(func() {
		// A status the schema refuses fails every reconcile of the object,
		// and the controller retries it forever: none may have failed.
		after := reconcileErrors()
		for _, c := range []string{"offer", "publisher", "salesrecord", "benefitactivation"} {
			Expect(after[c]-errorsBefore[c]).To(BeZero(), "reconciles of %s failed during the test; the manager log says why", c)
		}
	})

	It("S2/S4: 50 lines of the largest amount, 40 at the largest rate, sum exactly into status", func() {
		prog.Spec.ExchangeRates = []v1alpha1.ExchangeRate{{Currency: "VND", Rate: largestRate}}
		pub = build.Publisher(ns, "contoso", build.Following(prog.Name))
		create(prog, pub, build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour)))
		lines := make([]*v1alpha1.SalesRecord, 0, 50)
		for i := range 50 {
			currency := v1alpha1.CurrencyCode("VND")
			if i%5 == 0 {
				currency = "USD"
			}
			line := build.SalesRecord(ns, "line-"+string(rune('a'+i/26))+string(rune('a'+i%26)), "saas", largestAmount, currency, now.Add(-time.Hour))
			create(line)
			lines = append(lines, line)
		}

		// Computed apart with Python's decimal module: 40 lines of
		// 99999999999999999999.999999 x 999999999999.999999999999
		// = 99999999999999999999999899000000.000000000000000001 each, rounded
		// half to even to 6 places, plus 10 lines of the amount itself.
		const converted = "99999999999999999999999899000000.00"
		const sum = "4000000000000999999999995959999999.99999"
		Eventually(func() v1alpha1.DerivedMoney { return fetch(pub)().Status.BilledSales }).Should(Equal(v1alpha1.DerivedMoney(sum)))
		p := fetch(pub)()
		Expect(p.Status.Tier).To(Equal(int32(5)), "S6: the top tier")
		Expect(p.Status.SalesRecords.Counted).To(Equal(int32(50)))
		ready := readyCondition(p.Status.Conditions)
		Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		Expect(ready.ObservedGeneration).To(Equal(p.Generation))
		Expect(ready.Message).To(ContainSubstring(sum + " USD billed sales"))

		// Each line is decided by its own controller, on its own schedule.
		for _, line := range lines {
			Eventually(readyReasonOf(func() []metav1.Condition { return fetch(line)().Status.Conditions })).
				Should(Equal(v1alpha1.SalesCounted), "line %s", line.Name)
			l := fetch(line)()
			Expect(readyCondition(l.Status.Conditions).Status).To(Equal(metav1.ConditionTrue), "line %s", l.Name)
			if l.Spec.Currency == "VND" {
				Expect(l.Status.ProgramAmount).To(Equal(v1alpha1.DerivedMoney(converted)), "line %s", l.Name)
				Expect(readyCondition(l.Status.Conditions).Message).To(ContainSubstring("rounded half to even"), "S2: the line says it was rounded")
			} else {
				Expect(l.Status.ProgramAmount).To(Equal(v1alpha1.DerivedMoney(largestAmount)), "line %s", l.Name)
			}
		}
	})

	It("O2/O3/O4/S4: instants derived from the latest admitted liveAt and billedAt, 120 months on, reach status", func() {
		months := int32(120)
		prog.Spec.SalesWindow = v1alpha1.SalesWindowTrailing12Months
		prog.Spec.Durations = v1alpha1.ProgramDurations{EngagementMonths: &months, TrialConsultingExpiryMonths: &months, ListExpiryMonths: &months}
		pub = build.Publisher(ns, "contoso", build.Following(prog.Name))
		saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
		saas.Spec.DelistedAt = &metav1.Time{Time: time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)}
		trial := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, lastAdmittedInstant)
		list := build.Offer(ns, "list", pub.Name, v1alpha1.ListingTypeList, lastAdmittedInstant)
		line := build.SalesRecord(ns, "line", "saas", "100", "USD", lastAdmittedInstant)
		create(prog, pub, saas, trial, list, line)

		tenYearsOn := metav1.NewTime(time.Date(9009, time.December, 31, 23, 59, 59, 0, time.UTC))
		for _, o := range []*v1alpha1.Offer{trial, list} {
			Eventually(readyReasonOf(func() []metav1.Condition { return fetch(o)().Status.Conditions })).
				Should(Equal(string(v1alpha1.OfferScheduled)), "offer %s", o.Name)
			Expect(o.Status.BenefitsExpireAt).NotTo(BeNil(), "O4: offer %s", o.Name)
			Expect(o.Status.BenefitsExpireAt.Equal(&tenYearsOn)).To(BeTrue(), "O4: offer %s expires at %v", o.Name, o.Status.BenefitsExpireAt)
			Expect(o.Status.EngagementEndsAt).NotTo(BeNil(), "O3: offer %s", o.Name)
			Expect(o.Status.EngagementEndsAt.Equal(&tenYearsOn)).To(BeTrue(), "O3: offer %s engagement ends at %v", o.Name, o.Status.EngagementEndsAt)
			Expect(readyCondition(o.Status.Conditions).Status).To(Equal(metav1.ConditionTrue))
		}
		Eventually(readyReasonOf(func() []metav1.Condition { return fetch(saas)().Status.Conditions })).
			Should(Equal(string(v1alpha1.OfferLive)))

		Eventually(func() string { return fetch(line)().Status.Reason }).Should(Equal(v1alpha1.SalesOutsideWindow), "S4: billed in the future")
		Expect(readyCondition(line.Status.Conditions).Status).To(Equal(metav1.ConditionTrue))

		// The publisher's next change is the earliest of the offers going
		// live, the line being billed and the delisting: 8999-12-31.
		last := metav1.NewTime(lastAdmittedInstant)
		Eventually(func() *metav1.Time { return fetch(pub)().Status.NextChangeAt }).Should(Satisfy(func(t *metav1.Time) bool { return t != nil && t.Equal(&last) }))
		p := fetch(pub)()
		Expect(p.Status.Tier).To(Equal(int32(1)), "S6: a live Transact offer, nothing billed yet")
		Expect(readyCondition(p.Status.Conditions).Status).To(Equal(metav1.ConditionTrue))
		Expect(readyCondition(p.Status.Conditions).ObservedGeneration).To(Equal(p.Generation))
	})
})
