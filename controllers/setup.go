package controllers

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
)

// DefaultMaxConcurrentReconciles is how many objects of one kind each
// controller reconciles at once unless told otherwise: several, so that
// while some reconciles wait on the API server (a status write, B3's fresh
// read) others use the CPU; docs/benchmarks.md has the measurements this
// default was chosen by. Related objects never race into a wrong status:
// one-time grants (B3) are decided under a lock and status patches are
// optimistic.
const DefaultMaxConcurrentReconciles = 4

// DefaultResyncPeriod is how often every object is reconciled with no
// event unless Options says otherwise: a status wiped or edited by anyone
// but the operator is repaired within that time.
const DefaultResyncPeriod = 10 * time.Minute

// Options configure the controllers.
type Options struct {
	// Clock is the clock all controllers read the program's time from:
	// clock.RealClock in production, a fake clock in tests.
	Clock clock.WithDelayedExecution
	// WallClock is the real time, against which the API server's own
	// instants (creationTimestamp) are judged; clock.RealClock when nil.
	WallClock clock.PassiveClock
	// ResyncPeriod is how often every object is reconciled with no event;
	// 0 never.
	ResyncPeriod time.Duration
	// Observer, if set, is told of every finished reconcile: tests wait on
	// it for a reconcile that saw a change, instead of watching for a
	// while that nothing happens.
	Observer ReconcileObserver
}

// ReconcileObserver is told that controller finished reconciling req, in a
// reconcile that started at started (wall-clock time).
type ReconcileObserver func(controller string, req ctrl.Request, started time.Time)

// observed wraps a reconciler so that observer, when set, hears of every
// finished reconcile.
func observed(controller string, r reconcile.Reconciler, observer ReconcileObserver) reconcile.Reconciler {
	if observer == nil {
		return r
	}
	return reconcile.Func(func(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
		started := time.Now()
		defer observer(controller, req, started)
		return r.Reconcile(ctx, req)
	})
}

// SetupWithManager registers the field indexes and every controller with
// mgr. The metrics collector is the caller's to register (cmd/main.go).
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if err := SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	recorder := mgr.GetEventRecorder("rewards-operator")
	clk, resync, obs := opts.Clock, opts.ResyncPeriod, opts.Observer
	wall := opts.WallClock
	if wall == nil {
		wall = clock.RealClock{}
	}
	c := cacheReads{Client: mgr.GetClient(), cache: mgr.GetCache()}
	programs := records.NewPrograms(c)
	grants := records.NewGrants(c, mgr.GetClient())
	upgraded, lost := newUpgradeGate(), newLostGrants()
	if err := mgr.Add(&upgradeRecords{cache: mgr.GetCache(), grants: grants, recorder: recorder, gate: upgraded}); err != nil {
		return err
	}
	// A publisher's sales facts are computed once per change and shared by
	// its reconcile and its activations'; when they change in a way the
	// activations read, its Transact activations are reconciled. The send
	// does not block the reconcile that computed the facts.
	sales := gather.NewSalesMemo()
	salesChanged := make(chan event.GenericEvent, 1024)
	sales.OnChange = func(pub types.NamespacedName) {
		target := &v1alpha1.Publisher{ObjectMeta: metav1.ObjectMeta{Namespace: pub.Namespace, Name: pub.Name}}
		go func() { salesChanged <- event.GenericEvent{Object: target} }()
	}
	cached := gather.Gatherer{Reader: c, Programs: programs, Grants: grants, Sales: sales, Lost: lost.get}
	fresh := gather.Gatherer{Reader: mgr.GetAPIReader(), Programs: programs, Grants: records.NewGrants(mgr.GetAPIReader(), mgr.GetClient())}
	setups := []interface{ SetupWithManager(ctrl.Manager) error }{
		&RewardsProgramReconciler{Client: c, Programs: programs, Clock: clk, Recorder: recorder, ResyncPeriod: resync, Observer: obs},
		&OfferReconciler{Client: c, APIReader: mgr.GetAPIReader(), Programs: programs, Clock: clk, Recorder: recorder, ResyncPeriod: resync, Observer: obs},
		&SalesRecordReconciler{Client: c, Programs: programs, Clock: clk, Recorder: recorder, ResyncPeriod: resync, Observer: obs},
		&PublisherReconciler{Client: c, Gather: cached, Clock: clk, Recorder: recorder, ResyncPeriod: resync, Observer: obs, Upgraded: upgraded},
		&BenefitActivationReconciler{Client: c, Gather: cached, Fresh: fresh, Grants: grants, Clock: clk, WallClock: wall, Recorder: recorder,
			ResyncPeriod: resync, Observer: obs, Upgraded: upgraded, SalesChanged: salesChanged, lost: lost},
		&BenefitGrantReconciler{Client: c, Grants: grants, Recorder: recorder, Observer: obs, lost: lost},
	}
	for _, s := range setups {
		if err := s.SetupWithManager(mgr); err != nil {
			return err
		}
	}
	return nil
}

// cacheReads is the manager's client with its reads sent straight to the
// manager's cache. The manager's client reads from the same cache, but
// first asks, for every read, whether the object's kind is one it must not
// cache (a lookup of the kind in the scheme each time): the controllers
// read only the operator's own kinds, all cached, and they read a few
// times per reconcile (a sales line reads its offer, publisher and
// program), so the answer is known and asking is a cost on every read of
// the hottest path. Writes go to the manager's client.
type cacheReads struct {
	client.Client
	cache client.Reader
}

// Get reads obj from the cache.
func (c cacheReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.cache.Get(ctx, key, obj, opts...)
}

// List lists from the cache.
func (c cacheReads) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return c.cache.List(ctx, list, opts...)
}
