package v1alpha1_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// These tests install the generated CRDs into a real kube-apiserver (envtest)
// and check what admission accepts and refuses. No controller runs.

var (
	testEnv   *envtest.Environment
	k8sClient client.Client
	ctx       context.Context
	cancel    context.CancelFunc
)

func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "API admission suite")
}

var _ = BeforeSuite(func() {
	// Reconciles chain through watches; on a loaded 2-core CI machine
	// running several envtest suites at once that can take seconds, so
	// Eventually waits long enough (it returns as soon as it succeeds).
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	logf.SetLogger(testenv.Logger(GinkgoWriter))
	ctx, cancel = context.WithCancel(context.Background())

	var err error
	testEnv, _, k8sClient, err = testenv.Start(testenv.Scheme())
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	cancel()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})
