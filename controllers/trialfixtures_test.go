package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// trialFixtures are the objects of the tests that set a lagging cache (a
// fake client) against the API server (another): a scheme with the
// operator's kinds, the default program with one Technical benefit of
// Trial offers (go-live-blog), the enrolled publisher contoso in namespace
// ns, and its Trial offer "trial", live since liveAt.
func trialFixtures(t *testing.T, liveAt time.Time) (*runtime.Scheme, *v1alpha1.RewardsProgram, *v1alpha1.Publisher, *v1alpha1.Offer) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	program := &v1alpha1.RewardsProgram{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultProgramName},
		Spec: v1alpha1.RewardsProgramSpec{
			Tiers: []v1alpha1.Tier{{Level: 1, MinBilledSales: "0"}},
			Benefits: []v1alpha1.Benefit{{Name: "go-live-blog", Category: v1alpha1.BenefitCategoryTechnical,
				ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTrial}}},
		},
	}
	publisher := &v1alpha1.Publisher{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "contoso"},
		Spec:       v1alpha1.PublisherSpec{MPNID: "4761234", AccountEmail: "partner-center@contoso.com", Enrolled: true},
	}
	offer := &v1alpha1.Offer{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "trial", Generation: 1},
		Spec: v1alpha1.OfferSpec{
			PublisherRef: v1alpha1.LocalObjectReference{Name: "contoso"},
			Storefront:   v1alpha1.StorefrontAzureMarketplace, ListingType: v1alpha1.ListingTypeTrial,
			LiveAt: metav1.NewTime(liveAt),
		},
	}
	return scheme, program, publisher, offer
}
