package plugin_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/operator"
)

// One envtest (a real kube-apiserver and etcd) for the package, with the
// operator running in the test process on a fake clock; the plugin's
// commands run in the process too, through a kubeconfig file, as a user
// would run them. Each test works in a namespace and a program of its own.

var (
	testEnv    *envtest.Environment
	k8sClient  client.Client
	scheme     = testenv.Scheme()
	fakeClock  *clocktesting.FakeClock
	mgr        *testenv.Manager
	kubeconfig string
	bg         = context.Background()
	// pluginWrites counts the writes the plugin's client makes.
	pluginWrites atomic.Int64
)

// suiteStart is the fake clock's time when the suite starts.
var suiteStart = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func TestPlugin(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kubectl-rewards suite")
}

var _ = BeforeSuite(func() {
	// Generous: CI runs several envtest suites at once on 2 cores.
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	logf.SetLogger(testenv.Logger(GinkgoWriter))
	var err error
	var cfg *rest.Config
	testEnv, cfg, k8sClient, err = testenv.Start(scheme)
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, err = testenv.AdminKubeconfig(testEnv, "plugin-user", GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())

	fakeClock = clocktesting.NewFakeClock(suiteStart)
	mgr, err = operator.Start(cfg, testenv.ManagerOptions(scheme), operator.Options(fakeClock), func(err error) {
		defer GinkgoRecover()
		Expect(err).NotTo(HaveOccurred())
	})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if mgr != nil {
		mgr.Stop()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// result is what a run of kubectl-rewards gave.
type result struct {
	code        int
	out, errOut string
}

// kubectlRewards runs the plugin with args, as `kubectl rewards args...`
// against the envtest API server, evaluating at the fake clock's time.
func kubectlRewards(args ...string) result {
	return pluginRun{kubeconfig: kubeconfig}.run(args...)
}

// pluginRun is how a test runs the plugin: against which cluster, as which
// version, with stderr a terminal or not.
type pluginRun struct {
	kubeconfig string
	// version is the plugin's version; "" for plugin.NewOptions' own.
	version  string
	terminal bool
}

// run runs kubectl-rewards with args. The client-side rate limit is off:
// the API server of the test is the only one it loads. A first argument
// "__complete" (cobra's completion request) stays first, as kubectl and
// the shells send it.
func (p pluginRun) run(args ...string) result {
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := plugin.NewOptions(streams)
	o.Now = fakeClock.Now
	if p.version != "" {
		o.Version = p.version
	}
	o.ErrOutIsTerminal = func() bool { return p.terminal }
	o.ConfigFlags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c.QPS = -1
		return c
	}
	o.NewClient = func(cfg *rest.Config, opts client.Options) (client.Client, error) {
		c, err := client.NewWithWatch(cfg, opts)
		if err != nil {
			return nil, err
		}
		count := func() { pluginWrites.Add(1) }
		return interceptor.NewClient(c, interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				count()
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				count()
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				count()
				return c.Patch(ctx, obj, patch, opts...)
			},
			Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				count()
				return c.Apply(ctx, obj, opts...)
			},
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				count()
				return c.Delete(ctx, obj, opts...)
			},
		}), nil
	}
	full := append([]string{"--kubeconfig", p.kubeconfig}, args...)
	if len(args) > 0 && args[0] == "__complete" {
		full = append([]string{"__complete", "--kubeconfig", p.kubeconfig}, args[1:]...)
	}
	start := time.Now()
	code := plugin.Main(o, full)
	GinkgoWriter.Printf("$ kubectl rewards %v\n(exit %d after %s)\n%s%s", args, code, time.Since(start).Round(time.Millisecond), out.String(), errOut.String())
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// writesDuring runs f and returns how many writes the plugin made meanwhile.
func writesDuring(f func()) int64 {
	before := pluginWrites.Load()
	f()
	return pluginWrites.Load() - before
}

func newNamespace() string {
	ns, err := testenv.NewNamespace(bg, k8sClient, "plugin-test-")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return ns
}

func create(objs ...client.Object) {
	ExpectWithOffset(1, testenv.Create(bg, k8sClient, objs...)).To(Succeed())
}

// fetch returns a function reading obj again into itself.
func fetch[T client.Object](obj T) func() T {
	return func() T {
		ExpectWithOffset(1, k8sClient.Get(bg, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		return obj
	}
}

// writeFile writes data to a new file of the test and returns its path.
func writeFile(name string, data []byte) string {
	path := GinkgoT().TempDir() + "/" + name
	ExpectWithOffset(1, os.WriteFile(path, data, 0o600)).To(Succeed())
	return path
}
