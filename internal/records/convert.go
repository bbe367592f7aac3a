package records

import (
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// ActivationOwner is the ownerReference of a grant to a BenefitActivation,
// which versions before R8 set (deleting the activation then deleted its
// grant); nil when it has none.
func ActivationOwner(g *v1alpha1.BenefitGrant) *metav1.OwnerReference {
	for i := range g.OwnerReferences {
		if ref := &g.OwnerReferences[i]; isActivation(ref) {
			return ref
		}
	}
	return nil
}

// isActivation reports whether ref names a BenefitActivation, of any
// version of the API group.
func isActivation(ref *metav1.OwnerReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == v1alpha1.GroupVersion.Group && ref.Kind == "BenefitActivation"
}

// ConvertGrant is a grant written by an earlier version as this version
// writes it: without ownerReferences to BenefitActivations (R8), with its
// labels (Labels). Nil when g needs nothing: converting is done once.
// Other ownerReferences and labels, someone else's, are kept.
func ConvertGrant(g *v1alpha1.BenefitGrant) *v1alpha1.BenefitGrant {
	want := Labels(&g.Spec)
	labelled := true
	for k, v := range want {
		if g.Labels[k] != v {
			labelled = false
		}
	}
	if ActivationOwner(g) == nil && labelled {
		return nil
	}
	out := g.DeepCopy()
	out.OwnerReferences = nil
	for _, ref := range g.OwnerReferences {
		if !isActivation(&ref) {
			out.OwnerReferences = append(out.OwnerReferences, ref)
		}
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	maps.Copy(out.Labels, want)
	return out
}
