package records

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Grants reads and writes BenefitGrants: where R7 and R8 live.
type Grants interface {
	// Of finds the grant of an activation (R7): the BenefitGrant of the
	// activation's namespace and name, whatever uid the activation had
	// when it was granted, provided it records the activation's offer and
	// benefit. A grant of that name that records another offer or benefit
	// is not the activation's: it holds the name (Lookup.NameHeldBy).
	Of(ctx context.Context, act *v1alpha1.BenefitActivation) (Lookup, error)
	// OfOffer lists the grants of an offer in a namespace, including those
	// whose activation is gone (R8): a one-time benefit granted is used
	// (B3).
	OfOffer(ctx context.Context, namespace, offer string) ([]v1alpha1.BenefitGrant, error)
	// OfPublisher lists the grants of a publisher in a namespace, including
	// those whose activation is gone (R8): its revocation history.
	OfPublisher(ctx context.Context, namespace, publisher string) ([]v1alpha1.BenefitGrant, error)
	// Create records spec as the grant of act: named and namespaced as
	// act, labelled (Labels), with no ownerReference, so that it outlives
	// act (R8). An AlreadyExists error means a grant of that name exists.
	Create(ctx context.Context, act *v1alpha1.BenefitActivation, spec v1alpha1.BenefitGrantSpec) (*v1alpha1.BenefitGrant, error)
	// Revoke records a revocation in a grant that has none (R6: once).
	// It is refused with a conflict when the grant changed since it was
	// read.
	Revoke(ctx context.Context, grant *v1alpha1.BenefitGrant, revocation v1alpha1.GrantRevocation) (*v1alpha1.BenefitGrant, error)
}

// Lookup is what Grants.Of finds under an activation's name.
type Lookup struct {
	// Grant is the activation's grant; nil when it was never granted.
	Grant *v1alpha1.BenefitGrant
	// NameHeldBy is a grant of the activation's name that records another
	// offer or benefit; nil when there is none.
	NameHeldBy *v1alpha1.BenefitGrant
}

// Belongs reports whether grant is the grant of act (R7): same namespace
// and name, same offer and benefit. The uid the grant recorded decides
// nothing: an activation deleted and applied again, or restored from a
// backup, is the same activation.
func Belongs(grant *v1alpha1.BenefitGrant, act *v1alpha1.BenefitActivation) bool {
	return grant.Namespace == act.Namespace && grant.Name == act.Name &&
		grant.Spec.Offer == act.Spec.OfferRef.Name && grant.Spec.Benefit == act.Spec.Benefit
}

// lookup sorts the grant found under an activation's name.
func lookup(grant *v1alpha1.BenefitGrant, act *v1alpha1.BenefitActivation) Lookup {
	switch {
	case grant == nil:
		return Lookup{}
	case Belongs(grant, act):
		return Lookup{Grant: grant}
	}
	return Lookup{NameHeldBy: grant}
}

// The fields grants are listed by: field indexes of the same names in the
// operator's cache (GrantIndexes), selectable fields of the CRD on the API
// server, so that one List serves both readers.
const (
	FieldGrantOffer     = "spec.offer"
	FieldGrantPublisher = "spec.publisher"
)

// GrantIndexes are the field indexes a cache must hold for Grants to list
// from it: by offer and by publisher, within a namespace.
var GrantIndexes = map[string]func(*v1alpha1.BenefitGrant) string{
	FieldGrantOffer:     func(g *v1alpha1.BenefitGrant) string { return g.Spec.Offer },
	FieldGrantPublisher: func(g *v1alpha1.BenefitGrant) string { return g.Spec.Publisher },
}

// Labels are the labels of the grant recording spec: its publisher, offer
// and benefit (LabelValue), so that a person or a retention job can select
// the records of a publisher that left.
func Labels(spec *v1alpha1.BenefitGrantSpec) map[string]string {
	return map[string]string{
		v1alpha1.LabelPublisher: LabelValue(spec.Publisher),
		v1alpha1.LabelOffer:     LabelValue(spec.Offer),
		v1alpha1.LabelBenefit:   LabelValue(spec.Benefit),
	}
}

// labelHashLength is how many hex digits of a long name's hash end its
// label value.
const labelHashLength = 10

// LabelValue is name as a label value: name itself when it is one (at most
// 63 characters), else its first 52 characters, "-" and a hash of the
// whole name, so that two long names sharing their first characters still
// get two values.
func LabelValue(name string) string {
	if len(validation.IsValidLabelValue(name)) == 0 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	prefix := name[:min(len(name), validation.LabelValueMaxLength-labelHashLength-1)]
	// A label value begins and ends with a letter or digit; names (DNS
	// subdomains) have only those, '-' and '.'.
	for len(prefix) > 0 && (prefix[len(prefix)-1] == '-' || prefix[len(prefix)-1] == '.') {
		prefix = prefix[:len(prefix)-1]
	}
	return prefix + "-" + hex.EncodeToString(sum[:])[:labelHashLength]
}

