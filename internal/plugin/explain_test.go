package plugin_test

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// row matches a line of an aligned table holding the given cells in order,
// separated by the table's spaces.
func row(cells ...string) *regexp.Regexp {
	quoted := make([]string, len(cells))
	for i, c := range cells {
		quoted[i] = regexp.QuoteMeta(c)
	}
	return regexp.MustCompile(`(?m)^\s*` + strings.Join(quoted, `\s{2,}`) + `(\s|$)`)
}

func readyReason(conds []metav1.Condition) string {
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}

var _ = Describe("explain publisher", func() {
	It("S7: shows the tier, breakdown, forecast and benefits of the publisher's status, and the forecast comes true at its instant", func() {
		ns := newNamespace()
		now := fakeClock.Now().Truncate(time.Second)
		prog := build.Program()
		prog.Spec.SalesWindow = v1alpha1.SalesWindowTrailing12Months
		prog.Spec.ExchangeRates = []v1alpha1.ExchangeRate{{Currency: "EUR", Rate: "1.08"}}
		// The fraud below is on offer vm: with scope Offer it holds only
		// vm's benefits (R3), and saas's show their tier.
		prog.Spec.Revocation.FraudScope = v1alpha1.FraudScopeOffer
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		longAgo := now.AddDate(-2, 0, 0)
		bigBilled := now.AddDate(0, -11, 0)
		create(prog, pub,
			build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, longAgo),
			build.Offer(ns, "vm", pub.Name, v1alpha1.ListingTypeTransact, longAgo),
			build.SalesRecord(ns, "saas-big", "saas", "20000", "USD", bigBilled),
			build.SalesRecord(ns, "saas-eur", "saas", "5000", "EUR", now.AddDate(0, -2, 0)),
			build.SalesRecord(ns, "vm-1", "vm", "3000", "USD", now.AddDate(0, -6, 0)),
			build.SalesRecord(ns, "chf", "vm", "700", "CHF", now.AddDate(0, -1, 0)),
			build.SalesRecord(ns, "aged", "saas", "10000", "USD", now.AddDate(0, -13, 0)),
			build.Activation(ns, "saas-case-study", "saas", "case-study"),
			build.Activation(ns, "saas-campaign", "saas", "campaign"),
		)
		fraud := build.SalesRecord(ns, "fraud", "vm", "90000", "USD", now.AddDate(0, -3, 0))
		fraud.Spec.Fraud = v1alpha1.FraudProven
		cancelled := build.SalesRecord(ns, "cancelled", "saas", "2400", "USD", now.AddDate(0, -4, 0))
		cancelled.Spec.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase}
		create(fraud, cancelled)

		// 20000 + 5000 EUR at 1.08 + 3000 count: tier 2. saas-big leaves
		// the window twelve calendar months after its billing (S4).
		dropsAt := rewards.AddCalendarMonths(bigBilled, 12)
		Eventually(func(g Gomega) {
			p := fetch(pub)()
			g.Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
			g.Expect(p.Status.BilledSales).To(Equal(v1alpha1.DerivedMoney("28400.00")))
			g.Expect(p.Status.SalesRecords).To(Equal(v1alpha1.SalesRecordCounts{Counted: 3, Excluded: 4}))
			g.Expect(p.Status.Forecast).NotTo(BeNil())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			var acts v1alpha1.BenefitActivationList
			g.Expect(k8sClient.List(bg, &acts)).To(Succeed())
			phases := map[string]string{}
			for _, a := range acts.Items {
				if a.Namespace == ns {
					phases[a.Name] = string(a.Status.Phase) + "/" + readyReason(a.Status.Conditions)
				}
			}
			g.Expect(phases).To(Equal(map[string]string{"saas-case-study": "Active/Active", "saas-campaign": "Pending/TierNotReached"}))
			var recs v1alpha1.SalesRecordList
			g.Expect(k8sClient.List(bg, &recs)).To(Succeed())
			for _, r := range recs.Items {
				if r.Namespace == ns {
					g.Expect(r.Status.Reason).NotTo(BeEmpty(), "sales record %s decided", r.Name)
				}
			}
		}).Should(Succeed())
		st := fetch(pub)().Status

		// What the status says, which explain must show.
		Expect(st.Tier).To(Equal(int32(2)))
		Expect(st.Breakdown.Offers).To(Equal([]v1alpha1.OfferSales{
			{Offer: "saas", BilledSales: "25400.00", Lines: 2},
			{Offer: "vm", BilledSales: "3000.00", Lines: 1},
		}), "S1/S2: per Transact offer, largest first, the EUR line at its rate")
		Expect(st.Breakdown.Excluded).To(Equal([]v1alpha1.ExcludedSales{
			{Reason: v1alpha1.SalesFraudProven, Lines: 1, Amount: "90000.00"},
			{Reason: v1alpha1.SalesCancelled, Lines: 1, Amount: "2400.00"},
			{Reason: v1alpha1.SalesNoExchangeRate, Lines: 1, Amount: "0.00", LinesWithoutRate: 1},
			{Reason: v1alpha1.SalesOutsideWindow, Lines: 1, Amount: "10000.00"},
		}), "S2/S3/S4: what is left out, per reason")
		Expect(st.Forecast.DropsAt.Time).To(BeTemporally("==", dropsAt), "S4: the exact instant saas-big ages out")
		Expect(st.Forecast.Tier).To(Equal(int32(1)))
		Expect(st.Forecast.BilledSales).To(Equal(v1alpha1.DerivedMoney("8400.00")))

		r := kubectlRewards("explain", "publisher", "contoso", "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		out := r.out
		Expect(out).To(MatchRegexp(`(?m)^Tier:\s+%d$`, st.Tier))
		Expect(out).To(MatchRegexp(`(?m)^Billed sales:\s+%s USD from 3 counted lines \(4 left out\)`, regexp.QuoteMeta(string(st.BilledSales))))
		Expect(out).To(MatchRegexp(`(?m)^Next tier:\s+Tier 3 needs %s USD more`, regexp.QuoteMeta(string(st.NextTier.BilledSalesMissing))))
		Expect(out).To(MatchRegexp(`(?m)^Forecast:\s+if nothing new is billed, the tier drops to %d at %s, with %s USD`,
			st.Forecast.Tier, st.Forecast.DropsAt.UTC().Format(time.RFC3339), regexp.QuoteMeta(string(st.Forecast.BilledSales))))
		for _, o := range st.Breakdown.Offers {
			Expect(out).To(MatchRegexp(row(o.Offer, string(o.BilledSales), fmt.Sprint(o.Lines)).String()), "breakdown row of %s", o.Offer)
		}
		for _, e := range st.Breakdown.Excluded {
			Expect(out).To(MatchRegexp(row(string(e.Reason), fmt.Sprint(e.Lines), string(e.Amount)).String()), "excluded row %s", e.Reason)
		}
		Expect(out).To(MatchRegexp(row("saas-big", "saas", "20000.00 USD", bigBilled.UTC().Format(time.RFC3339), dropsAt.UTC().Format(time.RFC3339)).String()),
			"the largest counted line and when it leaves the window")
		Expect(out).To(MatchRegexp(row("fraud", "vm", "90000 USD").String()), "the largest line left out")
		Expect(out).To(MatchRegexp(row("saas-campaign", "saas", "campaign", "Pending", "TierNotReached:").String()), "why the Pending benefit waits")
		Expect(out).To(MatchRegexp(row("saas-case-study", "saas", "case-study", "Active", "active since").String()))

		By("S4: at the forecast's instant the tier drops to the forecast's tier, with the forecast's billed sales")
		fakeClock.SetTime(dropsAt)
		Eventually(func(g Gomega) {
			p := fetch(pub)()
			g.Expect(p.Status.Tier).To(Equal(st.Forecast.Tier))
			g.Expect(p.Status.BilledSales).To(Equal(st.Forecast.BilledSales))
			g.Expect(p.Status.Forecast).To(BeNil(), "tier 1 needs only a live Transact offer: it never drops by itself")
		}).Should(Succeed())
		r = kubectlRewards("explain", "publisher", "contoso", "-n", ns)
		Expect(r.out).To(MatchRegexp(`(?m)^Tier:\s+1$`))
		Expect(r.out).To(ContainSubstring("the tier does not drop by itself"))
		Expect(r.out).To(MatchRegexp(row("OutsideWindow", "2", "30000.00").String()), "saas-big is left out now")
	})

	It("fails with exit code 2 and a message for a publisher that does not exist", func() {
		r := kubectlRewards("explain", "publisher", "nobody", "-n", newNamespace())
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.errOut).To(ContainSubstring(`publisher "nobody" not found`))
	})
})

