// Package operator builds the rewards-operator's manager: the one place
// that says what the operator is made of (its scheme, its cache, its
// controllers and metrics collector), used by cmd/main.go, hack/run-local
// and the test suites, so that what runs in a test is what runs in a
// cluster.
package operator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
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
// (CacheOptions: no managedFields, shared strings; the namespaces of a
// Shard kept; wrapped in a keyedCache, whose keys the resyncs sweep) and,
// when none is set, controllers.DefaultMaxConcurrentReconciles workers per
// controller.
func ManagerOptions(opts ctrl.Options) ctrl.Options {
	if opts.Scheme == nil {
		opts.Scheme = Scheme()
	}
	namespaces := opts.Cache.DefaultNamespaces
	opts.Cache = CacheOptions()
	opts.Cache.DefaultNamespaces = namespaces
	opts.NewCache = keyedCacheOf(opts.NewCache)
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

// DefaultLeaderElectionID is the Lease the operator's replicas elect their
// leader with when they own the whole cluster.
const DefaultLeaderElectionID = "rewards-operator.rewards.marketplace.io"

// Shard limits opts to namespaces: the cache holds, and so the controllers
// reconcile, the objects of those namespaces only, and the replicas elect
// their leader with a Lease of their own (LeaderElectionID), so that
// several operators, each owning a set of namespaces, run side by side.
// RewardsPrograms and their revisions are cluster-scoped: every shard reads
// them, and any shard may record a program's revision. Every reference
// stays inside one namespace, so a shard decides its namespaces alone. The
// REST mappings a namespace-limited cache asks for on every read are
// remembered (mappingMemo). No namespaces: the whole cluster.
func Shard(opts ctrl.Options, namespaces []string) ctrl.Options {
	if len(namespaces) == 0 {
		return opts
	}
	opts.Cache.DefaultNamespaces = map[string]cache.Config{}
	for _, ns := range namespaces {
		opts.Cache.DefaultNamespaces[ns] = cache.Config{}
	}
	if opts.MapperProvider == nil {
		opts.MapperProvider = newMappingMemo
	}
	return opts
}

// LeaderElectionID is the Lease of the shard that owns namespaces:
// DefaultLeaderElectionID for the whole cluster, else one named after a
// hash of the namespaces (whatever their order), so that the replicas of
// one shard share a Lease and two shards never do.
func LeaderElectionID(namespaces []string) string {
	if len(namespaces) == 0 {
		return DefaultLeaderElectionID
	}
	sorted := slices.Sorted(slices.Values(namespaces))
	sum := sha256.Sum256([]byte(strings.Join(sorted, ",")))
	return "rewards-operator-" + hex.EncodeToString(sum[:])[:10] + ".rewards.marketplace.io"
}
