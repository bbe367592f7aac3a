package metrics_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/marketplace-rewards/rewards-operator/internal/metrics"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// One envtest for the package and one manager with no controllers at all:
// the collector only reads, so tests write status through the status
// subresource themselves and scrape the manager's metrics endpoint.

var (
	testEnv    *envtest.Environment
	k8sClient  client.Client
	mgr        *testenv.Manager
	metricsURL string
	scheme     = testenv.Scheme()
)

func TestMetrics(t *testing.T) {
	RegisterFailHandler(Fail)
	// The cache follows the API server within milliseconds, but give a
	// loaded machine room.
	SetDefaultEventuallyTimeout(10 * time.Second)
	RunSpecs(t, "Metrics suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(testenv.Logger(GinkgoWriter))
	var (
		cfg *rest.Config
		err error
	)
	testEnv, cfg, k8sClient, err = testenv.Start(scheme)
	Expect(err).NotTo(HaveOccurred())

	// BindAddress "127.0.0.1:0" would work but not tell us the port: take a
	// free one first.
	addr := testenv.FreeAddr()
	metricsURL = "http://" + addr + "/metrics"
	opts := testenv.ManagerOptions(scheme)
	opts.Metrics = metricsserver.Options{BindAddress: addr, SecureServing: false}
	mgr, err = testenv.StartManager(cfg, opts, func(_ context.Context, m manager.Manager) error {
		return metrics.Register(m)
	}, func(err error) {
		defer GinkgoRecover()
		Expect(err).NotTo(HaveOccurred())
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(mgr.GetCache().WaitForCacheSync(context.Background())).To(BeTrue())
})

var _ = AfterSuite(func() {
	if mgr != nil {
		mgr.Stop()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})
