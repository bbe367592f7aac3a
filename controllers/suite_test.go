package controllers_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/controllers"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/operator"
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
	// grantCreates counts the manager's creates of BenefitGrants, by name.
	grantCreates = &writeCounter{counts: map[string]int{}}
	mgr          *testenv.Manager
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
	// Several workers per controller, as in production: reconciles of
	// related objects race, and the rules must hold anyway.
	opts.Controller.MaxConcurrentReconciles = 4
	opts.NewClient = testenv.ObservedClient(func(c testenv.Call) {
		if c.Subresource != "" {
			writes.add(c.Object)
		}
		if _, isGrant := c.Object.(*v1alpha1.BenefitGrant); isGrant && c.Verb == testenv.VerbCreate {
			grantCreates.add(c.Object)
		}
	})
	var err error
	mgr, err = operator.Start(cfg, opts, operatorOptions(), func(err error) {
		defer GinkgoRecover()
		Expect(err).NotTo(HaveOccurred())
	})
	Expect(err).NotTo(HaveOccurred())
}

// operatorOptions are the controllers' options in this suite: the fake
// clock, the default resync period, and reconciles recorded as they finish.
func operatorOptions() controllers.Options {
	opts := operator.Options(fakeClock)
	opts.Observer = reconciles.observe
	return opts
}

func stopManager() {
	if mgr != nil {
		mgr.Stop()
		mgr = nil
	}
}

// reconcileLog records when each controller finished reconciling each
// object, and when that reconcile started.
type reconcileLog struct {
	mu sync.Mutex
	// started lists, by controller/namespace/name, the start instants of
	// the reconciles that finished.
	started map[string][]time.Time
}

var reconciles = &reconcileLog{started: map[string][]time.Time{}}

func (l *reconcileLog) observe(controller string, req ctrl.Request, started time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := controller + "/" + req.Namespace + "/" + req.Name
	l.started[k] = append(l.started[k], started)
}

// finishedSince reports whether controller finished a reconcile of key that
// started after t.
func (l *reconcileLog) finishedSince(controller string, key client.ObjectKey, t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.started[controller+"/"+key.Namespace+"/"+key.Name] {
		if s.After(t) {
			return true
		}
	}
	return false
}

// controllerOf names the controller that reconciles obj's kind.
func controllerOf(obj client.Object) string {
	return strings.ToLower(kindOf(obj))
}

// reconciledAfter makes change (a clock step, an edit), then waits until
// the controller of each of objs has reconciled it in a reconcile that
// started after the change: whatever that reconcile decided is in the API
// server by then. It is how a test shows that something did not happen,
// without watching for a while: the operator looked, and left it as it was.
// A change that reconciles nothing fails it.
func reconciledAfter(change func(), objs ...client.Object) {
	GinkgoHelper()
	t := time.Now()
	change()
	// A change may wake every object of the suite (a resync period passing
	// on the fake clock): on a loaded machine that many reconciles take a
	// while, so the wait is long (it returns as soon as it succeeds).
	for _, obj := range objs {
		Eventually(func() bool { return reconciles.finishedSince(controllerOf(obj), client.ObjectKeyFromObject(obj), t) }, 2*time.Minute).
			Should(BeTrue(), "%s %s reconciled after the change", kindOf(obj), obj.GetName())
	}
}

// resynced waits until each of objs has been reconciled again with nothing
// new (a resync period passed on the fake clock): a check after it shows
// what the operator decides, not a status it has not looked at yet.
func resynced(objs ...client.Object) {
	GinkgoHelper()
	reconciledAfter(func() { fakeClock.Step(controllers.DefaultResyncPeriod) }, objs...)
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

// countEvents counts the Events of a reason regarding an object. The
// events API folds a repeated Event into a series on one object: each
// occurrence counts.
func countEvents(obj client.Object, reason string) int {
	n := 0
	for _, e := range eventsFor(obj) {
		if e.Reason != reason {
			continue
		}
		if e.Series != nil && e.Series.Count > 1 {
			n += int(e.Series.Count)
		} else {
			n++
		}
	}
	return n
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

// eventsFor lists the events.k8s.io Events regarding an object: same
// kind, same name (an activation and its grant share a name).
func eventsFor(obj client.Object) []eventsv1.Event {
	var list eventsv1.EventList
	Expect(k8sClient.List(bg, &list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	kind := kindOf(obj)
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() && e.Regarding.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// kindOf is the kind of a typed object, from the scheme.
func kindOf(obj client.Object) string {
	gvks, _, err := scheme.ObjectKinds(obj)
	ExpectWithOffset(2, err).NotTo(HaveOccurred())
	return gvks[0].Kind
}

// eventReasons lists the reasons of the events regarding an object.
func eventReasons(obj client.Object) []string {
	events := eventsFor(obj)
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}
