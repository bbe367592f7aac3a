package gather

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// Relations finds an object's related objects through field lists: the
// cache's field indexes (Indexes), or the API server's selectable fields.
type Relations struct{ Reader client.Reader }

// ReadOnly reads and lists from the cache without copying each object: the
// objects read share the cache's and must never be changed. Nothing here
// changes a related object: each reconcile changes only the object it is
// reconciling, which it Gets as a copy. It is what keeps a publisher with
// thousands of lines cheap to read, and a sales line's reconcile from
// copying its publisher's whole status to read which program it follows.
// A reader that is not a cache ignores it.
var ReadOnly = client.UnsafeDisableDeepCopy

// Offer reads an offer, read only; nil when it does not exist.
func (rel Relations) Offer(ctx context.Context, namespace, name string) (*v1alpha1.Offer, error) {
	var o v1alpha1.Offer
	found, err := GetOptional(ctx, rel.Reader, types.NamespacedName{Namespace: namespace, Name: name}, &o, ReadOnly)
	if err != nil || !found {
		return nil, err
	}
	return &o, nil
}

// PublisherAndProgram reads a publisher (read only; nil when it does not exist) and
// the program it follows: spec.programRef, or "default", which is also what
// the objects of a missing (or unknown, name "") publisher are judged by.
func (rel Relations) PublisherAndProgram(ctx context.Context, programs *records.Programs, namespace, name string) (
	*v1alpha1.Publisher, rewards.ProgramState, error) {
	var p v1alpha1.Publisher
	found := false
	if name != "" {
		var err error
		if found, err = GetOptional(ctx, rel.Reader, types.NamespacedName{Namespace: namespace, Name: name}, &p, ReadOnly); err != nil {
			return nil, rewards.ProgramState{}, err
		}
	}
	progName := v1alpha1.DefaultProgramName
	var pub *v1alpha1.Publisher
	if found {
		pub, progName = &p, ProgramName(&p)
	}
	prog, err := programs.State(ctx, progName)
	return pub, prog, err
}

// PublishersOfProgram lists the publishers following a program, across
// namespaces (a cache index only).
func (rel Relations) PublishersOfProgram(ctx context.Context, program string) ([]v1alpha1.Publisher, error) {
	var list v1alpha1.PublisherList
	err := rel.Reader.List(ctx, &list, client.MatchingFields{FieldPublisherProgram: program}, ReadOnly)
	return list.Items, err
}

// OffersOfPublisher lists a publisher's offers.
func (rel Relations) OffersOfPublisher(ctx context.Context, namespace, publisher string) ([]v1alpha1.Offer, error) {
	var list v1alpha1.OfferList
	err := rel.Reader.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{FieldOfferPublisher: publisher}, ReadOnly)
	return list.Items, err
}

// RecordsOfOffer lists an offer's sales lines.
func (rel Relations) RecordsOfOffer(ctx context.Context, namespace, offer string) ([]v1alpha1.SalesRecord, error) {
	var list v1alpha1.SalesRecordList
	err := rel.Reader.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{FieldOfferRef: offer}, ReadOnly)
	return list.Items, err
}

// ActivationsOfOffer lists an offer's activations.
func (rel Relations) ActivationsOfOffer(ctx context.Context, namespace, offer string) ([]v1alpha1.BenefitActivation, error) {
	var list v1alpha1.BenefitActivationList
	err := rel.Reader.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{FieldOfferRef: offer}, ReadOnly)
	return list.Items, err
}

// RecordsOfPublisher lists the sales records of all of a publisher's
// offers, pointing into each offer's list (read-only, from the cache).
func (rel Relations) RecordsOfPublisher(ctx context.Context, namespace string, offers []v1alpha1.Offer) ([]*v1alpha1.SalesRecord, error) {
	perOffer := make([][]v1alpha1.SalesRecord, 0, len(offers))
	n := 0
	for i := range offers {
		recs, err := rel.RecordsOfOffer(ctx, namespace, offers[i].Name)
		if err != nil {
			return nil, err
		}
		perOffer = append(perOffer, recs)
		n += len(recs)
	}
	// Sized once: grown offer by offer, a large publisher's slice would be
	// copied again at every growth, on every evaluation of its lines.
	all := make([]*v1alpha1.SalesRecord, 0, n)
	for _, recs := range perOffer {
		for i := range recs {
			all = append(all, &recs[i])
		}
	}
	return all, nil
}

// SalesInputs reads a publisher's offers and sales lines, for SalesMemo.
func (rel Relations) SalesInputs(ctx context.Context, namespace, publisher string) SalesInputs {
	return SalesInputs{
		all: func() ([]v1alpha1.Offer, []*v1alpha1.SalesRecord, error) {
			offers, err := rel.OffersOfPublisher(ctx, namespace, publisher)
			if err != nil {
				return nil, nil, err
			}
			records, err := rel.RecordsOfPublisher(ctx, namespace, offers)
			return offers, records, err
		},
		line: func(name string) (*v1alpha1.SalesRecord, error) {
			var rec v1alpha1.SalesRecord
			if err := rel.Reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &rec, ReadOnly); err != nil {
				return nil, client.IgnoreNotFound(err)
			}
			return &rec, nil
		},
	}
}

// GetOptional reads an object; a missing object gives (false, nil).
func GetOptional(ctx context.Context, c client.Reader, key types.NamespacedName, obj client.Object, opts ...client.GetOption) (bool, error) {
	if err := c.Get(ctx, key, obj, opts...); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
