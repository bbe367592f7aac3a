package deploy

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	rewardsoperator "github.com/marketplace-rewards/rewards-operator/internal/operator"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/operator"
)

// decodeYAML splits a multi-document YAML stream into objects.
func decodeYAML(s string) []*unstructured.Unstructured {
	objs, err := testenv.DecodeObjects(s)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return objs
}

// typed converts an unstructured object into a typed one.
func typed[T any](u *unstructured.Unstructured) *T {
	out := new(T)
	ExpectWithOffset(1, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out)).To(Succeed())
	return out
}

// ---------------------------------------------------------------------------
// Log recording

// logRecorder keeps every line the managers and client-go log (it is the
// zap logger's writer), so that a test can look for refused requests in
// what was logged while it ran.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
	part  string
}

func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.part + string(p)
	lines := strings.Split(s, "\n")
	r.part = lines[len(lines)-1]
	r.lines = append(r.lines, lines[:len(lines)-1]...)
	return len(p), nil
}

// mark returns a position to look from with since.
func (r *logRecorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines)
}

// since returns the lines logged since mark that contain any of the words
// (case-insensitive).
func (r *logRecorder) since(mark int, words ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.lines[mark:] {
		for _, w := range words {
			if strings.Contains(strings.ToLower(l), strings.ToLower(w)) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Managers

// Leader election timings: short, so that a test sees a failover in
// seconds, yet RenewDeadline leaves a slow machine room to renew.
var (
	leaseDuration = 4 * time.Second
	renewDeadline = 3 * time.Second
	retryPeriod   = 300 * time.Millisecond
)

// runningManager is the real manager (every controller of
// controllers.SetupWithManager) running in this process, with leader
// election as cmd/main.go sets it up, and counters of the API calls its
// client made.
type runningManager struct {
	name    string
	mgr     *testenv.Manager
	stopped bool
	reads   atomic.Int64 // Get and List from the manager's cache or through its client
	writes  atomic.Int64 // any write through the manager's client
	// reconciled are the namespaces of the objects it reconciled ("" for
	// cluster-scoped ones), by count.
	mu         sync.Mutex
	reconciled map[string]int
}

// reconciledNamespaces returns how many reconciles the manager finished
// per namespace.
func (rm *runningManager) reconciledNamespaces() map[string]int {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return maps.Clone(rm.reconciled)
}

// startManager starts a manager acting with cfg (impersonating the
// operator's ServiceAccount in these tests) and reading time from clk; with
// namespaces, a shard owning only those (operator.Shard), electing its
// leader with the Lease cmd/main.go gives it.
func startManager(name string, cfg *rest.Config, clk clock.WithDelayedExecution, metrics metricsserver.Options, namespaces ...string) *runningManager {
	rm := &runningManager{name: name, reconciled: map[string]int{}}
	opts := testenv.ManagerOptions(scheme)
	opts.Logger = ctrl.Log.WithName(name)
	if metrics.BindAddress == "" {
		metrics.BindAddress = "0"
	}
	opts.Metrics = metrics
	// What cmd/main.go sets, plus the namespace the Deployment runs in (in a
	// pod, controller-runtime reads it from the ServiceAccount's mounted
	// namespace file). Several managers run the same controllers in this
	// process (ManagerOptions skips the check of controller names).
	opts.LeaderElection = true
	opts.LeaderElectionID = leaseID
	if len(namespaces) > 0 {
		opts = rewardsoperator.Shard(opts, namespaces)
		opts.LeaderElectionID = rewardsoperator.LeaderElectionID(namespaces)
	}
	opts.LeaderElectionNamespace = operatorNS
	opts.LeaderElectionReleaseOnCancel = true
	opts.LeaseDuration = &leaseDuration
	opts.RenewDeadline = &renewDeadline
	opts.RetryPeriod = &retryPeriod
	// The controllers read from the manager's cache, and write through its
	// client.
	opts.NewCache = testenv.ObservedCache(func(testenv.Call) { rm.reads.Add(1) })
	opts.NewClient = testenv.ObservedClient(func(c testenv.Call) {
		switch c.Verb {
		case testenv.VerbGet, testenv.VerbList:
			rm.reads.Add(1)
		default:
			rm.writes.Add(1)
		}
	})
	var err error
	copts := operator.Options(clk)
	copts.Observer = func(_ string, req ctrl.Request, _ time.Time) {
		rm.mu.Lock()
		defer rm.mu.Unlock()
		rm.reconciled[req.Namespace]++
	}
	rm.mgr, err = operator.Start(cfg, opts, copts, nil)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return rm
}

// elected reports whether the manager has won leader election.
func (rm *runningManager) elected() bool {
	select {
	case <-rm.mgr.Elected():
		return true
	default:
		return false
	}
}

// stop stops the manager (releasing its lease) and waits until it has
// returned, which it must do without error.
func (rm *runningManager) stop() {
	if rm == nil || rm.stopped {
		return
	}
	rm.mgr.Cancel()
	Eventually(rm.mgr.Done(), 30*time.Second).Should(BeClosed(), "manager %s did not stop", rm.name)
	rm.stopped = true
	ExpectWithOffset(1, rm.mgr.Err()).NotTo(HaveOccurred(), "manager %s", rm.name)
}
