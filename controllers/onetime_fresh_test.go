package controllers

import (
	"context"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
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
			mine := trialActivation("second", "uid-second", now.Add(-time.Minute))
			sibling := trialActivation("first", "uid-first", now.Add(-2*time.Minute))
			siblingGrant := build.Grant("ns", "first", "trial", "go-live-blog", "contoso", now.Add(-time.Minute),
				build.ActivationUID("uid-first"), build.GrantCategory(v1alpha1.BenefitCategoryTechnical), build.ContactDueBy(now.Add(24*time.Hour)))
			// The rules' revision is recorded: a grant names it.
			revision := revisionOf(program)

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
			api := fakeAPIServer(t, scheme, apiObjs...).
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
			grants := records.NewGrants(cache, cache)
			r := &BenefitActivationReconciler{Client: cache, Clock: clk, WallClock: clk, Recorder: events.NewFakeRecorder(10), Grants: grants,
				Gather:  gather.Gatherer{Reader: cache, Programs: records.NewPrograms(cache), Grants: grants},
				Fresh:   gather.Gatherer{Reader: api, Grants: records.NewGrants(api, cache)},
				wakeups: scheduler.NewWakeups(clk, 0, nil)}
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
