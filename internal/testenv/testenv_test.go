package testenv_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestRepoRootAndCRDDir(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("RepoRoot %s: %v", root, err)
	}
	crds, err := testenv.CRDDir()
	if err != nil {
		t.Fatal(err)
	}
	if matches, _ := filepath.Glob(filepath.Join(crds, "*.yaml")); len(matches) != 7 {
		t.Errorf("CRDDir %s holds %d YAML files, want the seven CRDs", crds, len(matches))
	}
}

func TestScheme(t *testing.T) {
	s := testenv.Scheme()
	for _, obj := range []client.Object{&v1alpha1.RewardsProgram{}, &v1alpha1.Publisher{}, &v1alpha1.Offer{}, &v1alpha1.SalesRecord{}, &v1alpha1.BenefitActivation{}, &v1alpha1.BenefitGrant{}} {
		if _, _, err := s.ObjectKinds(obj); err != nil {
			t.Errorf("%T: %v", obj, err)
		}
	}
	if !s.Recognizes(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}) {
		t.Error("client-go's types are missing")
	}
}

// conflicting fails the first n updates with a conflict, then fails with
// then (nil: lets the update through).
func conflicting(n int, then error) interceptor.Funcs {
	return interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if n > 0 {
				n--
				return apierrors.NewConflict(schema.GroupResource{Resource: "publishers"}, obj.GetName(), errors.New("modified"))
			}
			if then != nil {
				return then
			}
			return c.Update(ctx, obj, opts...)
		},
	}
}

func TestUpdateWithRetry(t *testing.T) {
	ctx := context.Background()
	setName := func(p *v1alpha1.Publisher) { p.Spec.DisplayName = "Contoso" }

	pub := build.Publisher("ns", "contoso")
	c := fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(pub).WithInterceptorFuncs(conflicting(3, nil)).Build()
	if err := testenv.UpdateWithRetry(ctx, c, pub, setName); err != nil {
		t.Fatalf("after three conflicts: %v", err)
	}
	got := &v1alpha1.Publisher{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(pub), got); err != nil || got.Spec.DisplayName != "Contoso" {
		t.Errorf("written: %q, %v", got.Spec.DisplayName, err)
	}

	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "publishers"}, "contoso", errors.New("no"))
	pub = build.Publisher("ns", "contoso")
	c = fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(pub).WithInterceptorFuncs(conflicting(1, forbidden)).Build()
	start := time.Now()
	if err := testenv.UpdateWithRetry(ctx, c, pub, setName); !apierrors.IsForbidden(err) {
		t.Errorf("got %v, want the Forbidden error", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("took %s to return an error that is not a conflict", d)
	}

	missing := build.Publisher("ns", "nobody")
	c = fake.NewClientBuilder().WithScheme(testenv.Scheme()).Build()
	if err := testenv.UpdateWithRetry(ctx, c, missing, setName); !apierrors.IsNotFound(err) {
		t.Errorf("got %v, want NotFound after retrying", err)
	}
}

func TestCreateNamesTheFailingObject(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(testenv.Scheme()).Build()
	a := build.Offer("ns", "saas", "contoso", v1alpha1.ListingTypeTransact, time.Now())
	b := build.Offer("ns", "saas", "contoso", v1alpha1.ListingTypeTransact, time.Now())
	err := testenv.Create(ctx, c, a, b)
	if !apierrors.IsAlreadyExists(err) {
		t.Fatalf("got %v, want AlreadyExists", err)
	}
	if want := "creating *v1alpha1.Offer saas: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
}
