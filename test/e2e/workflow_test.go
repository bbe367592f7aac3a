package e2e

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The README's workflow, step by step, in order.
var _ = Describe("The kubectl workflow", Ordered, func() {
	It("applies the default program and the samples", func() {
		kubectl("apply", "-f", "config/programs/default.yaml")
		kubectl("create", "namespace", ns)
		out := kubectl("apply", "-n", ns, "-f", "config/samples/")
		Expect(out).To(ContainSubstring("publisher.rewards.marketplace.io/contoso created"))
	})

	It("turns every kind Ready, as kubectl wait sees it", func() {
		kubectl("wait", "--for=condition=Ready", "--timeout=60s", "rewardsprogram/default")
		kubectl("wait", "-n", ns, "--for=condition=Ready", "--timeout=60s",
			"publisher/contoso", "publisher/fabrikam",
			"offer/contoso-insights-saas", "offer/fabrikam-backup-vm",
			"salesrecord/contoso-insights-saas-2025-04", "salesrecord/contoso-insights-saas-2026-01-eur",
			"salesrecord/fabrikam-backup-vm-2026-03-fraud",
			"benefitactivation/contoso-insights-saas-sales-enablement-training")
	})

	It("lists everything with kubectl get rewards", func() {
		out := kubectl("get", "rewards", "-n", ns)
		for _, want := range []string{
			"publisher.rewards.marketplace.io/contoso",
			"offer.rewards.marketplace.io/contoso-insights-saas",
			"salesrecord.rewards.marketplace.io/fabrikam-backup-vm-2026-03-fraud",
			"benefitactivation.rewards.marketplace.io/contoso-insights-saas-sales-enablement-training",
			"rewardsprogram.rewards.marketplace.io/default",
			"FraudProven",
		} {
			Expect(out).To(ContainSubstring(want))
		}
		pubs := kubectl("get", "publishers", "-n", ns)
		Expect(pubs).To(MatchRegexp(`contoso\s+4839210\s+2\s+26870.75\s+True`))
	})

	It("moves the tier when a new sales line is applied", func() {
		Expect(kubectl("get", "publisher", "contoso", "-n", ns, "-o", "jsonpath={.status.tier}")).To(Equal("2"))
		kubectl("wait", "-n", ns, "--for=jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}=TierNotReached",
			"benefitactivation/contoso-insights-saas-digital-marketing-campaign", "--timeout=30s")

		_, errOut, err := run(`apiVersion: rewards.marketplace.io/v1alpha1
kind: SalesRecord
metadata:
  name: contoso-insights-saas-2026-11
spec:
  offerRef: {name: contoso-insights-saas}
  transactionId: INV-2026-11-000999
  amount: "80000.00"
  currency: USD
  billedAt: "2026-11-01T00:00:00Z"
`, "apply", "-n", ns, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), errOut)
		kubectl("wait", "-n", ns, "--for=jsonpath={.status.tier}=3", "publisher/contoso", "--timeout=30s")
		Expect(kubectl("get", "publisher", "contoso", "-n", ns, "-o", "jsonpath={.status.billedSales}")).To(Equal("106870.75"))
		kubectl("wait", "-n", ns, "--for=condition=Ready", "benefitactivation/contoso-insights-saas-digital-marketing-campaign", "--timeout=30s")
	})

	It("supports server-side apply and server-side dry run", func() {
		offer := `apiVersion: rewards.marketplace.io/v1alpha1
kind: Offer
metadata:
  name: contoso-gitops-offer
spec:
  publisherRef: {name: contoso}
  storefront: AppSource
  listingType: List
  liveAt: "2026-01-15T00:00:00Z"
`
		out, errOut, err := run(offer, "apply", "--server-side", "-n", ns, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), errOut)
		Expect(out).To(ContainSubstring("serverside-applied"))
		// Applying the same manifest again changes nothing and conflicts
		// with nothing: the operator writes only status, never spec.
		_, errOut, err = run(offer, "apply", "--server-side", "-n", ns, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), errOut)
		kubectl("wait", "-n", ns, "--for=condition=Ready", "offer/contoso-gitops-offer", "--timeout=30s")

		out, errOut, err = run(strings.ReplaceAll(offer, "contoso-gitops-offer", "contoso-dry-run-offer"), "apply", "--dry-run=server", "-n", ns, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), errOut)
		Expect(out).To(ContainSubstring("(server dry run)"))
		_, errOut, err = run("", "get", "offer", "contoso-dry-run-offer", "-n", ns)
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("NotFound"))
	})

	It("documents fields in kubectl explain", func() {
		out := kubectl("explain", "publisher.spec.mpnId")
		Expect(out).To(ContainSubstring("Microsoft Partner Network ID"))
		out = kubectl("explain", "salesrecord.spec.amount")
		Expect(out).To(ContainSubstring("exact non-negative decimal string"))
		out = kubectl("explain", "benefitactivation.status.phase")
		Expect(out).To(ContainSubstring("Pending, Active, Expired, Revoked or OptedOut"))
	})

	It("refuses an invalid manifest with a message naming the field", func() {
		_, errOut, err := run(`apiVersion: rewards.marketplace.io/v1alpha1
kind: Publisher
metadata:
  name: invalid
spec:
  mpnId: "12AB"
  accountEmail: partners@example.com
  marketingContact:
    user: Sam
    email: Partners@Example.com
    phone: "+14255550100"
    preferredLanguage: en
`, "apply", "-n", ns, "-f", "-")
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring(`spec.mpnId`))
		Expect(errOut).To(ContainSubstring(`spec.marketingContact.email must be different from spec.accountEmail`))
	})
})
