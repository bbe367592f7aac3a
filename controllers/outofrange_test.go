package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// What admission's bounds keep out can still be stored: objects written
// before those bounds existed. A derived value their status cannot hold is
// left out and Ready turns False with reason ValueOutOfRange, instead of a
// status write the API server refuses forever behind a stale Ready=True.
// The fake client here stands for such a stored object: it checks no
// schema, so the test sees what the reconciler writes.

func TestDerivedValuesOutOfRangeShowReadyFalse(t *testing.T) {
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	huge := v1alpha1.Money("1" + strings.Repeat("0", 40))                // 41 digits: beyond status' 40
	farLiveAt := time.Date(9999, time.November, 1, 0, 0, 0, 0, time.UTC) // + the default 3 months: the year 10000

	program := func() *v1alpha1.RewardsProgram {
		return build.Program(build.ProgramName(v1alpha1.DefaultProgramName), build.Tiers(build.Tier(1, "0", "badge")),
			build.Catalog(build.Benefit("badge", v1alpha1.BenefitCategoryTechnical, v1alpha1.ListingTypeTransact)))
	}
	publisher := func() *v1alpha1.Publisher { return stored(build.Publisher("ns", "contoso")) }
	offer := func(name string, lt v1alpha1.ListingType, liveAt time.Time) *v1alpha1.Offer {
		return stored(build.Offer("ns", name, "contoso", lt, liveAt))
	}
	line := func(amount v1alpha1.Money) *v1alpha1.SalesRecord {
		return stored(build.SalesRecord("ns", "line", "saas", string(amount), "USD", now.Add(-time.Hour)))
	}
	pastLiveAt := now.Add(-24 * time.Hour)

	cases := map[string]struct {
		reason    string
		objects   []client.Object
		reconcile func(r reconcilers) (client.Object, error)
		// ready is the Ready condition's reason wanted; message a part of
		// its message.
		ready, message string
		// fieldOK checks the derived field: left out of status when out of
		// range, shown otherwise.
		fieldOK func(client.Object) bool
	}{
		"OfferExpiryAfterYear9999": {
			reason:  "O4: a Trial offer stored live at 9999-11-01 expires (and its engagement ends) in 10000, which status cannot hold",
			objects: []client.Object{program(), publisher(), offer("trial", v1alpha1.ListingTypeTrial, farLiveAt)},
			reconcile: func(r reconcilers) (client.Object, error) {
				_, err := r.offer.Reconcile(context.Background(), request("trial"))
				return &v1alpha1.Offer{}, err
			},
			ready:   v1alpha1.ReasonValueOutOfRange,
			message: "status.engagementEndsAt cannot be shown: 10000-02-01T00:00:00Z",
			fieldOK: func(o client.Object) bool {
				st := o.(*v1alpha1.Offer).Status
				return st.EngagementEndsAt == nil && st.BenefitsExpireAt == nil
			},
		},
		"OfferWithinRange": {
			reason:  "O4: the same offer live now is evaluated as usual (the check is not always on)",
			objects: []client.Object{program(), publisher(), offer("trial", v1alpha1.ListingTypeTrial, pastLiveAt)},
			reconcile: func(r reconcilers) (client.Object, error) {
				_, err := r.offer.Reconcile(context.Background(), request("trial"))
				return &v1alpha1.Offer{}, err
			},
			ready:   string(v1alpha1.OfferLive),
			fieldOK: func(o client.Object) bool { return o.(*v1alpha1.Offer).Status.BenefitsExpireAt != nil },
		},
		"LineAmountBeyondStatus": {
			reason:  "S2: a line of 10^40 stored before admission bounded amounts cannot show its program amount",
			objects: []client.Object{program(), publisher(), offer("saas", v1alpha1.ListingTypeTransact, pastLiveAt), line(huge)},
			reconcile: func(r reconcilers) (client.Object, error) {
				_, err := r.sales.Reconcile(context.Background(), request("line"))
				return &v1alpha1.SalesRecord{}, err
			},
			ready:   v1alpha1.ReasonValueOutOfRange,
			message: "status.programAmount cannot be shown: the amount has 41 digits before the decimal point",
			fieldOK: func(o client.Object) bool { return o.(*v1alpha1.SalesRecord).Status.ProgramAmount == "" },
		},
		"BilledSalesBeyondStatus": {
			reason:  "S4: billed sales of 10^40 cannot be shown: the publisher says so rather than keep a stale sum",
			objects: []client.Object{program(), publisher(), offer("saas", v1alpha1.ListingTypeTransact, pastLiveAt), line(huge)},
			reconcile: func(r reconcilers) (client.Object, error) {
				_, err := r.publisher.Reconcile(context.Background(), request("contoso"))
				return &v1alpha1.Publisher{}, err
			},
			ready:   v1alpha1.ReasonValueOutOfRange,
			message: "status.billedSales cannot be shown",
			fieldOK: func(o client.Object) bool { return o.(*v1alpha1.Publisher).Status.BilledSales == "" },
		},
		"BilledSalesWithinRange": {
			reason:  "S4: the largest sum status holds is shown, and the tier computed",
			objects: []client.Object{program(), publisher(), offer("saas", v1alpha1.ListingTypeTransact, pastLiveAt), line(huge[:40])},
			reconcile: func(r reconcilers) (client.Object, error) {
				_, err := r.publisher.Reconcile(context.Background(), request("contoso"))
				return &v1alpha1.Publisher{}, err
			},
			ready: "TierComputed",
			fieldOK: func(o client.Object) bool {
				return o.(*v1alpha1.Publisher).Status.BilledSales == v1alpha1.DerivedMoney(huge[:40]+".00")
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := newReconcilers(t, now, tc.objects...)
			obj, err := tc.reconcile(r)
			if err != nil {
				t.Fatalf("%s\nReconcile: %v", tc.reason, err)
			}
			var conds []metav1.Condition
			var generation, observed int64
			switch o := obj.(type) {
			case *v1alpha1.Offer:
				mustGet(t, r.client, "trial", o)
				conds, generation, observed = o.Status.Conditions, o.Generation, o.Status.ObservedGeneration
			case *v1alpha1.SalesRecord:
				mustGet(t, r.client, "line", o)
				conds, generation, observed = o.Status.Conditions, o.Generation, o.Status.ObservedGeneration
			case *v1alpha1.Publisher:
				mustGet(t, r.client, "contoso", o)
				conds, generation, observed = o.Status.Conditions, o.Generation, o.Status.ObservedGeneration
			}
			ready := readyOf(conds)
			if ready == nil || ready.Reason != tc.ready || !strings.Contains(ready.Message, tc.message) {
				t.Errorf("%s\nReady = %+v, want reason %s with %q", tc.reason, ready, tc.ready, tc.message)
			}
			if want := tc.ready == v1alpha1.ReasonValueOutOfRange; ready != nil && (ready.Status == metav1.ConditionFalse) != want {
				t.Errorf("%s\nReady status %s, want False: %v", tc.reason, ready.Status, want)
			}
			if observed != generation {
				t.Errorf("%s\nstatus.observedGeneration %d, want %d: the status must be written", tc.reason, observed, generation)
			}
			if !tc.fieldOK(obj) {
				t.Errorf("%s\nstatus field not as wanted: %+v", tc.reason, obj)
			}
		})
	}
}

