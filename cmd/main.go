// Command manager runs the rewards-operator controllers.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/marketplace-rewards/rewards-operator/controllers"
	"github.com/marketplace-rewards/rewards-operator/internal/logging"
	"github.com/marketplace-rewards/rewards-operator/internal/memlimit"
	"github.com/marketplace-rewards/rewards-operator/internal/operator"
)

// version is the operator's release, set at build time with
// -ldflags "-X main.version=v0.1.0" (Makefile, Dockerfile, .ko.yaml).
var version = "dev"

// options are the manager's command-line flags.
type options struct {
	metricsAddr             string
	probeAddr               string
	pprofAddr               string
	enableLeaderElection    bool
	leaderElectionNamespace string
	secureMetrics           bool
	enableHTTP2             bool
	maxConcurrentReconciles int
	kubeAPIQPS              float64
	kubeAPIBurst            int
	resyncPeriod            time.Duration
	namespaces              []string
	leaderElectionID        string
	zap                     zap.Options
}

// bindFlags defines the manager's flags on fs.
func bindFlags(fs *flag.FlagSet) *options {
	o := &options{zap: zap.Options{Development: false}}
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to, "+
		"for example :8443 (HTTPS) or :8080 (HTTP). 0 disables the metrics endpoint.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "The address the health and readiness probes bind to.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "0", "The address Go's profiling endpoints (/debug/pprof/) bind to, "+
		"for example 127.0.0.1:6060, unauthenticated. 0 disables them.")
	fs.BoolVar(&o.enableLeaderElection, "leader-elect", false, "Enable leader election, so that only one "+
		"replica reconciles at a time.")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "The namespace of the leader "+
		"election Lease. Empty means the namespace the manager's pod runs in; set it to run with --leader-elect "+
		"outside a cluster.")
	fs.BoolVar(&o.secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS with authentication "+
		"and authorization. Set to false to serve plain HTTP.")
	fs.BoolVar(&o.enableHTTP2, "enable-http2", false, "Enable HTTP/2 for the metrics server "+
		"(off by default: HTTP/2 Rapid Reset, CVE-2023-44487).")
	fs.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", controllers.DefaultMaxConcurrentReconciles, "How many objects of one kind "+
		"each controller reconciles at the same time.")
	fs.Float64Var(&o.kubeAPIQPS, "kube-api-qps", -1, "Requests per second the manager's client may send to "+
		"the Kubernetes API server on average. -1 sets no client-side limit and leaves it to the API server's "+
		"priority and fairness (controller-runtime's default).")
	fs.IntVar(&o.kubeAPIBurst, "kube-api-burst", 30, "Requests the manager's client may send to the "+
		"Kubernetes API server at once above --kube-api-qps, when that is above 0.")
	fs.DurationVar(&o.resyncPeriod, "resync-period", controllers.DefaultResyncPeriod, "How often every object is "+
		"reconciled with no event, so that a status wiped or edited by anyone but the operator is repaired. 0 disables it.")
	fs.Func("namespaces", "Comma-separated namespaces this operator owns: it caches and reconciles their objects "+
		"only (RewardsPrograms, cluster-scoped, are read by all), and elects its leader with a Lease of its own. Several "+
		"operators, each owning other namespaces, scale the program out. Empty: every namespace.", func(v string) error {
		for _, ns := range strings.Split(v, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				o.namespaces = append(o.namespaces, ns)
			}
		}
		return nil
	})
	fs.StringVar(&o.leaderElectionID, "leader-election-id", "", "The name of the leader election Lease. Empty: "+
		operator.DefaultLeaderElectionID+", or with --namespaces one named after them.")
	o.zap.BindFlags(fs)
	return o
}

func main() {
	opts := bindFlags(flag.CommandLine)
	flag.Parse()

	// At --zap-log-level 7 and above client-go would log request headers,
	// and from 8 whole objects (marketing contacts' emails and phones):
	// the logger is capped (internal/logging). klog, which client-go and
	// leader election also log through, writes to the same capped logger.
	logger := logging.CapVerbosity(zap.New(zap.UseFlagOptions(&opts.zap)), logging.MaxVerbosity)
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	setupLog := ctrl.Log.WithName("setup")
	if opts.zap.Level != nil && opts.zap.Level.Enabled(zapcore.Level(-logging.MaxVerbosity-1)) {
		setupLog.Info("log verbosity capped: client-go logs object bodies above it", "maxLevel", logging.MaxVerbosity)
	}

	// The cache grows with the cluster: within a container's memory limit,
	// the garbage collector must work harder near it rather than let the
	// heap grow to twice what is live and the kernel kill the manager.
	if limit, err := memlimit.Set(os.Getenv, memlimit.CgroupFiles); err != nil {
		setupLog.Error(err, "unable to read the container's memory limit; the Go runtime has none")
	} else if limit > 0 {
		setupLog.Info("Go runtime memory limit set below the container's", "bytes", limit, "fraction", memlimit.Fraction)
	}
	// Most of the heap is the cache, which lives as long as the process:
	// the collector's default leaves as much room again for garbage.
	if percent := memlimit.SetGCPercent(os.Getenv); percent > 0 {
		setupLog.Info("garbage collector target set (GOGC overrides it)", "percent", percent)
	}

	var tlsOpts []func(*tls.Config)
	if !opts.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOptions := metricsserver.Options{
		BindAddress:   opts.metricsAddr,
		SecureServing: opts.secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if opts.secureMetrics {
		metricsOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	restConfig := ctrl.GetConfigOrDie()
	// The default, -1, is what GetConfigOrDie sets: no client-side rate
	// limit, the API server's priority and fairness being the limit.
	restConfig.QPS = float32(opts.kubeAPIQPS)
	restConfig.Burst = opts.kubeAPIBurst

	ctx := ctrl.SetupSignalHandler()
	leaseID := opts.leaderElectionID
	if leaseID == "" {
		leaseID = operator.LeaderElectionID(opts.namespaces)
	}
	if len(opts.namespaces) > 0 {
		setupLog.Info("owning only some namespaces", "namespaces", opts.namespaces, "leaderElectionID", leaseID)
	}
	mgr, err := operator.New(ctx, restConfig, operator.Shard(ctrl.Options{
		Metrics:                 metricsOptions,
		HealthProbeBindAddress:  opts.probeAddr,
		PprofBindAddress:        opts.pprofAddr,
		LeaderElection:          opts.enableLeaderElection,
		LeaderElectionID:        leaseID,
		LeaderElectionNamespace: opts.leaderElectionNamespace,
		// The manager stops right after the leader lease is released, so
		// releasing it on exit lets a standby take over at once.
		LeaderElectionReleaseOnCancel: true,
		// Applies to every controller (none sets its own).
		Controller: config.Controller{MaxConcurrentReconciles: opts.maxConcurrentReconciles},
	}, opts.namespaces), controllers.Options{Clock: clock.RealClock{}, ResyncPeriod: opts.resyncPeriod})
	if err != nil {
		setupLog.Error(err, "unable to set up the operator")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("starting manager", "version", version)
	if err := mgr.Start(ctx); err != nil {
		setupLog.Error(err, "problem running manager")
		os.Exit(1)
	}
}