var _ = Describe("explain activation", func() {
	It("B2: walks the prerequisites in order with ✓ and ✗; the first ✗ is the reason the activation is Pending", func() {
		ns := newNamespace()
		now := fakeClock.Now()
		prog := build.Program()
		pub := build.Publisher(ns, "fabrikam", build.Following(prog.Name))
		pub.Spec.Enrolled = false
		create(prog, pub,
			build.Offer(ns, "backup", pub.Name, v1alpha1.ListingTypeTransact, now.AddDate(0, -1, 0)),
			build.Activation(ns, "backup-campaign", "backup", "campaign"),
			build.Activation(ns, "orphan", "no-such-offer", "campaign"))
		act := build.Activation(ns, "backup-campaign", "", "")
		Eventually(func() string { return readyReason(fetch(act)().Status.Conditions) }).Should(Equal("NotEnrolled"))

		r := kubectlRewards("explain", "activation", "backup-campaign", "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(MatchRegexp(`(?m)^Phase:\s+Pending$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Benefit:\s+campaign \(Marketing, for Transact offers, unlocked at tier 3\)$`))
		var marks []string
		for _, line := range strings.Split(r.out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && (f[0] == "✓" || f[0] == "✗" || f[0] == "-") {
				marks = append(marks, f[0]+" "+strings.Join(f[1:], " "))
			}
		}
		Expect(marks).To(HaveLen(len(rewards.NotGrantedChain)))
		// The chain the decision runs, in its order: the first ✗ is the
		// status reason.
		want := []string{
			"✓ name not held by another benefit's grant",
			"✓ offer exists", "✓ publisher exists", "✓ program exists and is valid", "✓ benefit in the program's catalog",
			"✓ publication not ended", "✓ not opted out", "✓ publisher in good standing", "✓ no fraud reported",
			"✗ publisher enrolled (P2) NotEnrolled:",
			"✗ marketing contact where needed (P4) MarketingContactMissing:", "✓ offer Live",
			"✓ benefit offered for the listing type", "✗ one-time use, or tier reached for Transact (B3/S6) TierNotReached:",
		}
		for i, w := range want {
			Expect(marks[i]).To(HavePrefix(w), "check %d", i)
		}

		By("B3: a one-time benefit granted to one activation is used: the other waits on it")
		create(build.Offer(ns, "workshop", pub.Name, v1alpha1.ListingTypeConsulting, now.Add(-time.Hour)))
		update := func(p *v1alpha1.Publisher) { p.Spec.Enrolled = true }
		Expect(testenv.UpdateWithRetry(bg, k8sClient, pub, update)).To(Succeed())
		first := build.Activation(ns, "workshop-consult", "workshop", "presales-consult")
		create(first)
		Eventually(func() v1alpha1.ActivationPhase { return fetch(first)().Status.Phase }).Should(Equal(v1alpha1.ActivationActive))
		second := build.Activation(ns, "workshop-consult-again", "workshop", "presales-consult")
		create(second)
		Eventually(func() string { return readyReason(fetch(second)().Status.Conditions) }).Should(Equal("AlreadyUsed"))
		r = kubectlRewards("explain", "activation", "workshop-consult-again", "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(MatchRegexp(`(?m)^\s+✗\s+one-time use, or tier reached for Transact\s+\(B3/S6\)\s+AlreadyUsed: .*granted to activation "workshop-consult" for offer "workshop" at \S+, as BenefitGrant "workshop-consult" records`))
		r = kubectlRewards("explain", "activation", "workshop-consult", "-n", ns)
		Expect(r.out).To(MatchRegexp(`(?m)^Granted:\s+at \S+ \(BenefitGrant workshop-consult\)$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Granted under:\s+RewardsProgram test-\S+, RewardsProgramRevision test-\S+-[0-9a-f]{10}$`),
			"the rules the benefit was granted under (a record too)")
		Expect(r.out).To(MatchRegexp(`(?m)^\s+✓\s+one-time use, or tier reached for Transact`))

		By("B1: an activation whose offer is missing fails the first check and cannot be checked further")
		r = kubectlRewards("explain", "activation", "orphan", "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(MatchRegexp(`(?m)^\s+✗\s+offer exists\s+\(B1\)\s+OfferNotFound: offer "no-such-offer" does not exist`))
		Expect(r.out).To(MatchRegexp(`(?m)^\s+-\s+publisher enrolled\s+\(P2\)\s+not checked`))
	})
})
