package rewards

import (
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// cmpOpts compare the package's exact numbers by value: Money and Rate hold
// unexported big numbers, and a nil Money equals an explicit 0.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b Money) bool { return a.Cmp(b) == 0 }),
	cmp.Comparer(func(a, b Rate) bool {
		if a.r == nil || b.r == nil {
			return a.r == nil && b.r == nil
		}
		return a.r.Cmp(b.r) == 0
	}),
}

// utc is a fixed UTC instant; tests never read the clock.
func utc(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, time.UTC)
}

func mustMoneyPtr(s string) *Money { m := MustParseMoney(s); return &m }

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t) }

func metaTimePtr(t time.Time) *metav1.Time { m := metav1.NewTime(t); return &m }

// The objects of the package's tests are publisher contoso's, in namespace
// contoso, as values: the rules take slices of objects, not pointers.

// mkOffer builds an Offer of publisher "contoso".
func mkOffer(name string, lt v1alpha1.ListingType, liveAt time.Time, opts ...build.OfferOption) v1alpha1.Offer {
	return *build.Offer("contoso", name, "contoso", lt, liveAt, opts...)
}

// mkSale builds a SalesRecord of offerName.
func mkSale(name, offerName, amount string, currency v1alpha1.CurrencyCode, billedAt time.Time, opts ...build.SalesRecordOption) v1alpha1.SalesRecord {
	return *build.SalesRecord("contoso", name, offerName, amount, currency, billedAt, opts...)
}

// defaultProgramSpec is the illustrative program of docs/rules.md, S6: Tier 1 from
// any live Transact offer, then $25,000, $100,000, $1,000,000 and $5,000,000
// of billed sales; tiers 2 and 3 can also be reached with seats (S5).
func defaultProgramSpec() *v1alpha1.RewardsProgramSpec {
	transact := []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}
	return &v1alpha1.RewardsProgramSpec{
		ExchangeRates: []v1alpha1.ExchangeRate{
			{Currency: "EUR", Rate: "1.08"},
			{Currency: "GBP", Rate: "1.27"},
		},
		Tiers: []v1alpha1.Tier{
			{Level: 1, Name: "Tier 1", MinBilledSales: "0", Benefits: []string{"listing-badge"}},
			{Level: 2, Name: "Tier 2", MinBilledSales: "25000", MinSeats: ptrTo[int64](1000), Benefits: []string{"co-sell"}},
			{Level: 3, Name: "Tier 3", MinBilledSales: "100000", MinSeats: ptrTo[int64](10000), Benefits: []string{"azure-credits"}},
			{Level: 4, Name: "Tier 4", MinBilledSales: "1000000", Benefits: []string{"case-study"}},
			{Level: 5, Name: "Tier 5", MinBilledSales: "5000000", Benefits: []string{"field-engagement"}},
		},
		Benefits: []v1alpha1.Benefit{
			{Name: "listing-badge", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: transact},
			{Name: "co-sell", Category: v1alpha1.BenefitCategorySales, ListingTypes: transact},
			{Name: "azure-credits", Category: v1alpha1.BenefitCategoryTechnical, ListingTypes: transact},
			{Name: "case-study", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: transact},
			{Name: "field-engagement", Category: v1alpha1.BenefitCategorySales, ListingTypes: transact},
			{Name: "go-live-blog", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: []v1alpha1.ListingType{
				v1alpha1.ListingTypeList, v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting}},
		},
	}
}

// defaultRulesFor resolves defaultProgramSpec with window, and panics on a
// problem: the fixture must be consistent.
func defaultRulesFor(window v1alpha1.SalesWindow) *Rules {
	spec := defaultProgramSpec()
	spec.SalesWindow = window
	r, problems := ResolveProgram(spec)
	if len(problems) > 0 {
		panic(problems)
	}
	return r
}
