package controllers_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

var bg = context.Background()

// newProgram returns a program with DESIGN.md's default tiers (S6) under a
// unique name, so that tests changing it affect no one else.
func newProgram() *v1alpha1.RewardsProgram {
	seats := func(n int64) *int64 { return &n }
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
				{Name: "listing-badge", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}},
				{Name: "case-study", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}},
				{Name: "campaign", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}},
				{Name: "event-showcase", Category: v1alpha1.BenefitCategorySales, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}},
				{Name: "joint-gtm", Category: v1alpha1.BenefitCategorySales, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}},
				{Name: "presales-consult", Category: v1alpha1.BenefitCategoryTechnical, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeList, v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting}},
			},
		},
	}
}

func newPublisher(ns, name, program string) *v1alpha1.Publisher {
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

func newOffer(ns, name, publisher string, lt v1alpha1.ListingType, liveAt time.Time) *v1alpha1.Offer {
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

func newSale(ns, name, offer, amount string, currency v1alpha1.CurrencyCode, billedAt time.Time) *v1alpha1.SalesRecord {
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

func create(objs ...client.Object) {
	for _, o := range objs {
		ExpectWithOffset(1, k8sClient.Create(bg, o)).To(Succeed())
	}
}

// update re-reads obj, applies mutate and writes it, retrying on conflicts.
func update[T client.Object](obj T, mutate func(T)) {
	EventuallyWithOffset(1, func() error {
		if err := k8sClient.Get(bg, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		err := k8sClient.Update(bg, obj)
		if apierrors.IsConflict(err) {
			return err
		}
		Expect(err).NotTo(HaveOccurred())
		return nil
	}).Should(Succeed())
}

// fetch returns a function reading obj fresh from the API server, for use
// in Eventually.
func fetch[T client.Object](obj T) func() T {
	return func() T {
		ExpectWithOffset(1, k8sClient.Get(bg, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		return obj
	}
}

// readyCondition returns the Ready condition of a status' conditions.
func readyCondition(conds []metav1.Condition) *metav1.Condition {
	return meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
}

func publisherTier(p *v1alpha1.Publisher) func() int32 {
	return func() int32 { return fetch(p)().Status.Tier }
}

func publisherSales(p *v1alpha1.Publisher) func() v1alpha1.Money {
	return func() v1alpha1.Money { return fetch(p)().Status.BilledSales }
}

func readyReasonOf(conds func() []metav1.Condition) func() string {
	return func() string {
		c := readyCondition(conds())
		if c == nil {
			return ""
		}
		return c.Reason
	}
}
