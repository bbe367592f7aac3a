package v1alpha1_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	rewardsv1alpha1 "github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Admission: what the API server accepts and refuses on its own, from the
// OpenAPI schema and the CEL rules of the generated CRDs (no webhook). Each
// rejection must be an Invalid error whose message names the field.

// sampleDirs hold the YAML a user applies, the docs' examples included;
// every object in them must be accepted.
var sampleDirs = []string{
	filepath.Join("..", "..", "config", "samples"),
	filepath.Join("..", "..", "config", "programs"),
	filepath.Join("..", "..", "docs", "examples"),
}

type sampleObject struct {
	file string
	doc  int
	obj  *unstructured.Unstructured
}

// loadSamples decodes every document of every *.yaml file (but
// kustomization.yaml) in sampleDirs.
func loadSamples() ([]sampleObject, []string, error) {
	var files []string
	for _, dir := range sampleDirs {
		matches, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return nil, nil, err
		}
		for _, m := range matches {
			if filepath.Base(m) != "kustomization.yaml" {
				files = append(files, m)
			}
		}
	}
	sort.Strings(files)
	var objs []sampleObject
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, files, err
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for doc := 1; ; doc++ {
			raw, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, files, fmt.Errorf("%s: document %d: %w", file, doc, err)
			}
			content := map[string]any{}
			if err := utilyaml.Unmarshal(raw, &content); err != nil {
				return nil, files, fmt.Errorf("%s: document %d: %w", file, doc, err)
			}
			if len(content) == 0 {
				continue // empty document or comments only
			}
			u := &unstructured.Unstructured{Object: content}
			if u.GetAPIVersion() == "" || u.GetKind() == "" {
				return nil, files, fmt.Errorf("%s: document %d has no apiVersion or kind", file, doc)
			}
			objs = append(objs, sampleObject{file: file, doc: doc, obj: u})
		}
	}
	return objs, files, nil
}

var _ = Describe("Sample manifests", func() {
	samples, files, loadErr := loadSamples()

	It("are found and decode", func() {
		Expect(loadErr).NotTo(HaveOccurred())
		Expect(samples).NotTo(BeEmpty(),
			"no objects found in %v (files: %v); the samples in config/samples/*.yaml, config/programs/*.yaml and docs/examples/*.yaml are missing", sampleDirs, files)
	})

	for _, s := range samples {
		desc := fmt.Sprintf("%s #%d: %s %s is accepted", filepath.Join(filepath.Base(filepath.Dir(s.file)), filepath.Base(s.file)), s.doc, s.obj.GetKind(), s.obj.GetName())
		It(desc, func() {
			obj := s.obj.DeepCopy()
			namespaced, err := k8sClient.IsObjectNamespaced(obj)
			Expect(err).NotTo(HaveOccurred(), "kind %s is not served", obj.GetKind())
			if namespaced {
				obj.SetNamespace(freshNamespace())
			} else {
				obj.SetNamespace("")
				// Another sample may hold a cluster-scoped object of the same
				// name (a program in both directories): start clean.
				Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, obj.DeepCopy()))).To(Succeed())
				Eventually(func() bool {
					return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj.DeepCopy()))
				}).Should(BeTrue())
			}
			// Strict: a misspelt field in a sample is an error, not a
			// warning the API server silently drops.
			Expect(k8sClient.Create(ctx, obj, client.FieldValidation(metav1.FieldValidationStrict))).To(Succeed())
			cleanupClusterScoped(obj)
		})
	}
})

