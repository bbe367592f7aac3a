package upgrade

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// cluster is an envtest API server driven with kubectl and helm through an
// admin kubeconfig, where managers run as processes.
type cluster struct {
	env        *envtest.Environment
	cfg        *rest.Config
	kubeconfig string
}

// api returns a client of the cluster with a discovery of its own: the
// kinds served change as versions are installed and upgraded, and a
// client's REST mapper keeps what it first learnt of a group version.
// The operator's kinds are read as unstructured objects, as both versions
// serve them.
func (c *cluster) api() client.Client {
	cl, err := client.New(c.cfg, client.Options{Scheme: testenv.Scheme()})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return cl
}

// newCluster starts an empty API server (no CRDs, no namespace), stopped
// when the current container's specs are done.
func newCluster() *cluster {
	env := testenv.NewEnvironment()
	cfg, err := env.Start()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	kubeconfig, err := testenv.AdminKubeconfig(env, "admin", GinkgoT().TempDir())
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return &cluster{env: env, cfg: cfg, kubeconfig: kubeconfig}
}

// env gives kubectl and helm a discovery cache of this cluster's own (the
// default one is keyed by host and port, which another run may have used).
func (c *cluster) envVars() []string {
	return []string{"KUBECACHEDIR=" + filepath.Join(filepath.Dir(c.kubeconfig), "cache")}
}

func (c *cluster) kubectl(stdin string, args ...string) (string, string, error) {
	return run(c.envVars(), stdin, kubectlBin, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
}

func (c *cluster) mustKubectl(stdin string, args ...string) string {
	out, errOut, err := c.kubectl(stdin, args...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), errOut)
	return out
}

func (c *cluster) helm(args ...string) (string, string, error) {
	return run(c.envVars(), "", helmBin, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
}

func (c *cluster) mustHelm(args ...string) string {
	out, errOut, err := c.helm(args...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), errOut)
	return out
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as the
// ServiceAccount namespace/name with a token from the TokenRequest API:
// the manager then has exactly the RBAC the install path granted it.
func (c *cluster) serviceAccountKubeconfig(namespace, name string) string {
	cs, err := kubernetes.NewForConfig(c.cfg)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(bg, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "the install created ServiceAccount %s/%s", namespace, name)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: c.cfg.Host, CertificateAuthorityData: c.cfg.CAData}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: name}
	kc.CurrentContext = name
	path := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	ExpectWithOffset(1, clientcmd.WriteToFile(*kc, path)).To(Succeed())
	return path
}

// manager is a manager binary running as its own process, with its
// metrics served over plain HTTP on localhost for the test to read.
type manager struct {
	name       string
	cmd        *exec.Cmd
	log        *testenv.SyncBuffer
	metricsURL string
	exited     chan error
}

// startManager runs bin with kubeconfig until stopped (or the container's
// specs are done), and waits until it is ready.
func startManager(name, bin, kubeconfig string) *manager {
	metrics, probes := testenv.FreeAddr(), testenv.FreeAddr()
	m := &manager{name: name, log: &testenv.SyncBuffer{}, metricsURL: "http://" + metrics + "/metrics", exited: make(chan error, 1)}
	m.cmd = exec.Command(bin, "--leader-elect=false", "--metrics-secure=false", "--metrics-bind-address="+metrics,
		"--health-probe-bind-address="+probes)
	m.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	ExpectWithOffset(1, m.cmd.Start()).To(Succeed())
	go func() { m.exited <- m.cmd.Wait() }()
	DeferCleanup(m.stop)
	EventuallyWithOffset(1, func(g Gomega) {
		select {
		case err := <-m.exited:
			m.exited <- err
			StopTrying(fmt.Sprintf("the %s manager exited (%v):\n%s", name, err, m.log.String())).Now()
		default:
		}
		resp, err := http.Get("http://" + probes + "/readyz")
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	}).Should(Succeed(), "the %s manager becomes ready", name)
	return m
}

// stop stops the manager as Kubernetes stops a pod (SIGTERM, then SIGKILL
// after the Deployment's grace period), and logs what it printed.
func (m *manager) stop() {
	if m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-m.exited:
		m.exited <- err
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
	}
	if CurrentSpecReport().Failed() || os.Getenv("UPGRADE_SHOW_MANAGER_LOG") != "" {
		fmt.Fprintf(GinkgoWriter, "--- %s manager log\n%s\n", m.name, m.log.String())
	}
}

// metric returns the sum of the samples of a metric family whose labels
// include the given ones (name="value" pairs), as the manager serves it.
func (m *manager) metric(g Gomega, family string, labels ...string) float64 {
	resp, err := http.Get(m.metricsURL)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	var sum float64
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, family+"{") && !strings.HasPrefix(line, family+" ") {
			continue
		}
		matches := true
		for _, l := range labels {
			matches = matches && strings.Contains(line, l)
		}
		if !matches {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		g.Expect(err).NotTo(HaveOccurred(), line)
		sum += v
	}
	g.Expect(scanner.Err()).NotTo(HaveOccurred())
	return sum
}

// converged waits until the manager has reconciled at least want[kind]
// objects with each controller (named after its kind, in lower case) and
// its work queues are empty with no worker busy, twice in a row two
// seconds apart with no reconcile in between: everything the manager
// learnt at start has been acted on.
func (m *manager) converged(want map[string]int) {
	total := func(g Gomega) float64 {
		var sum float64
		for kind := range want {
			sum += m.metric(g, "controller_runtime_reconcile_total", `controller="`+kind+`"`)
		}
		return sum
	}
	last := -1.0
	EventuallyWithOffset(1, func(g Gomega) {
		for kind, n := range want {
			g.Expect(m.metric(g, "controller_runtime_reconcile_total", `controller="`+kind+`"`)).To(BeNumerically(">=", n),
				"the %s controller has reconciled each of its %d objects", kind, n)
			g.Expect(m.metric(g, "workqueue_depth", `name="`+kind+`"`)).To(BeZero(), "the %s queue is empty", kind)
			g.Expect(m.metric(g, "controller_runtime_active_workers", `controller="`+kind+`"`)).To(BeZero(), "no %s worker is busy", kind)
		}
		now := total(g)
		stable := now == last
		last = now
		g.Expect(stable).To(BeTrue(), "no reconcile since the last look")
	}).WithPolling(2 * time.Second).WithTimeout(5 * time.Minute).Should(Succeed())
}
