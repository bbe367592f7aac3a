package deploy

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/marketplace-rewards/rewards-operator/controllers"
)

// decodeYAML splits a multi-document YAML stream into objects.
func decodeYAML(s string) []*unstructured.Unstructured {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(s), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
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
	name   string
	mgr    ctrl.Manager
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	reads  atomic.Int64 // Get and List through the manager's client
	writes atomic.Int64 // any write through the manager's client
}

// startManager starts a manager acting with cfg (impersonating the
// operator's ServiceAccount in these tests) and reading time from clk.
func startManager(name string, cfg *rest.Config, clk clock.WithDelayedExecution, metrics metricsserver.Options) *runningManager {
	rm := &runningManager{name: name, done: make(chan struct{})}
	if metrics.BindAddress == "" {
		metrics.BindAddress = "0"
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 ctrl.Log.WithName(name),
		Metrics:                metrics,
		HealthProbeBindAddress: "0",
		// What cmd/main.go sets, plus the namespace the Deployment runs in
		// (in a pod, controller-runtime reads it from the ServiceAccount's
		// mounted namespace file).
		LeaderElection:                true,
		LeaderElectionID:              leaseID,
		LeaderElectionNamespace:       operatorNS,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &leaseDuration,
		RenewDeadline:                 &renewDeadline,
		RetryPeriod:                   &retryPeriod,
		// Several managers run the same controllers in this process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		NewClient: func(config *rest.Config, options client.Options) (client.Client, error) {
			c, err := client.NewWithWatch(config, options)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(c, interceptor.Funcs{
				Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					rm.reads.Add(1)
					return c.Get(ctx, key, obj, opts...)
				},
				List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
					rm.reads.Add(1)
					return c.List(ctx, list, opts...)
				},
				Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
					rm.writes.Add(1)
					return c.Create(ctx, obj, opts...)
				},
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					rm.writes.Add(1)
					return c.Update(ctx, obj, opts...)
				},
				Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
					rm.writes.Add(1)
					return c.Patch(ctx, obj, patch, opts...)
				},
				Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
					rm.writes.Add(1)
					return c.Delete(ctx, obj, opts...)
				},
				SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
					rm.writes.Add(1)
					return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
				},
				SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
					rm.writes.Add(1)
					return c.SubResource(sub).Update(ctx, obj, opts...)
				},
			}), nil
		},
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	ExpectWithOffset(1, controllers.SetupWithManager(ctx, mgr, clk)).To(Succeed())
	rm.mgr, rm.cancel = mgr, cancel
	go func() {
		defer close(rm.done)
		rm.err = mgr.Start(ctx)
	}()
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
	if rm == nil || rm.cancel == nil {
		return
	}
	rm.cancel()
	Eventually(rm.done, 30*time.Second).Should(BeClosed(), "manager %s did not stop", rm.name)
	rm.cancel = nil
	ExpectWithOffset(1, rm.err).NotTo(HaveOccurred(), "manager %s", rm.name)
}