type reconcilers struct {
	client    client.Client
	offer     *OfferReconciler
	sales     *SalesRecordReconciler
	publisher *PublisherReconciler
}

// newReconcilers returns the offer, sales record and publisher reconcilers
// over a fake client holding objs, with the field indexes they use.
func newReconcilers(t *testing.T, now time.Time, objs ...client.Object) reconcilers {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fakeCache(scheme, objs...).
		WithStatusSubresource(&v1alpha1.Offer{}, &v1alpha1.SalesRecord{}, &v1alpha1.Publisher{}).
		Build()
	clk := clocktesting.NewFakeClock(now)
	rec := events.NewFakeRecorder(100)
	programs := records.NewPrograms(c)
	return reconcilers{
		client: c,
		offer:  &OfferReconciler{Client: c, APIReader: c, Programs: programs, Clock: clk, Recorder: rec, wakeups: scheduler.NewWakeups(clk, 0, nil)},
		sales:  &SalesRecordReconciler{Client: c, Programs: programs, Clock: clk, Recorder: rec, wakeups: scheduler.NewWakeups(clk, 0, nil)},
		publisher: &PublisherReconciler{Client: c, Gather: gather.Gatherer{Reader: c, Grants: records.NewGrants(c, c), Programs: programs},
			Clock: clk, Recorder: rec, wakeups: scheduler.NewWakeups(clk, 0, nil)},
	}
}

func request(name string) ctrl.Request {
	return ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}
}

func mustGet(t *testing.T, c client.Client, name string, obj client.Object) {
	t.Helper()
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: name}, obj); err != nil {
		t.Fatal(err)
	}
}

func readyOf(conds []metav1.Condition) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == v1alpha1.ConditionReady {
			return &conds[i]
		}
	}
	return nil
}