var _ = Describe("Admission", func() {
	var ns string
	BeforeEach(func() {
		ns = freshNamespace()
	})

	DescribeTable("rejects invalid objects, naming the field",
		func(c change, field string) {
			expectInvalid(apply(c, ns), field)
		},

		// Publisher: rule P1.
		Entry("Publisher: mpnId not numeric",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MPNID = "47612AB" })),
			"spec.mpnId"),
		Entry("Publisher: mpnId with a sign",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MPNID = "-4761234" })),
			"spec.mpnId"),
		Entry("Publisher: mpnId missing",
			onCreate(asUnstructured(validPublisher(), func(u map[string]any) {
				unstructured.RemoveNestedField(u, "spec", "mpnId")
			})),
			"spec.mpnId"),
		Entry("Publisher: mpnId empty",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MPNID = "" })),
			"spec.mpnId"),
		Entry("Publisher: mpnId changed on update (immutable)",
			onUpdate(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MPNID = "4761235" }),
			"spec.mpnId"),
		// Publisher: rule P3.
		Entry("Publisher: marketingContact.email equal to accountEmail",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.Email = p.Spec.AccountEmail
			})),
			"spec.marketingContact.email"),
		Entry("Publisher: marketingContact.email equal to accountEmail in another case",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.Email = "Partner-Center@Contoso.COM"
			})),
			"spec.marketingContact.email"),
		Entry("Publisher: marketingContact.email equal to accountEmail behind a display name",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.Email = "Jane <partner-center@contoso.com>"
			})),
			"spec.marketingContact.email"),
		Entry("Publisher: marketingContact.email equal to accountEmail with a comment",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.Email = "partner-center@contoso.com (Jane)"
			})),
			"spec.marketingContact.email"),
		Entry("Publisher: marketingContact.email equal to accountEmail with a leading space",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.Email = " partner-center@contoso.com"
			})),
			"spec.marketingContact.email"),
		Entry("Publisher: marketingContact.email changed on update to the accountEmail",
			onUpdate(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.Email = "PARTNER-CENTER@contoso.com"
			}),
			"spec.marketingContact.email"),
		Entry("Publisher: accountEmail not an email",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.AccountEmail = "partner-center" })),
			"spec.accountEmail"),
		Entry("Publisher: accountEmail a mailbox with a display name, not a bare address",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.AccountEmail = "Contoso <partner-center@contoso.com>"
			})),
			"spec.accountEmail"),
		Entry("Publisher: marketingContact.email not an email",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.Email = "jane at contoso.com"
			})),
			"spec.marketingContact.email"),
		Entry("Publisher: marketingContact.phone not E.164 (local form)",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.Phone = "425-555-0100"
			})),
			"spec.marketingContact.phone"),
		Entry("Publisher: marketingContact.phone not E.164 (leading zero)",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MarketingContact.Phone = "+0123" })),
			"spec.marketingContact.phone"),
		Entry("Publisher: marketingContact.preferredLanguage not a language tag",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.MarketingContact.PreferredLanguage = "english!"
			})),
			"spec.marketingContact.preferredLanguage"),
		Entry("Publisher: marketingContact.preferredLanguage too short",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MarketingContact.PreferredLanguage = "e" })),
			"spec.marketingContact.preferredLanguage"),
		// Publisher: rule P5.
		Entry("Publisher: violations[].type not in the enum",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.Violations = []rewardsv1alpha1.Violation{{Type: "Spam", Time: billedAt}}
			})),
			"spec.violations[0].type"),
		Entry("Publisher: programRef.name not a DNS subdomain",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.ProgramRef.Name = "Default_Program" })),
			"spec.programRef.name"),

		// Offer: rules O1, O2, S5.
		Entry("Offer: storefront not in the enum",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) { o.Spec.Storefront = "GooglePlay" })),
			"spec.storefront"),
		Entry("Offer: listingType not in the enum",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) { o.Spec.ListingType = "FreeTrial" })),
			"spec.listingType"),
		Entry("Offer: delistedAt equal to liveAt",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) { o.Spec.DelistedAt = liveAt.DeepCopy() })),
			"spec.delistedAt"),
		Entry("Offer: delistedAt before liveAt",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.DelistedAt = &metav1.Time{Time: liveAt.Add(-1e9)}
			})),
			"spec.delistedAt"),
		Entry("Offer: delistedAt set on update before liveAt",
			onUpdate(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.DelistedAt = &metav1.Time{Time: liveAt.AddDate(0, -1, 0)}
			}),
			"spec.delistedAt"),
		Entry("Offer: publisherRef changed on update (immutable)",
			onUpdate(validOffer(), func(o *rewardsv1alpha1.Offer) { o.Spec.PublisherRef.Name = "fabrikam" }),
			"spec.publisherRef"),
		Entry("Offer: microsoft365Integrations on a VirtualMachine offer",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.ProductFamily = rewardsv1alpha1.ProductFamilyVirtualMachine
			})),
			"spec.microsoft365Integrations"),
		Entry("Offer: microsoft365Integrations without a productFamily",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) { o.Spec.ProductFamily = "" })),
			"spec.microsoft365Integrations"),
		Entry("Offer: microsoft365Integrations not in the enum",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.Microsoft365Integrations = []rewardsv1alpha1.Microsoft365Integration{"Teams", "Slack"}
			})),
			"spec.microsoft365Integrations[1]"),

		// SalesRecord: rule S2 (exact money), S3, immutability.
		Entry("SalesRecord: amount negative",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "-5" })),
			"spec.amount"),
		Entry("SalesRecord: amount in exponent form",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "1e5" })),
			"spec.amount"),
		Entry("SalesRecord: amount with more than 6 decimals",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "12.3456789" })),
			"spec.amount"),
		Entry("SalesRecord: amount not a number",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "abc" })),
			"spec.amount"),
		Entry("SalesRecord: amount with a leading zero",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "01234.56" })),
			"spec.amount"),
		Entry("SalesRecord: amount empty",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "" })),
			"spec.amount"),
		Entry("SalesRecord: amount as a JSON number (float)",
			onCreate(asUnstructured(validSalesRecord(), func(u map[string]any) {
				Expect(unstructured.SetNestedField(u, float64(1234.56), "spec", "amount")).To(Succeed())
			})),
			"spec.amount"),
		Entry("SalesRecord: amount as a JSON number (integer)",
			onCreate(asUnstructured(validSalesRecord(), func(u map[string]any) {
				Expect(unstructured.SetNestedField(u, int64(25000), "spec", "amount")).To(Succeed())
			})),
			"spec.amount"),
		Entry("SalesRecord: currency lower-case",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Currency = "usd" })),
			"spec.currency"),
		Entry("SalesRecord: currency of two letters",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Currency = "US" })),
			"spec.currency"),
		Entry("SalesRecord: fraud not in the enum",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Fraud = "Maybe" })),
			"spec.fraud"),
		Entry("SalesRecord: cancellation.reason not in the enum",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) {
				s.Spec.Cancellation = &rewardsv1alpha1.Cancellation{Reason: "ChangedMind"}
			})),
			"spec.cancellation.reason"),
		Entry("SalesRecord: seats negative",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Seats = -1 })),
			"spec.seats"),
		Entry("SalesRecord: offerRef changed on update (immutable)",
			onUpdate(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.OfferRef.Name = "contoso-vm" }),
			"spec.offerRef"),
		Entry("SalesRecord: transactionId changed on update (immutable)",
			onUpdate(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.TransactionID = "txn-2024-03-0002" }),
			"spec.transactionId"),
		Entry("SalesRecord: amount changed on update (immutable)",
			onUpdate(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "1234.57" }),
			"spec.amount"),
		Entry("SalesRecord: currency changed on update (immutable)",
			onUpdate(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Currency = "EUR" }),
			"spec.currency"),

		// BenefitActivation: rule B1, immutability.
		Entry("BenefitActivation: offerRef changed on update (immutable)",
			onUpdate(validActivation(), func(a *rewardsv1alpha1.BenefitActivation) { a.Spec.OfferRef.Name = "contoso-vm" }),
			"spec.offerRef"),
		Entry("BenefitActivation: benefit changed on update (immutable)",
			onUpdate(validActivation(), func(a *rewardsv1alpha1.BenefitActivation) { a.Spec.Benefit = "azure-credits" }),
			"spec.benefit"),
		Entry("BenefitActivation: benefit not a valid name",
			onCreate(with(validActivation(), func(a *rewardsv1alpha1.BenefitActivation) { a.Spec.Benefit = "Marketing Campaign" })),
			"spec.benefit"),
		Entry("BenefitActivation: offerRef.name empty",
			onCreate(with(validActivation(), func(a *rewardsv1alpha1.BenefitActivation) { a.Spec.OfferRef.Name = "" })),
			"spec.offerRef.name"),

		// RewardsProgram: rules S2, S4, S6, B1.
		Entry("RewardsProgram: tier thresholds decreasing",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers = []rewardsv1alpha1.Tier{{Level: 1, MinBilledSales: "1000", Benefits: unlockEverything}, {Level: 2, MinBilledSales: "500"}}
			})),
			"spec.tiers[].minBilledSales"),
		Entry("RewardsProgram: tier thresholds equal",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers = []rewardsv1alpha1.Tier{{Level: 1, MinBilledSales: "1000", Benefits: unlockEverything}, {Level: 2, MinBilledSales: "1000.00"}}
			})),
			"spec.tiers[].minBilledSales"),
		Entry("RewardsProgram: tier thresholds decreasing between non-adjacent tiers, listed out of order",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[0].MinBilledSales = "200000" // level 1 above level 3's 100000
			})),
			"spec.tiers[].minBilledSales"),
		Entry("RewardsProgram: tier thresholds beyond int64 compared exactly",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers = []rewardsv1alpha1.Tier{
					{Level: 1, MinBilledSales: "99999999999999999999", Benefits: unlockEverything},
					{Level: 2, MinBilledSales: "99999999999999999999.000000"},
				}
			})),
			"spec.tiers[].minBilledSales"),
		Entry("RewardsProgram: tier minSeats not increasing",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[2].MinSeats = int64Ptr(1000) // level 3 equal to level 2
			})),
			"spec.tiers[].minSeats"),
		Entry("RewardsProgram: salesWindow not in the enum",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.SalesWindow = "Forever" })),
			"spec.salesWindow"),
		Entry("RewardsProgram: benefit category not in the enum",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Benefits[0].Category = "Financial" })),
			"spec.benefits[0].category"),
		Entry("RewardsProgram: benefit listingTypes not in the enum",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits[1].ListingTypes = []rewardsv1alpha1.ListingType{"Subscription"}
			})),
			"spec.benefits[1].listingTypes[0]"),
		Entry("RewardsProgram: exchange rate zero",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Rate = "0" })),
			// [] rather than [0]: the message itself, not only the path, names the field.
			"spec.exchangeRates[].rate"),
		Entry("RewardsProgram: exchange rate zero with decimals",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[1].Rate = "0.000" })),
			"spec.exchangeRates[].rate"),
		Entry("RewardsProgram: exchange rate negative",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Rate = "-1.08" })),
			"spec.exchangeRates[0].rate"),
		Entry("RewardsProgram: exchange rate currency lower-case",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Currency = "eur" })),
			"spec.exchangeRates[0].currency"),
		Entry("RewardsProgram: exchange rate for the program's own currency",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Currency = "USD" })),
			"spec.exchangeRates"),
		Entry("RewardsProgram: exchange rate for the default currency when spec.currency is unset",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Currency = ""
				p.Spec.ExchangeRates[0].Currency = "USD"
			})),
			"spec.exchangeRates"),
		Entry("RewardsProgram: program currency lower-case",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Currency = "usd" })),
			"spec.currency"),
		Entry("RewardsProgram: no tiers",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers = []rewardsv1alpha1.Tier{} })),
			"spec.tiers"),
		Entry("RewardsProgram: tiers missing",
			onCreate(asUnstructured(validProgram(), func(u map[string]any) {
				unstructured.RemoveNestedField(u, "spec", "tiers")
			})),
			"spec.tiers"),
		Entry("RewardsProgram: duplicate tier levels",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[1].Level = 1 })),
			"spec.tiers[1]"),
		Entry("RewardsProgram: tier threshold not exact money",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[1].MinBilledSales = "2.5e4" })),
			"spec.tiers[1].minBilledSales"),

		// RewardsProgram consistency (docs/rules.md, "Program safety"): every
		// inconsistency the operator's ResolveProgram detects is refused
		// here, so that no program reaches the operator invalid.
		Entry("RewardsProgram: a tier names a benefit missing from the catalog",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[2].Benefits = []string{"ghost-benefit"}
			})),
			"spec.tiers[].benefits"),
		Entry("RewardsProgram: a tier names a catalog benefit in the wrong case",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[0].Benefits = []string{"Azure-Credits"}
				p.Spec.Tiers[3].Benefits = []string{"azure-credits"} // still unlocked
			})),
			"spec.tiers[].benefits"),
		Entry("RewardsProgram: one unknown benefit among known ones",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[1].Benefits = []string{"marketing-campaign", "azure-credit"}
			})),
			"spec.tiers[].benefits"),
		Entry("RewardsProgram: a benefit removed from the catalog on update while a tier still names it",
			onUpdate(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits = p.Spec.Benefits[1:] // marketing-campaign goes; tier 2 names it
			}),
			"spec.tiers[].benefits"),
		Entry("RewardsProgram: a tier names a List-only benefit",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits = append(p.Spec.Benefits, rewardsv1alpha1.Benefit{
					Name: "byol-blog", Category: rewardsv1alpha1.BenefitCategoryMarketing,
					ListingTypes: []rewardsv1alpha1.ListingType{rewardsv1alpha1.ListingTypeList},
				})
				p.Spec.Tiers[2].Benefits = []string{"byol-blog"}
			})),
			"spec.tiers[].benefits"),
		Entry("RewardsProgram: a tier names a benefit for Trial and Consulting offers only",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits = append(p.Spec.Benefits, rewardsv1alpha1.Benefit{
					Name: "engagement-manager", Category: rewardsv1alpha1.BenefitCategorySales,
					ListingTypes: []rewardsv1alpha1.ListingType{rewardsv1alpha1.ListingTypeTrial, rewardsv1alpha1.ListingTypeConsulting},
				})
				p.Spec.Tiers[0].Benefits = append(p.Spec.Tiers[0].Benefits, "engagement-manager")
			})),
			"spec.tiers[].benefits"),
		Entry("RewardsProgram: a catalog benefit loses Transact while a tier still names it",
			onUpdate(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits[1].ListingTypes = []rewardsv1alpha1.ListingType{rewardsv1alpha1.ListingTypeList}
			}),
			"spec.tiers[].benefits"),
		Entry("RewardsProgram: a Transact benefit that no tier unlocks",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits = append(p.Spec.Benefits, rewardsv1alpha1.Benefit{
					Name: "co-sell", Category: rewardsv1alpha1.BenefitCategorySales,
					ListingTypes: []rewardsv1alpha1.ListingType{rewardsv1alpha1.ListingTypeTransact},
				})
			})),
			"spec.benefits[]"),
		Entry("RewardsProgram: a benefit for every listing type that no tier unlocks",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[1].Benefits = nil })),
			"spec.benefits[]"),
		Entry("RewardsProgram: a tier's benefits removed on update, leaving its benefit unlocked by none",
			onUpdate(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[0].Benefits = nil }),
			"spec.benefits[]"),
		Entry("RewardsProgram: the only tier unlocking a benefit removed on update",
			onUpdate(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers = p.Spec.Tiers[1:] }),
			"spec.benefits[]"),
		Entry("RewardsProgram: duplicate tier levels, not adjacent",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[3].Level, p.Spec.Tiers[3].MinBilledSales = 1, "0"
			})),
			"spec.tiers[3]"),
		Entry("RewardsProgram: duplicate benefit names in the catalog",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits = append(p.Spec.Benefits, p.Spec.Benefits[1])
			})),
			"spec.benefits[2]"),
		Entry("RewardsProgram: two rates for one currency",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.ExchangeRates = append(p.Spec.ExchangeRates, rewardsv1alpha1.ExchangeRate{Currency: "EUR", Rate: "1.09"})
			})),
			"spec.exchangeRates[2]"),
		Entry("RewardsProgram: a tier naming the same benefit twice",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[0].Benefits = []string{"azure-credits", "azure-credits"}
			})),
			"spec.tiers[0].benefits[1]"),
		Entry("RewardsProgram: a rate for the program's own currency when it is not USD",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Currency = "EUR"
				p.Spec.ExchangeRates = []rewardsv1alpha1.ExchangeRate{{Currency: "USD", Rate: "0.92"}, {Currency: "EUR", Rate: "1"}}
			})),
			"spec.exchangeRates"),
		Entry("RewardsProgram: thresholds equal once written alike (25000 and 25000.000000)",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[2].MinBilledSales = "25000.000000" })),
			"spec.tiers[].minBilledSales"),
		Entry("RewardsProgram: a higher tier one millionth below a lower one",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[3].MinBilledSales = "99999.999999" })),
			"spec.tiers[].minBilledSales"),
		Entry("RewardsProgram: minBilledSales with a thousands separator",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[1].MinBilledSales = "25,000" })),
			"spec.tiers[1].minBilledSales"),
		Entry("RewardsProgram: minBilledSales negative",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[1].MinBilledSales = "-1" })),
			"spec.tiers[1].minBilledSales"),
		Entry("RewardsProgram: minBilledSales with 7 decimals",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[1].MinBilledSales = "25000.0000001" })),
			"spec.tiers[1].minBilledSales"),
		Entry("RewardsProgram: minBilledSales with 21 digits before the point",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[3].MinBilledSales = "100000000000000000000"
			})),
			"spec.tiers[3].minBilledSales"),
		Entry("RewardsProgram: minBilledSales with a currency sign",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[1].MinBilledSales = "$25000" })),
			"spec.tiers[1].minBilledSales"),
		Entry("RewardsProgram: rate with a decimal comma",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Rate = "1,08" })),
			"spec.exchangeRates[0].rate"),
		Entry("RewardsProgram: rate in exponent form",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[1].Rate = "6.7e-3" })),
			"spec.exchangeRates[1].rate"),
		Entry("RewardsProgram: rate with 13 digits before the point",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Rate = "1000000000000" })),
			"spec.exchangeRates[0].rate"),
		Entry("RewardsProgram: rate with 13 decimals",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[1].Rate = "0.0000000000001" })),
			"spec.exchangeRates[1].rate"),
		Entry("RewardsProgram: rate with a leading space",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Rate = " 1.08" })),
			"spec.exchangeRates[0].rate"),
		Entry("RewardsProgram: rate currency in mixed case",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[1].Currency = "Jpy" })),
			"spec.exchangeRates[1].currency"),
		Entry("RewardsProgram: program currency spelt out",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Currency = "US$" })),
			"spec.currency"),
		Entry("RewardsProgram: tier level 0",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[0].Level = 0 })),
			"spec.tiers[0].level"),
		Entry("RewardsProgram: more tiers than the 20 allowed",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers = nil
				for i := range 21 {
					p.Spec.Tiers = append(p.Spec.Tiers, rewardsv1alpha1.Tier{Level: int32(i + 1), MinBilledSales: rewardsv1alpha1.Money(fmt.Sprint(i * 1000))})
				}
				p.Spec.Tiers[0].Benefits = []string{"azure-credits", "marketing-campaign"}
			})),
			"spec.tiers"),

		// BenefitGrant: the durable record (R6, R7, R8). A revocation is
		// one of the known reasons, caused by a named object of a kind that
		// causes revocations, recorded after the grant.
		Entry("BenefitGrant: revocation reason unknown",
			onCreate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Revocation.Reason = "Expired" })),
			"spec.revocation.reason"),
		Entry("BenefitGrant: revocation without causedBy",
			onCreate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Revocation.CausedBy = nil })),
			"spec.revocation.causedBy"),
		Entry("BenefitGrant: revocation causedBy without a name",
			onCreate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Revocation.CausedBy.Name = "" })),
			"spec.revocation.causedBy.name"),
		Entry("BenefitGrant: revocation causedBy a kind that causes no revocation",
			onCreate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Revocation.CausedBy.Kind = "Pod" })),
			"spec.revocation.causedBy.kind"),
		Entry("BenefitGrant: revocation recorded before the grant",
			onCreate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) {
				g.Spec.Revocation.RecordedAt = metav1.NewTime(g.Spec.ActivatedAt.Add(-time.Second))
			})),
			"spec.revocation.recordedAt"),
		Entry("BenefitGrant: revocation added later, recorded before the grant",
			onUpdate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Revocation = nil }), func(g *rewardsv1alpha1.BenefitGrant) {
				g.Spec.Revocation = &rewardsv1alpha1.GrantRevocation{Reason: rewardsv1alpha1.RevocationFraud,
					CausedBy: &rewardsv1alpha1.ObjectReference{Kind: "SalesRecord", Name: "line-1"}, RecordedAt: metav1.NewTime(g.Spec.ActivatedAt.Add(-time.Hour))}
			}),
			"spec.revocation.recordedAt"),
		Entry("BenefitGrant: revocation changed once recorded",
			onUpdate(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Revocation.Reason = rewardsv1alpha1.RevocationFraud }),
			"spec.revocation"),
		Entry("BenefitGrant: program revision changed",
			onUpdate(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Program.Revision = "default-0000000000" }),
			"spec.program"),
		Entry("BenefitGrant: program added after the grant was created",
			onUpdate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Program = nil }), func(g *rewardsv1alpha1.BenefitGrant) {
				g.Spec.Program = &rewardsv1alpha1.GrantedUnder{Name: "default", Revision: "default-3f2a9c0d1e"}
			}),
			"spec.program"),
		// RewardsProgramRevision: the rules a program had in force.
		Entry("RewardsProgramRevision: rules changed",
			onUpdate(validRevision(), func(r *rewardsv1alpha1.RewardsProgramRevision) { r.Spec.Rules.Currency = "EUR" }),
			"spec.rules"),
		Entry("RewardsProgramRevision: revision lowered",
			onUpdate(validRevision(), func(r *rewardsv1alpha1.RewardsProgramRevision) { r.Spec.Revision = 1 }),
			"spec.revision"),
		Entry("RewardsProgramRevision: program changed",
			onUpdate(validRevision(), func(r *rewardsv1alpha1.RewardsProgramRevision) { r.Spec.Program = "gold" }),
			"spec.program"),
	)

	// A newcomer's typical mistakes get a sentence naming the field and
	// showing an example, never the raw regular expression of an OpenAPI
	// pattern ("should match '^(0|[1-9]...'"), which the API server would
	// print for a pattern.
	DescribeTable("says what is expected in words, naming the field",
		func(c change, field, text string) {
			err := apply(c, ns)
			expectInvalid(err, field)
			Expect(err.Error()).To(ContainSubstring(text))
			Expect(err.Error()).NotTo(ContainSubstring("should match"), "the message shows a raw regular expression")
		},

		Entry("SalesRecord: amount with a decimal comma",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "12,5" })),
			"spec.amount", `spec.amount must be a decimal string such as "1234.56"`),
		Entry("SalesRecord: amount with a thousands separator",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "1 234.56" })),
			"spec.amount", `spec.amount must be a decimal string such as "1234.56"`),
		Entry("SalesRecord: currency in lower case",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Currency = "usd" })),
			"spec.currency", `spec.currency must be an ISO 4217 currency code of three upper-case letters such as "USD"`),
		Entry("SalesRecord: billedAt in the year 9999",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) {
				s.Spec.BilledAt = metav1.NewTime(time.Date(9999, time.December, 1, 0, 0, 0, 0, time.UTC))
			})),
			"spec.billedAt", "spec.billedAt must be before 9000-01-01T00:00:00Z"),
		Entry("SalesRecord: billedAt at the first refused instant",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) {
				s.Spec.BilledAt = metav1.NewTime(time.Date(9000, time.January, 1, 0, 0, 0, 0, time.UTC))
			})),
			"spec.billedAt", "spec.billedAt must be before 9000-01-01T00:00:00Z"),
		Entry("Offer: liveAt in the year 9999",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.LiveAt = metav1.NewTime(time.Date(9999, time.December, 1, 0, 0, 0, 0, time.UTC))
			})),
			"spec.liveAt", "spec.liveAt must be before 9000-01-01T00:00:00Z"),
		Entry("Publisher: mpnId with letters",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MPNID = "MPN-4761234" })),
			"spec.mpnId", `spec.mpnId must be the publisher's Microsoft Partner Network ID, digits only, such as "4761234"`),
		Entry("Publisher: mpnId empty",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MPNID = "" })),
			"spec.mpnId", `spec.mpnId must be the publisher's Microsoft Partner Network ID`),
		Entry("Publisher: accountEmail with a display name",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.AccountEmail = "Contoso <partner-center@contoso.com>"
			})),
			"spec.accountEmail", `spec.accountEmail must be a bare email address such as "partner-center@contoso.com"`),
		Entry("Publisher: marketingContact.email with a space for the at sign",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MarketingContact.Email = "jane at contoso.com" })),
			"spec.marketingContact.email", `spec.marketingContact.email must be a bare email address such as "jane@contoso.com"`),
		Entry("RewardsProgram: currency in lower case",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Currency = "usd" })),
			"spec.currency", `spec.currency must be an ISO 4217 currency code of three upper-case letters such as "USD"`),
		Entry("RewardsProgram: exchange rate currency in lower case",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Currency = "eur" })),
			"spec.exchangeRates[0].currency", `spec.exchangeRates[].currency must be an ISO 4217 currency code of three upper-case letters such as "EUR"`),
		Entry("RewardsProgram: rate with a decimal comma",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Rate = "1,08" })),
			"spec.exchangeRates[0].rate", `spec.exchangeRates[].rate must be a decimal string such as "1.08"`),
		Entry("RewardsProgram: rate zero, well-formed (one message, not two)",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.ExchangeRates[0].Rate = "0.00" })),
			"spec.exchangeRates[0].rate", "spec.exchangeRates[].rate must be greater than zero"),
		Entry("RewardsProgram: minBilledSales with a thousands separator",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[1].MinBilledSales = "25,000" })),
			"spec.tiers[1].minBilledSales", `spec.tiers[].minBilledSales must be a decimal string such as "25000" or "99999.99"`),
		Entry("RewardsProgram: a tier names a benefit missing from the catalog, named in the message",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) { p.Spec.Tiers[2].Benefits = []string{"ghost-benefit"} })),
			"spec.tiers[].benefits", `spec.tiers[].benefits must name benefits of the catalog, spec.benefits: "ghost-benefit" is not in it`),
		Entry("RewardsProgram: tiers name several missing benefits, the first one named",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[1].Benefits = []string{"marketing-campaign", "co-sell", "case-study"}
				p.Spec.Tiers[3].Benefits = []string{"ghost"}
			})),
			"spec.tiers[].benefits", `spec.benefits: "co-sell" is not in it`),
		Entry("RewardsProgram: a tier names a List-only benefit, named in the message",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits = append(p.Spec.Benefits, rewardsv1alpha1.Benefit{
					Name: "byol-blog", Category: rewardsv1alpha1.BenefitCategoryMarketing,
					ListingTypes: []rewardsv1alpha1.ListingType{rewardsv1alpha1.ListingTypeList},
				})
				p.Spec.Tiers[2].Benefits = []string{"byol-blog"}
			})),
			"spec.tiers[].benefits", `spec.tiers[].benefits must name benefits for Transact offers (whose spec.benefits[].listingTypes include Transact): "byol-blog" is not for Transact`),
		Entry("RewardsProgram: a Transact benefit no tier unlocks, named in the message",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits = append(p.Spec.Benefits, rewardsv1alpha1.Benefit{
					Name: "co-sell", Category: rewardsv1alpha1.BenefitCategorySales,
					ListingTypes: []rewardsv1alpha1.ListingType{rewardsv1alpha1.ListingTypeTransact},
				})
			})),
			"spec.benefits[]", `spec.benefits[] for Transact offers must each be unlocked by a tier (named in some spec.tiers[].benefits): no tier unlocks "co-sell"`),
	)

	DescribeTable("accepts valid objects and changes",
		func(c change) {
			Expect(apply(c, ns)).To(Succeed())
		},

		Entry("Publisher: the valid base", onCreate(validPublisher())),
		Entry("Offer: the valid base", onCreate(validOffer())),
		Entry("SalesRecord: the valid base", onCreate(validSalesRecord())),
		Entry("BenefitActivation: the valid base", onCreate(validActivation())),
		Entry("RewardsProgram: the valid base", onCreate(validProgram())),
		Entry("BenefitGrant: the valid base", onCreate(validGrant())),
		Entry("BenefitGrant: R7, no uid recorded", onCreate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Activation.UID = "" }))),
		Entry("BenefitGrant: revoked once, recorded at the grant's instant",
			onUpdate(with(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) { g.Spec.Revocation = nil }), func(g *rewardsv1alpha1.BenefitGrant) {
				g.Spec.Revocation = &rewardsv1alpha1.GrantRevocation{Reason: rewardsv1alpha1.RevocationOfferDelisted,
					CausedBy: &rewardsv1alpha1.ObjectReference{Kind: "Offer", Name: "contoso-analytics"}, RecordedAt: g.Spec.ActivatedAt}
			})),
		Entry("BenefitGrant: labels added (a converted grant of an earlier version)",
			onUpdate(validGrant(), func(g *rewardsv1alpha1.BenefitGrant) {
				g.Labels = map[string]string{rewardsv1alpha1.LabelPublisher: "contoso"}
			})),
		Entry("RewardsProgramRevision: the valid base", onCreate(validRevision())),
		Entry("RewardsProgramRevision: renumbered past the others, its rules back in force",
			onUpdate(validRevision(), func(r *rewardsv1alpha1.RewardsProgramRevision) { r.Spec.Revision, r.Spec.ProgramGeneration = 5, 7 })),

		Entry("Publisher: marketing email differing from accountEmail only in the address, same domain",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.AccountEmail = "jane@contoso.com"
				p.Spec.MarketingContact.Email = "jane.doe@contoso.com"
			}))),
		Entry("Publisher: no marketing contact (only Technical benefits need none, P4 is not admission's)",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.MarketingContact = nil }))),
		Entry("Publisher: no programRef, language tag with script and region, another E.164 number",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.ProgramRef = nil
				p.Spec.MarketingContact.PreferredLanguage = "zh-Hans-CN"
				p.Spec.MarketingContact.Phone = "+442071838750"
			}))),
		Entry("Publisher: every violation type",
			onCreate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				for _, t := range []rewardsv1alpha1.ViolationType{
					rewardsv1alpha1.ViolationIllegalActivity, rewardsv1alpha1.ViolationCopyrightOrTrademark,
					rewardsv1alpha1.ViolationSponsorshipPolicy, rewardsv1alpha1.ViolationDelisted,
				} {
					p.Spec.Violations = append(p.Spec.Violations, rewardsv1alpha1.Violation{Type: t, Time: billedAt, Note: "finding"})
				}
			}))),
		Entry("Publisher: enrolled changed on update",
			onUpdate(with(validPublisher(), func(p *rewardsv1alpha1.Publisher) { p.Spec.Enrolled = false }),
				func(p *rewardsv1alpha1.Publisher) { p.Spec.Enrolled = true })),
		Entry("Publisher: violation added and marketing contact changed on update",
			onUpdate(validPublisher(), func(p *rewardsv1alpha1.Publisher) {
				p.Spec.Violations = []rewardsv1alpha1.Violation{{Type: rewardsv1alpha1.ViolationDelisted, Time: billedAt}}
				p.Spec.MarketingContact.Email = "campaigns@contoso.com"
			})),

		Entry("Offer: delistedAt after liveAt",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.DelistedAt = &metav1.Time{Time: liveAt.Add(1e9)}
			}))),
		Entry("Offer: non-SaaS offer without microsoft365Integrations",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.Storefront = rewardsv1alpha1.StorefrontAppSource
				o.Spec.ListingType = rewardsv1alpha1.ListingTypeTrial
				o.Spec.ProductFamily = rewardsv1alpha1.ProductFamilyDynamics365
				o.Spec.Microsoft365Integrations = nil
			}))),
		Entry("Offer: every Microsoft 365 integration on a SaaS offer",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.Microsoft365Integrations = []rewardsv1alpha1.Microsoft365Integration{"Teams", "Office", "Outlook", "SharePoint"}
			}))),
		Entry("Offer: optOut toggled on and off on update",
			onUpdate(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.OptOut = true
				Expect(k8sClient.Update(ctx, o)).To(Succeed())
				Expect(o.Spec.OptOut).To(BeTrue())
				o.Spec.OptOut = false
			})),
		Entry("Offer: delistedAt set on update",
			onUpdate(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.DelistedAt = &metav1.Time{Time: liveAt.AddDate(0, 6, 0)}
			})),

		Entry("SalesRecord: amount zero",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "0" }))),
		Entry("SalesRecord: amount 1234.56",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "1234.56" }))),
		Entry("SalesRecord: amount with 6 decimals",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) { s.Spec.Amount = "0.000001" }))),
		Entry("SalesRecord: fraud and cancellation recorded on update",
			onUpdate(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) {
				s.Spec.Fraud = rewardsv1alpha1.FraudSuspected
				s.Spec.Cancellation = &rewardsv1alpha1.Cancellation{Reason: rewardsv1alpha1.CancellationBeforeUse, Time: &billedAt}
			})),

		Entry("BenefitActivation: optOut toggled on and off on update",
			onUpdate(validActivation(), func(a *rewardsv1alpha1.BenefitActivation) {
				a.Spec.OptOut = true
				Expect(k8sClient.Update(ctx, a)).To(Succeed())
				Expect(a.Spec.OptOut).To(BeTrue())
				a.Spec.OptOut = false
			})),
		Entry("BenefitActivation: contactedAt recorded on update",
			onUpdate(validActivation(), func(a *rewardsv1alpha1.BenefitActivation) { a.Spec.ContactedAt = &billedAt })),

		Entry("RewardsProgram: tiers listed out of level order, thresholds increasing with the level",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				t := p.Spec.Tiers
				t[0], t[3] = t[3], t[0]
			}))),
		Entry("RewardsProgram: seats thresholds only on some tiers, decimal thresholds",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[1].MinSeats = nil
				p.Spec.Tiers[1].MinBilledSales = "24999.99"
				p.Spec.Tiers[3].MinSeats = int64Ptr(6000)
			}))),
		Entry("RewardsProgram: tier thresholds one millionth apart, and beyond int64",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers = []rewardsv1alpha1.Tier{
					{Level: 1, MinBilledSales: "0.000001", Benefits: unlockEverything},
					{Level: 2, MinBilledSales: "0.000002"},
					{Level: 3, MinBilledSales: "99999999999999999998.999999"},
					{Level: 4, MinBilledSales: "99999999999999999999"},
				}
			}))),
		Entry("RewardsProgram: minimal program, trailing window, small rate",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec = rewardsv1alpha1.RewardsProgramSpec{
					SalesWindow:   rewardsv1alpha1.SalesWindowTrailing12Months,
					ExchangeRates: []rewardsv1alpha1.ExchangeRate{{Currency: "JPY", Rate: "0.000000000001"}},
					Tiers:         []rewardsv1alpha1.Tier{{Level: 1, MinBilledSales: "0", Benefits: []string{"marketing-campaign"}}},
					Benefits:      p.Spec.Benefits[:1],
				}
			}))),
		Entry("SalesRecord: the largest amount, billed at the last admitted second",
			onCreate(with(validSalesRecord(), func(s *rewardsv1alpha1.SalesRecord) {
				s.Spec.Amount = "99999999999999999999.999999"
				s.Spec.BilledAt = metav1.NewTime(time.Date(8999, time.December, 31, 23, 59, 59, 0, time.UTC))
			}))),
		Entry("Offer: live at the last admitted second, delisted in the year 9999",
			onCreate(with(validOffer(), func(o *rewardsv1alpha1.Offer) {
				o.Spec.LiveAt = metav1.NewTime(time.Date(8999, time.December, 31, 23, 59, 59, 0, time.UTC))
				o.Spec.DelistedAt = &metav1.Time{Time: time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)}
			}))),
		Entry("RewardsProgram: the largest and smallest rates",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.ExchangeRates = []rewardsv1alpha1.ExchangeRate{
					{Currency: "VND", Rate: "999999999999.999999999999"}, {Currency: "JPY", Rate: "0.000000000001"},
				}
			}))),
		Entry("RewardsProgram: the largest program the schema allows (its CEL rules stay within the API server's cost budget)",
			onCreate(with(validProgram(), largestProgram))),
		Entry("RewardsProgram: a benefit for Transact and other listing types, unlocked by a tier",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits[1].ListingTypes = rewardsv1alpha1.AllListingTypes
			}))),
		Entry("RewardsProgram: a benefit named by two tiers (the lower one unlocks it)",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers[3].Benefits = []string{"azure-credits", "marketing-campaign"}
			}))),
		Entry("RewardsProgram: a List-only benefit that no tier names",
			onCreate(with(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Benefits = append(p.Spec.Benefits, rewardsv1alpha1.Benefit{
					Name: "byol-blog", Category: rewardsv1alpha1.BenefitCategoryMarketing,
					ListingTypes: []rewardsv1alpha1.ListingType{rewardsv1alpha1.ListingTypeList},
				})
			}))),
		Entry("RewardsProgram: tier added and exchange rate changed on update",
			onUpdate(validProgram(), func(p *rewardsv1alpha1.RewardsProgram) {
				p.Spec.Tiers = append(p.Spec.Tiers, rewardsv1alpha1.Tier{Level: 5, MinBilledSales: "5000000"})
				p.Spec.ExchangeRates[0].Rate = "1.1"
			})),
	)
})

