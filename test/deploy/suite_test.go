// Package deploy proves the shipped deployment manifests (config/) against a
// real kube-apiserver with RBAC authorization (envtest): the operator's own
// RBAC, run by the real controllers under the ServiceAccount's identity and
// under leader election; the partner-editor and viewer roles; and
// config/default as a whole, applied with the pinned kubectl.
package deploy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// Names config/default gives the operator's objects (namespace and
// namePrefix of config/default/kustomization.yaml).
const (
	operatorNS = "rewards-operator-system"
	operatorSA = "rewards-operator-controller-manager"
	// leaseID is the LeaderElectionID of cmd/main.go.
	leaseID = "rewards-operator.rewards.marketplace.io"
)

// operatorUser is the user name the API server gives the operator's
// ServiceAccount; managers in these tests impersonate it.
var operatorUser = "system:serviceaccount:" + operatorNS + ":" + operatorSA

var (
	root       string // repository root
	kubectlBin string
	testEnv    *envtest.Environment
	adminCfg   *rest.Config // system:masters
	admin      client.Client
	scheme     = testenv.Scheme()
	logs       = &logRecorder{}
	bg         = context.Background()

	// rendered is `kubectl kustomize config/default`, as objects.
	rendered []*unstructured.Unstructured
)

func TestDeploy(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Deployment manifests suite (config/rbac, config/default, leader election)")
}

var _ = BeforeSuite(func() {
	// Reconciles chain through watches; on a loaded 2-core CI machine
	// running several envtest suites at once that can take seconds, so
	// Eventually waits long enough (it returns as soon as it succeeds).
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	// Everything the managers and client-go log goes through one recorder,
	// so that tests can show that no request of the operator was refused.
	logger := testenv.Logger(io.MultiWriter(GinkgoWriter, logs))
	logf.SetLogger(logger)
	klog.SetLogger(logger)

	var err error
	root, err = testenv.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	kubectlBin, err = testenv.Kubectl()
	Expect(err).NotTo(HaveOccurred())

	By("rendering config/default with the pinned kubectl")
	rendered = decodeYAML(kustomize("config/default"))
	Expect(rendered).NotTo(BeEmpty())

	By("starting a kube-apiserver with RBAC authorization and the CRDs")
	testEnv, adminCfg, admin, err = testenv.Start(scheme)
	Expect(err).NotTo(HaveOccurred())

	By("installing the operator's namespace, ServiceAccount and RBAC as config/default renders them")
	installed := 0
	for _, obj := range rendered {
		switch obj.GetKind() {
		case "Namespace", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
			Expect(admin.Create(bg, obj.DeepCopy())).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
			installed++
		}
	}
	Expect(installed).To(BeNumerically(">=", 11), "namespace, ServiceAccount, five ClusterRoles, a Role and three bindings")
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// kustomize renders a kustomization directory of the repository with the
// pinned kubectl.
func kustomize(dir string) string {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubectlBin, "kustomize", filepath.Join(root, dir))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ExpectWithOffset(1, cmd.Run()).To(Succeed(), stderr.String())
	return stdout.String()
}

// configAs returns the admin config impersonating user (the API server adds
// system:authenticated, and for a ServiceAccount user name its groups).
func configAs(user string) *rest.Config {
	cfg := rest.CopyConfig(adminCfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	return cfg
}

// clientAs returns a client acting as user.
func clientAs(user string) client.Client {
	c, err := client.New(configAs(user), client.Options{Scheme: scheme})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return c
}

// renderedObject finds an object of config/default's rendering.
func renderedObject(kind, name string) *unstructured.Unstructured {
	for _, o := range rendered {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	Fail(fmt.Sprintf("config/default renders no %s %q", kind, name))
	return nil
}

// Timeouts for Eventually: envtest is a real API server, so allow for a
// slow machine.
const (
	waitLong = 60 * time.Second
	poll     = 100 * time.Millisecond
)