// clientGrants is Grants over a Kubernetes client: reads from reader (the
// operator's cache, or the API server when a decision must not rest on a
// cache that may lag), writes through writer.
type clientGrants struct {
	reader client.Reader
	writer client.Writer
}

// NewGrants returns the Grants of a cluster, read from reader and written
// through writer. A cache reader needs GrantIndexes.
func NewGrants(reader client.Reader, writer client.Writer) Grants {
	return clientGrants{reader: reader, writer: writer}
}

func (c clientGrants) Of(ctx context.Context, act *v1alpha1.BenefitActivation) (Lookup, error) {
	var g v1alpha1.BenefitGrant
	if err := c.reader.Get(ctx, types.NamespacedName{Namespace: act.Namespace, Name: act.Name}, &g); err != nil {
		if apierrors.IsNotFound(err) {
			return Lookup{}, nil
		}
		return Lookup{}, fmt.Errorf("reading BenefitGrant %s/%s: %w", act.Namespace, act.Name, err)
	}
	return lookup(&g, act), nil
}

func (c clientGrants) OfOffer(ctx context.Context, namespace, offer string) ([]v1alpha1.BenefitGrant, error) {
	return c.list(ctx, namespace, FieldGrantOffer, offer)
}

func (c clientGrants) OfPublisher(ctx context.Context, namespace, publisher string) ([]v1alpha1.BenefitGrant, error) {
	return c.list(ctx, namespace, FieldGrantPublisher, publisher)
}

// list lists a namespace's grants whose field is value. From the cache
// the grants are the cache's own (client.UnsafeDisableDeepCopy): callers
// only read them.
func (c clientGrants) list(ctx context.Context, namespace, field, value string) ([]v1alpha1.BenefitGrant, error) {
	var list v1alpha1.BenefitGrantList
	if err := c.reader.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{field: value}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the BenefitGrants of %s %q: %w", field, value, err)
	}
	return list.Items, nil
}

func (c clientGrants) Create(ctx context.Context, act *v1alpha1.BenefitActivation, spec v1alpha1.BenefitGrantSpec) (*v1alpha1.BenefitGrant, error) {
	grant := &v1alpha1.BenefitGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: act.Namespace, Name: act.Name, Labels: Labels(&spec)},
		Spec:       spec,
	}
	if err := c.writer.Create(ctx, grant); err != nil {
		return nil, err
	}
	return grant, nil
}

func (c clientGrants) Revoke(ctx context.Context, grant *v1alpha1.BenefitGrant, revocation v1alpha1.GrantRevocation) (*v1alpha1.BenefitGrant, error) {
	revoked := grant.DeepCopy()
	revoked.Spec.Revocation = &revocation
	// The lock refuses a write based on a grant read before another write
	// to it: the caller decides again on fresher data.
	if err := c.writer.Patch(ctx, revoked, client.MergeFromWithOptions(grant, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil, err
	}
	return revoked, nil
}

// OneTimeInputs sorts out what B3 decides on for act, from the activations
// of its offer and the grants of its offer (OfOffer): the activations that
// could use a benefit, leaving out those whose name a grant of another
// offer or benefit holds (grants is asked, for each of act's siblings of
// the same benefit: they never can use it), and the grants of act's
// benefit that record other activations, whether those still exist or not
// (R8).
func OneTimeInputs(ctx context.Context, grants Grants, act *v1alpha1.BenefitActivation, activations []v1alpha1.BenefitActivation,
	ofOffer []v1alpha1.BenefitGrant) (siblings []v1alpha1.BenefitActivation, used []v1alpha1.BenefitGrant, err error) {
	for i := range ofOffer {
		if g := &ofOffer[i]; g.Spec.Benefit == act.Spec.Benefit && g.Name != act.Name {
			used = append(used, *g)
		}
	}
	siblings = make([]v1alpha1.BenefitActivation, 0, len(activations))
	for i := range activations {
		s := &activations[i]
		if s.Name != act.Name && s.Spec.Benefit == act.Spec.Benefit {
			found, err := grants.Of(ctx, s)
			if err != nil {
				return nil, nil, err
			}
			if found.NameHeldBy != nil {
				continue
			}
		}
		siblings = append(siblings, *s)
	}
	return siblings, used, nil
}
