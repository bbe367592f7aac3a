package testenv

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// The constructors below return objects without creating them.

// Program returns a valid program with the default tiers of docs/rules.md (S6) and a
// small catalog under a unique name, so that a test changing it affects no
// one else: five tiers unlocking one Transact benefit each (Marketing for
// tiers 1 to 3, Sales for 4 and 5), tiers 2 and 3 also reachable by seats,
// and presales-consult, a Technical benefit of List, Trial and Consulting
// offers.
func Program() *v1alpha1.RewardsProgram {
	seats := func(n int64) *int64 { return &n }
	transact := func() []v1alpha1.ListingType { return []v1alpha1.ListingType{v1alpha1.ListingTypeTransact} }
	return &v1alpha1.RewardsProgram{
		ObjectMeta: metav1.ObjectMeta{Name: "test-" + rand.String(6)},
		Spec: v1alpha1.RewardsProgramSpec{
			Tiers: []v1alpha1.Tier{
				{Level: 1, MinBilledSales: "0", Benefits: []string{"listing-badge"}},
				{Level: 2, MinBilledSales: "25000", MinSeats: seats(100), Benefits: []string{"case-study"}},
				{Level: 3, MinBilledSales: "100000", MinSeats: seats(1000), Benefits: []string{"campaign"}},
				{Level: 4, MinBilledSales: "1000000", Benefits: []string{"event-showcase"}},
				{Level: 5, MinBilledSales: "5000000", Benefits: []string{"joint-gtm"}},
			},
			Benefits: []v1alpha1.Benefit{
				{Name: "listing-badge", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: transact()},
				{Name: "case-study", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: transact()},
				{Name: "campaign", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: transact()},
				{Name: "event-showcase", Category: v1alpha1.BenefitCategorySales, ListingTypes: transact()},
				{Name: "joint-gtm", Category: v1alpha1.BenefitCategorySales, ListingTypes: transact()},
				{Name: "presales-consult", Category: v1alpha1.BenefitCategoryTechnical, ListingTypes: []v1alpha1.ListingType{
					v1alpha1.ListingTypeList, v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting}},
			},
		},
	}
}

// Publisher returns an enrolled publisher (P2) with a random MPN ID and no
// marketing contact, following program; with program "" it follows none
// (spec.programRef unset: the program named "default").
func Publisher(ns, name, program string) *v1alpha1.Publisher {
	p := &v1alpha1.Publisher{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.PublisherSpec{
			MPNID:        fmt.Sprint(1000000 + rand.Intn(8999999)),
			AccountEmail: "account@" + name + ".example.com",
			Enrolled:     true,
		},
	}
	if program != "" {
		p.Spec.ProgramRef = &v1alpha1.ProgramReference{Name: program}
	}
	return p
}

// WithContact gives p a marketing contact (P4), which Marketing and Sales
// benefits need, and returns it.
func WithContact(p *v1alpha1.Publisher) *v1alpha1.Publisher {
	p.Spec.MarketingContact = &v1alpha1.MarketingContact{
		User:              "Avery Howard",
		Email:             "avery@" + p.Name + ".example.com",
		Phone:             "+14255550100",
		PreferredLanguage: "en-US",
	}
	return p
}

// Offer returns an Azure Marketplace offer of publisher, of listing type
// lt, live at liveAt.
func Offer(ns, name, publisher string, lt v1alpha1.ListingType, liveAt time.Time) *v1alpha1.Offer {
	return &v1alpha1.Offer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.OfferSpec{
			PublisherRef: v1alpha1.LocalObjectReference{Name: publisher},
			Storefront:   v1alpha1.StorefrontAzureMarketplace,
			ListingType:  lt,
			LiveAt:       metav1.NewTime(liveAt),
		},
	}
}

// SalesRecord returns a sales line of offer for amount in currency, billed
// at billedAt, with transaction ID "tx-<name>".
func SalesRecord(ns, name, offer, amount string, currency v1alpha1.CurrencyCode, billedAt time.Time) *v1alpha1.SalesRecord {
	return &v1alpha1.SalesRecord{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.SalesRecordSpec{
			OfferRef:      v1alpha1.LocalObjectReference{Name: offer},
			TransactionID: "tx-" + name,
			Amount:        v1alpha1.Money(amount),
			Currency:      currency,
			BilledAt:      metav1.NewTime(billedAt),
		},
	}
}

// BenefitActivation returns an activation of benefit for offer.
func BenefitActivation(ns, name, offer, benefit string) *v1alpha1.BenefitActivation {
	return &v1alpha1.BenefitActivation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.BenefitActivationSpec{
			OfferRef: v1alpha1.LocalObjectReference{Name: offer},
			Benefit:  benefit,
		},
	}
}
