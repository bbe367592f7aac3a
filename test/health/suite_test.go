// Package health checks what generic health tooling reads from the
// rewards-operator's objects: kstatus (Flux, kpt, cli-utils) and the Argo CD
// health scripts shipped in config/argocd. Both are exercised on real
// objects: created in a real kube-apiserver (envtest), reconciled by the
// real controllers on a fake clock, read back as unstructured.
package health

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/operator"
)

// One envtest for the package. The manager is NOT started by the suite:
// the scenarios first create objects that no controller has seen yet, then
// start it, and stop it again to make a spec change that it has not
// observed. k8sClient talks to the API server directly (no cache), so what
// the tests read is what a health tool would read.

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = testenv.Scheme()
	fakeClock *clocktesting.FakeClock
	mgr       *testenv.Manager
)

// suiteStart is the fake clock's time when the suite starts.
var suiteStart = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func TestHealth(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Health (kstatus and Argo CD) suite")
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
})

var _ = AfterSuite(func() {
	stopManager()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// startManager runs every controller against the envtest API server on the
// fake clock. It may be called again after stopManager.
func startManager() {
	ExpectWithOffset(1, mgr).To(BeNil(), "manager already running")
	var err error
	mgr, err = operator.Start(cfg, testenv.ManagerOptions(scheme), operator.Options(fakeClock), func(err error) {
		defer GinkgoRecover()
		Expect(err).NotTo(HaveOccurred())
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
}

// stopManager stops the manager if it runs, and waits until it has.
func stopManager() {
	if mgr != nil {
		mgr.Stop()
		mgr = nil
	}
}