// unlockEverything names every Transact benefit of validProgram's catalog,
// for a test that replaces its tiers.
var unlockEverything = []string{"azure-credits", "marketing-campaign"}

// largestProgram fills p to every size limit of the schema: the most tiers,
// the largest catalog, every tier naming as many benefits as it may, with
// names of the longest length, so that the CEL rules comparing tiers with
// the catalog run at their worst case.
func largestProgram(p *rewardsv1alpha1.RewardsProgram) {
	const tiers, catalog, perTier = 20, 200, 100
	name := func(i int) string { return fmt.Sprintf("%s-%03d", strings.Repeat("b", 59), i) } // 63 characters
	p.Spec.Benefits = nil
	for i := range catalog {
		p.Spec.Benefits = append(p.Spec.Benefits, rewardsv1alpha1.Benefit{
			Name: name(i), Category: rewardsv1alpha1.BenefitCategoryTechnical, ListingTypes: rewardsv1alpha1.AllListingTypes,
		})
	}
	p.Spec.Tiers = nil
	for t := range tiers {
		tier := rewardsv1alpha1.Tier{Level: int32(t + 1), MinBilledSales: rewardsv1alpha1.Money(fmt.Sprint(t * 1000))}
		// The last names of the catalog, which the rules find last.
		for i := range perTier {
			tier.Benefits = append(tier.Benefits, name(catalog-1-(t*perTier/2+i)%catalog))
		}
		p.Spec.Tiers = append(p.Spec.Tiers, tier)
	}
}
