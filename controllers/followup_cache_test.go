package controllers

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// O5 and the Events it emits: the offer's follow-up hint must not appear,
// nor its FollowUpNeeded Event fire, because the offer was reconciled
// before its contacted activation reached the informer cache. The cache and
// the API server are two fake clients here, so that the cache's lag is
// exact and the test does not depend on timing.

func TestFollowUpHintConfirmedAgainstTheAPIServer(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	contacted := now.Add(-24 * time.Hour)

	cases := map[string]struct {
		reason string
		// inCache and inAPI: whether the contacted activation is in the
		// cache, and in the API server.
		inCache, inAPI bool
		// hintBefore: the offer's status already shows the hint.
		hintBefore bool
		wantHint   bool
		wantEvent  bool
		// wantAPILists: how many times the reconcile lists from the API
		// server.
		wantAPILists int32
	}{
		"ActivationNotYetCached": {
			reason:       "O5: the cache lags behind the API server, which holds a contacted activation: no hint, no Event",
			inAPI:        true,
			wantAPILists: 1,
		},
		"NoActivationAnywhere": {
			reason:       "O5: the API server confirms that no activation was contacted: the hint appears with its Event",
			wantHint:     true,
			wantEvent:    true,
			wantAPILists: 1,
		},
		"ActivationCached": {
			reason:  "O5: the cache already holds the contacted activation: no hint, and no API read",
			inCache: true, inAPI: true,
		},
		"HintAlreadyShown": {
			reason:     "O5: the hint is already in status: it stays, with no second Event and no API read",
			hintBefore: true,
			wantHint:   true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// Live for 40 days: past the default 28 days of O5.
			scheme, program, publisher, offer := trialFixtures(t, now.Add(-40*24*time.Hour))
			if tc.hintBefore {
				offer.Status.FollowUpHint = "offer \"trial\" has been live for more than 28 days and none of its activations has been contacted"
			}
			activation := build.Activation("ns", "trial-blog", "trial", "go-live-blog", build.ContactedAt(contacted))
			// Another offer's activation, which the API read must not count.
			other := build.Activation("ns", "other-blog", "other", "go-live-blog", build.ContactedAt(contacted))

			cachedObjs := []client.Object{program, publisher, offer}
			if tc.inCache {
				cachedObjs = append(cachedObjs, activation.DeepCopy())
			}
			cache := fakeCache(scheme, cachedObjs...).WithStatusSubresource(&v1alpha1.Offer{}).Build()
			apiObjs := []client.Object{program.DeepCopy(), publisher.DeepCopy(), offer.DeepCopy(), other}
			if tc.inAPI {
				apiObjs = append(apiObjs, activation.DeepCopy())
			}
			var apiLists atomic.Int32
			api := fakeAPIServer(t, scheme, apiObjs...).
				WithInterceptorFuncs(interceptor.Funcs{
					List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
						apiLists.Add(1)
						return c.List(ctx, list, opts...)
					},
				}).Build()

			clk := clocktesting.NewFakeClock(now)
			recorder := events.NewFakeRecorder(10)
			r := &OfferReconciler{Client: cache, APIReader: api, Programs: records.NewPrograms(cache), Clock: clk, Recorder: recorder, wakeups: scheduler.NewWakeups(clk, 0, nil)}
			key := types.NamespacedName{Namespace: "ns", Name: "trial"}
			if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
				t.Fatalf("%s\nReconcile: %v", tc.reason, err)
			}

			var got v1alpha1.Offer
			if err := cache.Get(ctx, key, &got); err != nil {
				t.Fatal(err)
			}
			cond := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionFollowUpNeeded)
			hintShown := got.Status.FollowUpHint != "" && cond != nil && cond.Status == metav1.ConditionTrue
			if hintShown != tc.wantHint {
				t.Errorf("%s\nhint shown = %v (followUpHint %q, condition %+v), want %v", tc.reason, hintShown, got.Status.FollowUpHint, cond, tc.wantHint)
			}
			close(recorder.Events)
			eventSeen := false
			for e := range recorder.Events {
				if strings.Contains(e, "FollowUpNeeded") {
					eventSeen = true
				}
			}
			if eventSeen != tc.wantEvent {
				t.Errorf("%s\nFollowUpNeeded Event emitted = %v, want %v", tc.reason, eventSeen, tc.wantEvent)
			}
			if n := apiLists.Load(); n != tc.wantAPILists {
				t.Errorf("%s\nlisted from the API server %d times, want %d", tc.reason, n, tc.wantAPILists)
			}
		})
	}
}
