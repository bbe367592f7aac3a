package testenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// RepoRoot returns the repository root: the nearest directory at or above
// the working directory (a test's package directory) that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// CRDDir returns the directory of the CRDs as shipped (config/crd/bases).
func CRDDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "config", "crd", "bases"), nil
}

// Kubectl returns the pinned kubectl that hack/build-test-binaries.sh builds
// next to kube-apiserver and etcd, in $KUBEBUILDER_ASSETS.
func Kubectl() (string, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return "", errors.New("KUBEBUILDER_ASSETS is not set: run through `make test`, which builds the binaries and sets it, " +
			"or set KUBEBUILDER_ASSETS=$(hack/build-test-binaries.sh --print-dir)")
	}
	bin := filepath.Join(assets, "kubectl")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no kubectl in KUBEBUILDER_ASSETS: %w", err)
	}
	return bin, nil
}

// Scheme returns a new scheme with client-go's types and the operator's
// (v1alpha1). Adding them cannot fail but for a programming error, on
// which it panics.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// Logger returns the development logger the suites log through, writing
// to w (GinkgoWriter, say).
func Logger(w io.Writer) logr.Logger {
	return zap.New(zap.WriteTo(w), zap.UseDevMode(true))
}

// ControlPlaneStartTimeout is how long each envtest control-plane process
// (etcd, kube-apiserver) may take to start: envtest's 20 s default is too
// short on a loaded 2-core CI machine starting several suites at once.
// KUBEBUILDER_CONTROLPLANE_START_TIMEOUT, when set, wins.
const ControlPlaneStartTimeout = 3 * time.Minute

// NewEnvironment returns an envtest environment with no CRDs and the
// suites' start timeout.
func NewEnvironment() *envtest.Environment {
	env := &envtest.Environment{}
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		env.ControlPlaneStartTimeout = ControlPlaneStartTimeout
	}
	return env
}

// Start starts a kube-apiserver and etcd (envtest, with the binaries in
// $KUBEBUILDER_ASSETS) with the repository's CRDs installed, and returns
// the environment, an admin (system:masters) config and a client with
// scheme that talks to the API server directly (no cache). Stop the
// environment when done. On error nothing is left running.
func Start(scheme *runtime.Scheme) (*envtest.Environment, *rest.Config, client.Client, error) {
	crds, err := CRDDir()
	if err != nil {
		return nil, nil, nil, err
	}
	env := NewEnvironment()
	env.CRDDirectoryPaths = []string{crds}
	env.ErrorIfCRDPathMissing = true
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, nil, errors.Join(err, env.Stop())
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, nil, errors.Join(err, env.Stop())
	}
	return env, cfg, c, nil
}

// AdminKubeconfig adds a user named name in group system:masters to a
// started env and writes a kubeconfig acting as it into dir; it returns the
// file's path, for kubectl --kubeconfig.
func AdminKubeconfig(env *envtest.Environment, name, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		return "", err
	}
	return path, nil
}
