package controllers

import (
	"context"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
)

// B3 against a cache that lags behind the API server: before granting a
// one-time benefit, the reconcile asks the API server whether a sibling
// (another activation of the same benefit and offer) holds it already, and
// asks it nothing else. The cache and the API server are two fake clients,
// so that the cache's lag is exact and the test does not depend on timing.
func TestOneTimeGrantConfirmedAgainstTheAPIServer(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		reason string
		// siblingInAPI: the sibling and its grant are in the API server
		// (never in the cache).
		siblingInAPI bool
		wantGrant    bool
	}{
		"SiblingGrantedNotYetCached": {
			reason:       "B3: the API server shows a sibling granted the benefit, which the cache has not seen yet: no second grant",
			siblingInAPI: true,
		},
		"NoSiblingAnywhere": {
			reason:    "B3: the API server confirms that no sibling holds the benefit: it is granted",
			wantGrant: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			scheme, program, publisher, offer := trialFixtures(t, now.Add(-24*time.Hour))
			activation := func(name, uid string, created time.Time) *v1alpha1.BenefitActivation {
				return &v1alpha1.BenefitActivation{
					ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(uid), Generation: 1,
						CreationTimestamp: metav1.NewTime(created)},
					Spec: v1alpha1.BenefitActivationSpec{OfferRef: v1alpha1.LocalObjectReference{Name: "trial"}, Benefit: "go-live-blog"},
				}
			}
			mine := activation("second", "uid-second", now.Add(-time.Minute))
			sibling := activation("first", "uid-first", now.Add(-2*time.Minute))
			siblingGrant := &v1alpha1.BenefitGrant{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "first"},
				Spec: v1alpha1.BenefitGrantSpec{
					Activation: v1alpha1.GrantedActivation{Name: "first", UID: "uid-first"},
					Benefit:    "go-live-blog", Category: v1alpha1.BenefitCategoryTechnical, Offer: "trial", Publisher: "contoso",
					ActivatedAt: metav1.NewTime(now.Add(-time.Minute)), ContactDueBy: metav1.NewTime(now.Add(24 * time.Hour)),
				},
			}
			byOffer := func(o client.Object) []string { return []string{o.(*v1alpha1.BenefitActivation).Spec.OfferRef.Name} }
			byGrantOffer := func(o client.Object) []string { return []string{o.(*v1alpha1.BenefitGrant).Spec.Offer} }
			// The rules' revision is recorded: a grant names it.
			revision := &v1alpha1.RewardsProgramRevision{
				ObjectMeta: metav1.ObjectMeta{Name: rewards.RevisionName(program.Name, &program.Spec)},
				Spec:       v1alpha1.RewardsProgramRevisionSpec{Program: program.Name, Revision: 1, Rules: program.Spec},
			}

			cache := fakeCache(scheme, program, revision, publisher, offer, mine.DeepCopy()).
				WithStatusSubresource(&v1alpha1.BenefitActivation{}).
				Build()
			apiObjs := []client.Object{program.DeepCopy(), publisher.DeepCopy(), offer.DeepCopy(), mine.DeepCopy()}
			if tc.siblingInAPI {
				apiObjs = append(apiObjs, sibling, siblingGrant)
			}
			var mu sync.Mutex
			apiReads := map[string]int{}
			count := func(obj runtime.Object) {
				mu.Lock()
				defer mu.Unlock()
				gvk, err := apiutil.GVKForObject(obj, scheme)
				if err != nil {
					t.Errorf("reading %T from the API server: %v", obj, err)
				}
				apiReads[gvk.Kind]++
			}
			// The API server selects activations by spec.offerRef.name and
			// grants by spec.offer (selectable fields of the CRDs); the fake
			// does with indexes.
			api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(apiObjs...).
				WithIndex(&v1alpha1.BenefitActivation{}, indexOfferRef, byOffer).
				WithIndex(&v1alpha1.BenefitGrant{}, records.FieldGrantOffer, byGrantOffer).
				WithInterceptorFuncs(interceptor.Funcs{
					Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
						count(obj)
						return c.Get(ctx, key, obj, opts...)
					},
					List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
						count(list)
						return c.List(ctx, list, opts...)
					},
				}).Build()

			clk := clocktesting.NewFakeClock(now)
			r := &BenefitActivationReconciler{Client: cache, APIReader: api, Clock: clk, WallClock: clk, Recorder: events.NewFakeRecorder(10),
				Grants: records.NewGrants(cache, cache), FreshGrants: records.NewGrants(api, cache), Programs: records.NewPrograms(cache),
				wakeups: scheduler.NewWakeups(clk, 0)}
			key := client.ObjectKeyFromObject(mine)
			if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
				t.Fatalf("%s\nReconcile: %v", tc.reason, err)
			}

			// The operator writes through its client: here, the cache.
			err := cache.Get(ctx, key, &v1alpha1.BenefitGrant{})
			if granted := err == nil; granted != tc.wantGrant {
				t.Errorf("%s\ngranted = %v (Get: %v), want %v", tc.reason, granted, err, tc.wantGrant)
			} else if err != nil && !apierrors.IsNotFound(err) {
				t.Fatal(err)
			}
			// What B3 decides on, and nothing else: the activation's own
			// grant and those of its offer, and the siblings.
			for kind := range apiReads {
				switch kind {
				case "BenefitGrant", "BenefitGrantList", "BenefitActivationList":
				default:
					t.Errorf("%s\nread %s from the API server (reads %v): only B3's grants and siblings are read there", tc.reason, kind, apiReads)
				}
			}
			if apiReads["BenefitActivationList"] != 1 {
				t.Errorf("%s\nlisted the siblings from the API server %d times, want 1 (reads %v)", tc.reason, apiReads["BenefitActivationList"], apiReads)
			}
		})
	}
}
