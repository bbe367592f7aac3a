// Package health checks what generic health tooling reads from the
// rewards-operator's objects: kstatus (Flux, kpt, cli-utils) and the Argo CD
// health scripts shipped in config/argocd. Both are exercised on real
// objects: created in a real kube-apiserver (envtest), reconciled by the
// real controllers on a fake clock, read back as unstructured.
package health

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/controllers"
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
	scheme    = runtime.NewScheme()
	fakeClock *clocktesting.FakeClock
	stopMgr   context.CancelFunc
	mgrDone   chan struct{}
)

// suiteStart is the fake clock's time when the suite starts.
var suiteStart = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func TestHealth(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Health (kstatus and Argo CD) suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{crdDir},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	fakeClock = clocktesting.NewFakeClock(suiteStart)
})

var _ = AfterSuite(func() {
	stopManager()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// crdDir holds the CRDs as shipped.
var crdDir = filepath.Join("..", "..", "config", "crd", "bases")

// startManager runs every controller against the envtest API server on the
// fake clock. It may be called again after stopManager.
func startManager() {
	ExpectWithOffset(1, stopMgr).To(BeNil(), "manager already running")
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// The same controllers run again in this process after a stop.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	ExpectWithOffset(1, controllers.SetupWithManager(ctx, mgr, fakeClock)).To(Succeed())
	stopMgr = cancel
	mgrDone = make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(mgrDone)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
}

// stopManager stops the manager if it runs, and waits until it has.
func stopManager() {
	if stopMgr != nil {
		stopMgr()
		<-mgrDone
		stopMgr = nil
	}
}
