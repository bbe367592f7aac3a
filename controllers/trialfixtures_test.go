package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
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
	program := build.Program(build.ProgramName(v1alpha1.DefaultProgramName), build.Tiers(build.Tier(1, "0")),
		build.Catalog(build.Benefit("go-live-blog", v1alpha1.BenefitCategoryTechnical, v1alpha1.ListingTypeTrial)))
	publisher := build.Publisher("ns", "contoso")
	offer := stored(build.Offer("ns", "trial", "contoso", v1alpha1.ListingTypeTrial, liveAt))
	return scheme, program, publisher, offer
}

// trialActivation is activation name of go-live-blog for the offer of
// trialFixtures, created at created, as stored under uid.
func trialActivation(name, uid string, created time.Time) *v1alpha1.BenefitActivation {
	a := stored(build.Activation("ns", name, "trial", "go-live-blog", build.CreatedAt(created)))
	a.UID = types.UID(uid)
	return a
}

// revisionOf is the revision recording program's rules, which a grant
// names.
func revisionOf(program *v1alpha1.RewardsProgram) *v1alpha1.RewardsProgramRevision {
	return &v1alpha1.RewardsProgramRevision{
		ObjectMeta: metav1.ObjectMeta{Name: rewards.RevisionName(program.Name, &program.Spec)},
		Spec:       v1alpha1.RewardsProgramRevisionSpec{Program: program.Name, Revision: 1, Rules: program.Spec},
	}
}
