package e2e

import (
	"os"
	"os/exec"
	"syscall"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Issue 12: `--leader-elect` could not start outside a cluster ("unable to
// find leader election namespace").
var _ = Describe("A manager with leader election, outside a cluster", func() {
	It("takes its Lease in --leader-election-namespace and releases it on SIGTERM", func() {
		const leaseNS = "e2e-leader-election"
		kubectl("create", "namespace", leaseNS)

		By("starting a second manager process with leader election and the other new flags")
		log := &testenv.SyncBuffer{}
		second := exec.Command(managerBin, "--metrics-bind-address=0", "--health-probe-bind-address=0",
			"--leader-elect", "--leader-election-namespace="+leaseNS,
			"--max-concurrent-reconciles=2", "--kube-api-qps=20", "--kube-api-burst=40")
		second.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		second.Stdout, second.Stderr = log, log
		Expect(second.Start()).To(Succeed())
		exited := make(chan error, 1)
		go func() { exited <- second.Wait() }()
		DeferCleanup(func() {
			if second.ProcessState == nil {
				_ = second.Process.Kill()
			}
		})

		holder := func() string {
			out, _, _ := run("", "get", "lease", "-n", leaseNS, "rewards-operator.rewards.marketplace.io",
				"-o", "jsonpath={.spec.holderIdentity}")
			return out
		}
		Eventually(holder, "60s", "500ms").ShouldNot(BeEmpty(), func() string { return log.String() })

		By("stopping it: it exits 0 and releases the Lease for a standby")
		Expect(second.Process.Signal(syscall.SIGTERM)).To(Succeed())
		var err error
		Eventually(exited, "30s").Should(Receive(&err))
		Expect(err).NotTo(HaveOccurred(), log.String())
		Eventually(holder, "10s", "250ms").Should(BeEmpty())
	})
})
