package controllers_test

import (
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// One envtest (a real kube-apiserver and etcd) for the package, started
// once; one manager running every controller on a fake clock. Each test
// works in a namespace of its own and, when it changes a program, in a
// program of its own.

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = testenv.Scheme()
	fakeClock *clocktesting.FakeClock
	writes    = &writeCounter{counts: map[string]int{}}
	mgr       *testenv.Manager
)

// suiteStart is the fake clock's time when the suite starts.
var suiteStart = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controllers suite")
}

var _ = BeforeSuite(func() {
	// Reconciles chain through watches; on a loaded 2-core CI machine
	// running several envtest suites at once that can take seconds, so
	// Eventually waits long enough (it returns as soon as it succeeds).
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	logf.SetLogger(testenv.Logger(GinkgoWriter))
	var err error
	testEnv, cfg, k8sClient, err = testenv.Start(scheme)
	Expect(err).NotTo(HaveOccurred())

	fakeClock = clocktesting.NewFakeClock(suiteStart)
	startManager()
})

var _ = AfterSuite(func() {
	stopManager()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// startManager runs every controller against the envtest API server. Its
// client counts status writes per object, so tests can show that a
// reconcile which changes nothing writes nothing. stopManager/startManager
// run the same controllers again in this process (a restart test).
func startManager() {
	opts := testenv.ManagerOptions(scheme)
	opts.NewClient = testenv.ObservedClient(func(c testenv.Call) {
		if c.Subresource != "" {
			writes.add(c.Object)
		}
	})
	var err error
	mgr, err = testenv.StartOperator(cfg, opts, fakeClock, func(err error) {
		defer GinkgoRecover()
		Expect(err).NotTo(HaveOccurred())
	})
	Expect(err).NotTo(HaveOccurred())
}

func stopManager() {
	if mgr != nil {
		mgr.Stop()
		mgr = nil
	}
}

// writeCounter counts status writes by kind/namespace/name.
type writeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func writeKey(obj client.Object) string {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		if gvks, _, err := scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
			kind = gvks[0].Kind
		}
	}
	return kind + "/" + obj.GetNamespace() + "/" + obj.GetName()
}

func (w *writeCounter) add(obj client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[writeKey(obj)]++
}

func (w *writeCounter) of(obj client.Object) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[writeKey(obj)]
}

// newNamespace creates a namespace for one test.
func newNamespace() string {
	ns, err := testenv.NewNamespace(bg, k8sClient, "rewards-test-")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return ns
}

// eventsFor lists the events.k8s.io Events regarding an object.
func eventsFor(obj client.Object) []eventsv1.Event {
	var list eventsv1.EventList
	Expect(k8sClient.List(bg, &list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() {
			out = append(out, e)
		}
	}
	return out
}

// eventReasons lists the reasons of the events regarding an object.
func eventReasons(obj client.Object) []string {
	var out []string
	for _, e := range eventsFor(obj) {
		out = append(out, e.Reason)
	}
	return out
}
