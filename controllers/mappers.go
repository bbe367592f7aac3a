package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// Event mappers: given a changed object, which objects does it affect? All
// reads go to the cache through field indexes. A change re-reconciles
// exactly the objects it can change, nothing more.

// relations finds related objects through the cache's field indexes.
type relations struct{ c client.Reader }

// readOnly reads and lists from the cache without copying each object: the
// objects read share the cache's and must never be changed. Nothing here
// changes a related object: each reconcile changes only the object it is
// reconciling, which it Gets as a copy. It is what keeps a publisher with
// thousands of lines cheap to read, and a sales line's reconcile from
// copying its publisher's whole status to read which program it follows.
// A reader that is not a cache ignores it.
var readOnly = client.UnsafeDisableDeepCopy

// offer reads an offer, read only; nil when it does not exist.
func (rel relations) offer(ctx context.Context, namespace, name string) (*v1alpha1.Offer, error) {
	var o v1alpha1.Offer
	found, err := getOptional(ctx, rel.c, types.NamespacedName{Namespace: namespace, Name: name}, &o, readOnly)
	if err != nil || !found {
		return nil, err
	}
	return &o, nil
}

// publisherAndProgram reads a publisher (read only; nil when it does not exist) and
// the program it follows: spec.programRef, or "default", which is also what
// the objects of a missing (or unknown, name "") publisher are judged by.
func (rel relations) publisherAndProgram(ctx context.Context, programs *records.Programs, namespace, name string) (
	*v1alpha1.Publisher, rewards.ProgramState, error) {
	var p v1alpha1.Publisher
	found := false
	if name != "" {
		var err error
		if found, err = getOptional(ctx, rel.c, types.NamespacedName{Namespace: namespace, Name: name}, &p, readOnly); err != nil {
			return nil, rewards.ProgramState{}, err
		}
	}
	progName := v1alpha1.DefaultProgramName
	var pub *v1alpha1.Publisher
	if found {
		pub, progName = &p, programName(&p)
	}
	prog, err := programs.State(ctx, progName)
	return pub, prog, err
}

func (rel relations) publishersOfProgram(ctx context.Context, program string) ([]v1alpha1.Publisher, error) {
	var list v1alpha1.PublisherList
	err := rel.c.List(ctx, &list, client.MatchingFields{indexPublisherProgram: program}, readOnly)
	return list.Items, err
}

func (rel relations) offersOfPublisher(ctx context.Context, namespace, publisher string) ([]v1alpha1.Offer, error) {
	var list v1alpha1.OfferList
	err := rel.c.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{indexOfferPublisher: publisher}, readOnly)
	return list.Items, err
}

func (rel relations) recordsOfOffer(ctx context.Context, namespace, offer string) ([]v1alpha1.SalesRecord, error) {
	var list v1alpha1.SalesRecordList
	err := rel.c.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{indexOfferRef: offer}, readOnly)
	return list.Items, err
}

func (rel relations) activationsOfOffer(ctx context.Context, namespace, offer string) ([]v1alpha1.BenefitActivation, error) {
	var list v1alpha1.BenefitActivationList
	err := rel.c.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{indexOfferRef: offer}, readOnly)
	return list.Items, err
}

// recordsOfPublisher lists the sales records of all of a publisher's
// offers, pointing into each offer's list (read-only, from the cache).
func (rel relations) recordsOfPublisher(ctx context.Context, namespace string, offers []v1alpha1.Offer) ([]*v1alpha1.SalesRecord, error) {
	perOffer := make([][]v1alpha1.SalesRecord, 0, len(offers))
	n := 0
	for i := range offers {
		recs, err := rel.recordsOfOffer(ctx, namespace, offers[i].Name)
		if err != nil {
			return nil, err
		}
		perOffer = append(perOffer, recs)
		n += len(recs)
	}
	// Sized once: growing a large publisher's slice offer by offer cost
	// more than evaluating its lines (make bench-scale, profiled).
	all := make([]*v1alpha1.SalesRecord, 0, n)
	for _, recs := range perOffer {
		for i := range recs {
			all = append(all, &recs[i])
		}
	}
	return all, nil
}

// salesInputs reads a publisher's offers and sales lines, for salesMemo.
func (rel relations) salesInputs(ctx context.Context, namespace, publisher string) salesInputs {
	return salesInputs{
		all: func() ([]v1alpha1.Offer, []*v1alpha1.SalesRecord, error) {
			offers, err := rel.offersOfPublisher(ctx, namespace, publisher)
			if err != nil {
				return nil, nil, err
			}
			records, err := rel.recordsOfPublisher(ctx, namespace, offers)
			return offers, records, err
		},
		line: func(name string) (*v1alpha1.SalesRecord, error) {
			var rec v1alpha1.SalesRecord
			if err := rel.c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &rec, readOnly); err != nil {
				return nil, client.IgnoreNotFound(err)
			}
			return &rec, nil
		},
	}
}

// mapper builds an event handler from a function returning the objects to
// reconcile. Errors can only come from the cache; they are logged, since a
// handler cannot return them. Objects of the informer's initial list are
// not mapped (skipInitialList).
func mapper[T client.Object](c client.Reader, f func(context.Context, relations, T) ([]reconcile.Request, error)) handler.EventHandler {
	return skipInitialList{handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		typed, ok := obj.(T)
		if !ok {
			return nil
		}
		reqs, err := f(ctx, relations{c}, typed)
		if err != nil {
			log.FromContext(ctx).Error(err, "mapping event to requests", "object", client.ObjectKeyFromObject(obj))
		}
		return reqs
	})}
}

// skipInitialList is an event handler that ignores the creations an
// informer reports from its initial list, when the operator starts (or a
// controller starts on an informer already running, as when it becomes
// leader). Every mapper enqueues objects of its controller's own kind, and
// that controller's own informer reports every object of the kind in its
// initial list too, and its workers start only once that list is in the
// cache: mapping the initial list queues again what is queued already. At
// 68,000 objects that was every sales line looking its offer up for its
// publisher, every offer listing its lines, and the sales memo (which is
// empty then, and computes each publisher's facts from the cache when
// first asked) noting each line as changed (make bench-scale, profiled).
// Creations after the initial list, updates and deletions are mapped.
type skipInitialList struct{ handler.EventHandler }

// Create maps a creation, unless the initial list reports it.
func (h skipInitialList) Create(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if e.IsInInitialList {
		return
	}
	h.EventHandler.Create(ctx, e, q)
}

// offersOfProgram: every offer of every publisher following the program.
func offersOfProgram(ctx context.Context, rel relations, program string) ([]v1alpha1.Offer, error) {
	pubs, err := rel.publishersOfProgram(ctx, program)
	if err != nil {
		return nil, err
	}
	var offers []v1alpha1.Offer
	for i := range pubs {
		o, err := rel.offersOfPublisher(ctx, pubs[i].Namespace, pubs[i].Name)
		if err != nil {
			return nil, err
		}
		offers = append(offers, o...)
	}
	return offers, nil
}
