// Command run-local brings up a local control plane (a real kube-apiserver
// and etcd, the envtest binaries built by hack/build-test-binaries.sh),
// installs the CRDs and the default program, applies config/samples, and
// runs the operator against it until Ctrl-C. It is what `make run-local`
// runs: the quickest way to see the operator work without a cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/marketplace-rewards/rewards-operator/controllers"
	"github.com/marketplace-rewards/rewards-operator/internal/operator"
)

func main() {
	kubeconfigPath := flag.String("kubeconfig-out", "bin/run-local/kubeconfig", "where to write the kubeconfig of the local control plane")
	namespace := flag.String("namespace", "rewards-demo", "namespace the samples are applied to")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseDevMode(false)))

	if err := run(*kubeconfigPath, *namespace); err != nil {
		fmt.Fprintln(os.Stderr, "run-local:", err)
		os.Exit(1)
	}
}

// run returns nil when Ctrl-C (SIGINT) or SIGTERM stops it, at any step:
// everything it started is stopped first.
func run(kubeconfigPath, namespace string) (err error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: run `make run-local`, which builds the binaries first")
	}
	kubectl := filepath.Join(assets, "kubectl")

	// From the start, so that Ctrl-C while the control plane starts still
	// stops it (kube-apiserver and etcd run in process groups of their
	// own, which Ctrl-C does not reach).
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	defer func() {
		if err != nil && ctx.Err() != nil {
			fmt.Println("Interrupted:", err)
			err = nil
		}
	}()

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	fmt.Println("Starting a local control plane (kube-apiserver and etcd)...")
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() {
		fmt.Println("Stopping the local control plane...")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}()

	absKubeconfig, err := writeKubeconfig(env, kubeconfigPath)
	if err != nil {
		return err
	}
	fmt.Println("Installing the default program and the samples...")
	if err := installSamples(ctx, kubectl, absKubeconfig, namespace); err != nil {
		return err
	}
	mgr, err := newManager(ctx, cfg)
	if err != nil {
		return err
	}

	fmt.Printf(`
The operator is running against a local control plane. In another terminal:

  export KUBECONFIG=%[1]s
  alias kubectl=%[2]s
  kubectl get rewards -n %[3]s
  kubectl get publishers -n %[3]s -o wide
  kubectl describe publisher contoso -n %[3]s
  kubectl get benefitactivations -n %[3]s -o wide
  kubectl explain publisher.spec.marketingContact

Press Ctrl-C to stop everything.

`, absKubeconfig, kubectl, namespace)

	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the operator: %w", err)
	}
	return nil
}

// writeKubeconfig writes to path the kubeconfig of an admin user
// (system:masters) of env and returns path made absolute.
func writeKubeconfig(env *envtest.Environment, path string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "rewards-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return "", err
	}
	absKubeconfig, _ := filepath.Abs(path)
	return absKubeconfig, nil
}

// installSamples applies the default program and config/samples (in
// namespace, which it creates) with kubectl.
func installSamples(ctx context.Context, kubectl, kubeconfig, namespace string) error {
	for _, args := range [][]string{
		{"apply", "--server-side", "-f", "config/programs/default.yaml"},
		{"create", "namespace", namespace},
		{"apply", "--server-side", "-n", namespace, "-f", "config/samples/"},
	} {
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kubectl %v: %w", args, err)
		}
	}
	return nil
}

// newManager builds the operator's manager for cfg (operator.New), with no
// metrics or health endpoint.
func newManager(ctx context.Context, cfg *rest.Config) (ctrl.Manager, error) {
	return operator.New(ctx, cfg, ctrl.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	}, controllers.Options{Clock: clock.RealClock{}, ResyncPeriod: controllers.DefaultResyncPeriod})
}
