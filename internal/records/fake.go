package records

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// FakeGrants is Grants in memory, for tests that decide on grants without
// an API server (as pkg/controller/history's fakeHistory). It keeps the
// semantics of the real store: a grant's name is its activation's, a
// second create of a name fails with AlreadyExists, a revocation based on
// a grant that changed since it was read fails with a conflict, and what
// it returns are copies.
type FakeGrants struct {
	mu      sync.Mutex
	grants  map[types.NamespacedName]*v1alpha1.BenefitGrant
	version int
}

// NewFakeGrants returns a FakeGrants holding grants.
func NewFakeGrants(grants ...v1alpha1.BenefitGrant) *FakeGrants {
	f := &FakeGrants{grants: map[types.NamespacedName]*v1alpha1.BenefitGrant{}}
	for i := range grants {
		f.put(grants[i].DeepCopy())
	}
	return f
}

var _ Grants = (*FakeGrants)(nil)

// put stores g under a new resourceVersion.
func (f *FakeGrants) put(g *v1alpha1.BenefitGrant) {
	f.version++
	g.ResourceVersion = strconv.Itoa(f.version)
	f.grants[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}] = g
}

// All returns every grant held, by namespace and name.
func (f *FakeGrants) All() []v1alpha1.BenefitGrant {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]v1alpha1.BenefitGrant, 0, len(f.grants))
	for _, g := range f.grants {
		out = append(out, *g.DeepCopy())
	}
	slices.SortFunc(out, func(a, b v1alpha1.BenefitGrant) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return out
}

// Of finds the grant of act (Grants.Of).
func (f *FakeGrants) Of(_ context.Context, act *v1alpha1.BenefitActivation) (Lookup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.grants[types.NamespacedName{Namespace: act.Namespace, Name: act.Name}]
	if g == nil {
		return Lookup{}, nil
	}
	return lookup(g.DeepCopy(), act), nil
}

// OfOffer lists the grants of an offer (Grants.OfOffer).
func (f *FakeGrants) OfOffer(_ context.Context, namespace, offer string) ([]v1alpha1.BenefitGrant, error) {
	return f.where(namespace, func(g *v1alpha1.BenefitGrant) bool { return g.Spec.Offer == offer }), nil
}

// OfPublisher lists the grants of a publisher (Grants.OfPublisher).
func (f *FakeGrants) OfPublisher(_ context.Context, namespace, publisher string) ([]v1alpha1.BenefitGrant, error) {
	return f.where(namespace, func(g *v1alpha1.BenefitGrant) bool { return g.Spec.Publisher == publisher }), nil
}

func (f *FakeGrants) where(namespace string, keep func(*v1alpha1.BenefitGrant) bool) []v1alpha1.BenefitGrant {
	var out []v1alpha1.BenefitGrant
	for _, g := range f.All() {
		if g.Namespace == namespace && keep(&g) {
			out = append(out, g)
		}
	}
	return out
}

// Create records the grant of act (Grants.Create).
func (f *FakeGrants) Create(_ context.Context, act *v1alpha1.BenefitActivation, spec v1alpha1.BenefitGrantSpec) (*v1alpha1.BenefitGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := types.NamespacedName{Namespace: act.Namespace, Name: act.Name}
	if f.grants[key] != nil {
		return nil, apierrors.NewAlreadyExists(v1alpha1.GroupVersion.WithResource("benefitgrants").GroupResource(), act.Name)
	}
	g := &v1alpha1.BenefitGrant{Spec: *spec.DeepCopy()}
	g.Namespace, g.Name, g.Labels = act.Namespace, act.Name, Labels(&spec)
	f.put(g)
	return g.DeepCopy(), nil
}

// Revoke records a revocation (Grants.Revoke).
func (f *FakeGrants) Revoke(_ context.Context, grant *v1alpha1.BenefitGrant, revocation v1alpha1.GrantRevocation) (*v1alpha1.BenefitGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := types.NamespacedName{Namespace: grant.Namespace, Name: grant.Name}
	stored := f.grants[key]
	resource := v1alpha1.GroupVersion.WithResource("benefitgrants").GroupResource()
	switch {
	case stored == nil:
		return nil, apierrors.NewNotFound(resource, grant.Name)
	case stored.ResourceVersion != grant.ResourceVersion:
		return nil, apierrors.NewConflict(resource, grant.Name, errChanged)
	case stored.Spec.Revocation != nil:
		return nil, apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("BenefitGrant").GroupKind(), grant.Name, nil)
	}
	revoked := stored.DeepCopy()
	revoked.Spec.Revocation = revocation.DeepCopy()
	f.put(revoked)
	return revoked.DeepCopy(), nil
}

type changedError struct{}

func (changedError) Error() string { return "the grant changed since it was read" }

var errChanged error = changedError{}
