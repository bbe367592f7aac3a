package plugin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// errCRDsMissing is what every command that reads the operator's kinds
// says on a cluster without them, instead of "not found" for each object.
var errCRDsMissing = errors.New("the rewards CRDs are not installed in this cluster (no API group " + v1alpha1.GroupVersion.String() +
	"): install the operator, or check that --context names the cluster you meant")

// rewardsClient connects to the cluster of the kubeconfig after checking,
// with one discovery request, that it serves every kind of the operator,
// and, when namespace is not "", that the namespace exists. Each failure is
// one clear error (exit 2) rather than one "not found" per object or row.
func (o *Options) rewardsClient(ctx context.Context, namespace string) (client.Client, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	if err := checkCRDs(cfg); err != nil {
		return nil, err
	}
	c, err := o.NewClient(cfg, client.Options{Scheme: scheme, Mapper: restMapper()})
	if err != nil {
		return nil, err
	}
	if namespace != "" {
		if err := checkNamespace(ctx, c, namespace); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkCRDs asks the API server (not kubectl's discovery cache, which can
// be hours old) which resources it serves in the operator's group version.
func checkCRDs(cfg *rest.Config) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	list, err := dc.ServerResourcesForGroupVersion(v1alpha1.GroupVersion.String())
	if apierrors.IsNotFound(err) {
		return errCRDsMissing
	}
	if err != nil {
		return fmt.Errorf("asking the API server for the rewards kinds (%s): %w", v1alpha1.GroupVersion, err)
	}
	served := map[string]bool{}
	for _, r := range list.APIResources {
		served[r.Name] = true
	}
	var missing []string
	for kind, plural := range rewardsResources {
		if !served[plural] {
			missing = append(missing, kind)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("the rewards CRDs in this cluster have no %s: they are older than this kubectl-rewards; "+
			"upgrade the operator and its CRDs, or use the kubectl-rewards of the operator's version (kubectl rewards version)",
			strings.Join(missing, ", "))
	}
	return nil
}

// checkNamespace refuses a namespace that does not exist. A user who may
// not read namespaces (a partner bound to a Role in theirs) is not refused:
// nothing can be told.
func checkNamespace(ctx context.Context, c client.Reader, namespace string) error {
	var ns corev1.Namespace
	err := c.Get(ctx, client.ObjectKey{Name: namespace}, &ns)
	switch {
	case err == nil, apierrors.IsForbidden(err):
		return nil
	case apierrors.IsNotFound(err):
		return fmt.Errorf("namespace %q not found (check -n, or the namespace of the current context)", namespace)
	default:
		return fmt.Errorf("reading namespace %q: %w", namespace, err)
	}
}
