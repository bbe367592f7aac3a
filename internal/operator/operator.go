// Package operator builds the rewards-operator's manager: the one place
// that says what the operator is made of (its scheme, its cache, its
// controllers and metrics collector), used by cmd/main.go, hack/run-local
// and the test suites, so that what runs in a test is what runs in a
// cluster.
package operator

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/controllers"
	"github.com/marketplace-rewards/rewards-operator/internal/metrics"
)

// Scheme is the operator's scheme: Kubernetes' built-in kinds and the
// rewards kinds.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// ManagerOptions completes opts with what the operator needs whatever runs
// it: the scheme when none is given, the cache as the operator reads it
// (CacheOptions: no managedFields, shared strings) and, when
// none is set, controllers.DefaultMaxConcurrentReconciles workers per
// controller.
func ManagerOptions(opts ctrl.Options) ctrl.Options {
	if opts.Scheme == nil {
		opts.Scheme = Scheme()
	}
	opts.Cache = CacheOptions()
	if opts.Controller.MaxConcurrentReconciles == 0 {
		opts.Controller.MaxConcurrentReconciles = controllers.DefaultMaxConcurrentReconciles
	}
	return opts
}

// Setup registers the operator in mgr: every controller, with copts, and
// the metrics collector.
func Setup(ctx context.Context, mgr manager.Manager, copts controllers.Options) error {
	if err := controllers.SetupWithManager(ctx, mgr, copts); err != nil {
		return err
	}
	return metrics.Register(mgr)
}

// New builds the operator's manager for cfg: ManagerOptions(opts), then
// Setup.
func New(ctx context.Context, cfg *rest.Config, opts ctrl.Options, copts controllers.Options) (manager.Manager, error) {
	mgr, err := ctrl.NewManager(cfg, ManagerOptions(opts))
	if err != nil {
		return nil, err
	}
	if err := Setup(ctx, mgr, copts); err != nil {
		return nil, err
	}
	return mgr, nil
}
