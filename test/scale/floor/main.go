//go:build scale

// Command floor is the scale benchmark's floor: a manager with the
// operator's cache options and concurrency that writes one status per
// object, observedGeneration and a ScaleFloor condition, and nothing when
// that is already written. It is the least any operator of these kinds
// could do, so the operator's convergence is measured against it on the
// same objects. Given --namespaces, it caches and reconciles the objects
// of those namespaces only, as the operator does with the same flag
// (operator.Shard), and leaves the cluster-scoped RewardsPrograms to the
// operator: the benchmark runs both at once, each on its own copy of the
// dataset.
package main

import (
	"context"
	"flag"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/operator"
	"github.com/marketplace-rewards/rewards-operator/internal/status"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// ConditionFloor is the condition the floor writes; the benchmark's watch
// counts an object converged when it shows it for its generation.
const ConditionFloor = "ScaleFloor"

func main() {
	workers := flag.Int("max-concurrent-reconciles", 1, "objects of one kind each controller reconciles at once")
	pprofAddr := flag.String("pprof-bind-address", "", "address of the pprof endpoint, as the operator's; empty: none")
	metricsAddr := flag.String("metrics-bind-address", "0", "address of the plain-HTTP metrics endpoint; 0: none")
	namespaces := flag.String("namespaces", "", "comma-separated namespaces to cache and reconcile, "+
		"RewardsPrograms left out; empty: every namespace and the RewardsPrograms")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse() // --kubeconfig is controller-runtime's own flag
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("floor")

	// ctrl.GetConfigOrDie leaves no client-side rate limit (QPS -1), as the
	// operator runs by default.
	var owned []string
	for _, ns := range strings.Split(*namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			owned = append(owned, ns)
		}
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), operator.Shard(ctrl.Options{
		Scheme:                 testenv.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: *metricsAddr},
		HealthProbeBindAddress: "0",
		PprofBindAddress:       *pprofAddr,
		Controller:             config.Controller{MaxConcurrentReconciles: *workers},
		Cache:                  operator.CacheOptions(),
	}, owned))
	if err != nil {
		log.Error(err, "creating the manager")
		os.Exit(1)
	}
	var errs []error
	// A RewardsProgram is cluster-scoped: with namespaces, the operator
	// running beside the floor owns it, and two managers writing one
	// status would undo each other's writes.
	if len(owned) == 0 {
		errs = append(errs, setup(mgr, "rewardsprogram", func() *v1alpha1.RewardsProgram { return &v1alpha1.RewardsProgram{} },
			func(o *v1alpha1.RewardsProgram) (*int64, *[]metav1.Condition) {
				return &o.Status.ObservedGeneration, &o.Status.Conditions
			}))
	}
	errs = append(errs,
		setup(mgr, "publisher", func() *v1alpha1.Publisher { return &v1alpha1.Publisher{} },
			func(o *v1alpha1.Publisher) (*int64, *[]metav1.Condition) {
				return &o.Status.ObservedGeneration, &o.Status.Conditions
			}),
		setup(mgr, "offer", func() *v1alpha1.Offer { return &v1alpha1.Offer{} },
			func(o *v1alpha1.Offer) (*int64, *[]metav1.Condition) {
				return &o.Status.ObservedGeneration, &o.Status.Conditions
			}),
		setup(mgr, "salesrecord", func() *v1alpha1.SalesRecord { return &v1alpha1.SalesRecord{} },
			func(o *v1alpha1.SalesRecord) (*int64, *[]metav1.Condition) {
				return &o.Status.ObservedGeneration, &o.Status.Conditions
			}),
		setup(mgr, "benefitactivation", func() *v1alpha1.BenefitActivation { return &v1alpha1.BenefitActivation{} },
			func(o *v1alpha1.BenefitActivation) (*int64, *[]metav1.Condition) {
				return &o.Status.ObservedGeneration, &o.Status.Conditions
			}),
	)
	for _, err := range errs {
		if err != nil {
			log.Error(err, "setting up a controller")
			os.Exit(1)
		}
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "running the manager")
		os.Exit(1)
	}
}

// floor reconciles one kind: it marks each object's status once per
// generation.
type floor[T client.Object] struct {
	client client.Client
	newObj func() T
	status func(T) (observedGeneration *int64, conditions *[]metav1.Condition)
}

// setup registers the floor controller of one kind. Like the operator's
// controllers it ignores updates that leave the generation alone, its own
// status writes among them.
func setup[T client.Object](mgr ctrl.Manager, name string, newObj func() T, statusOf func(T) (*int64, *[]metav1.Condition)) error {
	f := &floor[T]{client: mgr.GetClient(), newObj: newObj, status: statusOf}
	return ctrl.NewControllerManagedBy(mgr).
		For(newObj(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named(name).
		Complete(f)
}

// Reconcile writes observedGeneration and the ScaleFloor condition as the
// object's whole status, the way the operator writes a status
// (status.Write), unless they are already there.
func (f *floor[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := f.newObj()
	if err := f.client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	gen := obj.GetGeneration()
	observed, conds := f.status(obj)
	if c := meta.FindStatusCondition(*conds, ConditionFloor); *observed == gen && c != nil && c.ObservedGeneration == gen {
		return ctrl.Result{}, nil
	}
	*observed = gen
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: ConditionFloor, Status: metav1.ConditionTrue, ObservedGeneration: gen,
		Reason: "Observed", Message: "the scale benchmark's floor saw this generation",
	})
	// The bench wipes every status before a round: the floor's two fields
	// are the whole status.
	return ctrl.Result{}, status.Write(ctx, f.client, obj, obj.GetResourceVersion(), floorStatus{ObservedGeneration: gen, Conditions: *conds})
}

// floorStatus is the status the floor writes.
type floorStatus struct {
	ObservedGeneration int64              `json:"observedGeneration"`
	Conditions         []metav1.Condition `json:"conditions"`
}
