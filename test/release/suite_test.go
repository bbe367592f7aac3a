// Package release proves what a release ships, as a platform team would
// use it: dist/install.yaml applied with kubectl, the Helm chart linted,
// rendered, compared with config/default and installed with helm, and the
// Prometheus alerts and Grafana dashboard parsed and checked against the
// metrics a running operator exports. Clusters are envtest API servers
// (no kubelet: nothing runs in pods); the operator runs in this process.
package release

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// The names config/default gives the operator's objects; the chart gives
// the same ones to a release called "rewards-operator".
const (
	operatorNS  = "rewards-operator-system"
	releaseName = "rewards-operator"
	chartDir    = "charts/rewards-operator"
)

var (
	root       string // repository root
	kubectlBin string
	helmBin    string
	scheme     = testenv.Scheme()
	bg         = context.Background()

	// version is the Makefile's VERSION; image is the image a release of
	// it runs (the Makefile's IMG).
	version string
	image   string
)

func TestRelease(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Release suite (dist/install.yaml, Helm chart, Prometheus rules and dashboard)")
}

var _ = BeforeSuite(func() {
	// Envtest API servers on a loaded CI machine: wait long enough.
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	logf.SetLogger(testenv.Logger(GinkgoWriter))

	var err error
	root, err = testenv.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	kubectlBin, err = testenv.Kubectl()
	Expect(err).NotTo(HaveOccurred())
	helmHome = GinkgoT().TempDir()
	helmBin = os.Getenv("HELM")
	Expect(helmBin).NotTo(BeEmpty(), "HELM is not set: run through `make test`, which builds helm into bin/ and sets it")
	_, err = os.Stat(helmBin)
	Expect(err).NotTo(HaveOccurred(), "HELM=%s", helmBin)

	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	Expect(err).NotTo(HaveOccurred())
	m := regexp.MustCompile(`(?m)^VERSION \?= (\d+\.\d+\.\d+)$`).FindSubmatch(makefile)
	Expect(m).NotTo(BeNil(), "the Makefile sets VERSION ?= x.y.z")
	version = string(m[1])
	m = regexp.MustCompile(`(?m)^IMAGE_REPO \?= (\S+)$`).FindSubmatch(makefile)
	Expect(m).NotTo(BeNil(), "the Makefile sets IMAGE_REPO")
	image = string(m[1]) + ":v" + version
})

// command runs a program (kubectl, helm) in the repository root and returns
// its stdout, stderr and error; what it printed goes to the test's log.
func command(stdin string, name string, args ...string) (string, string, error) {
	return commandEnv(nil, stdin, name, args...)
}

// commandEnv is command with extra environment variables.
func commandEnv(env []string, stdin string, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(bg, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = root
	// helm keeps its cache and configuration in these; keep them out of
	// the user's home.
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+helmHome, "HELM_CONFIG_HOME="+helmHome, "HELM_DATA_HOME="+helmHome)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	fmt.Fprintf(GinkgoWriter, "$ %s %s\n%s%s", filepath.Base(name), strings.Join(args, " "), truncate(stdout.String()), stderr.String())
	return stdout.String(), stderr.String(), err
}

// helmHome holds helm's cache and configuration for the suite.
var helmHome string

func truncate(s string) string {
	const max = 2000
	if len(s) <= max {
		return s
	}
	return s[:max] + fmt.Sprintf("... [%d more bytes]\n", len(s)-max)
}

// mustRun runs a program and fails the test if it fails; it returns stdout.
func mustRun(name string, args ...string) string {
	out, errOut, err := command("", name, args...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), errOut)
	return out
}

// helmTemplate renders the chart as release rewards-operator in the
// operator's namespace, with extra helm arguments (--set ...).
func helmTemplate(extra ...string) []*unstructured.Unstructured {
	args := append([]string{"template", releaseName, chartDir, "--namespace", operatorNS}, extra...)
	objs, err := testenv.DecodeObjects(mustRun(helmBin, args...))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return objs
}

// kustomize renders a kustomization directory with the pinned kubectl.
func kustomize(dir string) []*unstructured.Unstructured {
	objs, err := testenv.DecodeObjects(mustRun(kubectlBin, "kustomize", filepath.Join(root, dir)))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return objs
}

// readObjects decodes a YAML file of the repository.
func readObjects(path string) []*unstructured.Unstructured {
	data, err := os.ReadFile(filepath.Join(root, path))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	objs, err := testenv.DecodeObjects(string(data))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return objs
}

// find returns the object of kind and name among objs, or nil.
func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// mustFind is find that fails the test when there is no such object.
func mustFind(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	o := find(objs, kind, name)
	if o == nil {
		Fail(fmt.Sprintf("no %s %q rendered", kind, name), 1)
	}
	return o
}

// ofKind returns the objects of kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// typed converts an unstructured object into a typed one.
func typed[T any](u *unstructured.Unstructured) *T {
	out := new(T)
	ExpectWithOffset(1, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out)).To(Succeed())
	return out
}

// toYAML encodes objects for kubectl apply -f -.
func toYAML(objs []*unstructured.Unstructured) string {
	s, err := testenv.EncodeObjects(objs)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return s
}

// cluster is an envtest API server driven with kubectl and helm through an
// admin kubeconfig.
type cluster struct {
	kubeconfig string
}

// newCluster starts an empty API server (no CRDs, no namespace), stopped
// when the current container's specs are done.
func newCluster() *cluster {
	env := &envtest.Environment{}
	_, err := env.Start()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	kubeconfig, err := testenv.AdminKubeconfig(env, "admin", GinkgoT().TempDir())
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return &cluster{kubeconfig: kubeconfig}
}

// env gives kubectl and helm a discovery cache of this cluster's own: the
// default one (~/.kube/cache) is keyed by host and port, which another
// test run's API server may have used, with other API groups.
func (c *cluster) env() []string {
	return []string{"KUBECACHEDIR=" + filepath.Join(filepath.Dir(c.kubeconfig), "cache")}
}

func (c *cluster) kubectl(stdin string, args ...string) (string, string, error) {
	return commandEnv(c.env(), stdin, kubectlBin, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
}

func (c *cluster) mustKubectl(args ...string) string {
	out, errOut, err := c.kubectl("", args...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), errOut)
	return out
}

func (c *cluster) helm(args ...string) (string, string, error) {
	return commandEnv(c.env(), "", helmBin, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
}
