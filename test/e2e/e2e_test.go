// Package e2e drives the operator as a user would: the manager binary runs
// as its own process against a local control plane (a real kube-apiserver
// and etcd), and the test talks to it only through the pinned kubectl.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

var (
	root       string // repository root
	kubectlBin string
	kubeconfig string
	testEnv    *envtest.Environment
	managerBin string
	manager    *exec.Cmd
	managerLog *testenv.SyncBuffer
)

const ns = "e2e-demo"

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "End-to-end suite (manager process + kubectl)")
}

var _ = BeforeSuite(func() {
	var err error
	root, err = testenv.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	kubectlBin, err = testenv.Kubectl()
	Expect(err).NotTo(HaveOccurred())

	By("building the manager binary")
	managerBin = filepath.Join(GinkgoT().TempDir(), "manager")
	build := exec.Command("go", "build", "-o", managerBin, "./cmd")
	build.Dir = root
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))

	By("starting a local control plane, with no CRDs installed")
	testEnv = testenv.NewEnvironment()
	_, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, err = testenv.AdminKubeconfig(testEnv, "e2e-admin", GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())

	By("installing the CRDs with kubectl, as `make install` does")
	kubectl("apply", "--server-side", "-k", filepath.Join(root, "config", "crd"))
	kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")

	By("running the manager as its own process")
	probe := testenv.FreeAddr()
	managerLog = &testenv.SyncBuffer{}
	// At the highest verbosity, so that the log can be searched for what
	// must never be in it (logging_test.go).
	manager = exec.Command(managerBin, "--metrics-bind-address=0", "--health-probe-bind-address="+probe, "--leader-elect=false",
		"--zap-log-level=10")
	manager.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	manager.Stdout, manager.Stderr = managerLog, managerLog
	Expect(manager.Start()).To(Succeed())
	Eventually(func() (int, error) {
		resp, err := http.Get("http://" + probe + "/readyz")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}, "60s", "250ms").Should(Equal(http.StatusOK))
})

var _ = AfterSuite(func() {
	if manager != nil && manager.Process != nil {
		_ = manager.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- manager.Wait() }()
		select {
		case err := <-done:
			// Only diagnostic: the suite does not judge how the manager exits.
			if err != nil {
				GinkgoWriter.Printf("manager exited: %v\n", err)
			}
		case <-time.After(20 * time.Second):
			_ = manager.Process.Kill()
		}
		if CurrentSpecReport().Failed() || os.Getenv("E2E_SHOW_MANAGER_LOG") != "" {
			GinkgoWriter.Println(managerLog.String())
		}
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// run runs the pinned kubectl against the local control plane and returns
// its stdout, stderr and error.
func run(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	fmt.Fprintf(GinkgoWriter, "$ kubectl %s\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String(), stderr.String(), err
}

// kubectl runs kubectl and fails the test if it fails.
func kubectl(args ...string) string {
	out, errOut, err := run("", args...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), errOut)
	return out
}
