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
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
)

// Event mappers: given a changed object, which objects does it affect? All
// reads go to the cache through field indexes. A change re-reconciles
// exactly the objects it can change, nothing more.

// mapper builds an event handler from a function returning the objects to
// reconcile. Errors can only come from the cache; they are logged, since a
// handler cannot return them. Objects of the informer's initial list are
// not mapped (skipInitialList).
func mapper[T client.Object](c client.Reader, f func(context.Context, gather.Relations, T) ([]reconcile.Request, error)) handler.EventHandler {
	return skipInitialList{handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		typed, ok := obj.(T)
		if !ok {
			return nil
		}
		reqs, err := f(ctx, gather.Relations{Reader: c}, typed)
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
// cache: mapping the initial list queues again what is queued already,
// and would cost, at every start, work in proportion to the whole
// cluster for nothing: every sales line looking its offer up for its
// publisher, every offer listing its lines, and the sales memo (empty
// then, computing each publisher's facts from the cache when first asked)
// noting each line as changed. Creations after the initial list, updates
// and deletions are mapped.
type skipInitialList struct{ handler.EventHandler }

// Create maps a creation, unless the initial list reports it.
func (h skipInitialList) Create(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if e.IsInInitialList {
		return
	}
	h.EventHandler.Create(ctx, e, q)
}

// salesEvents maps the events of a publisher's offers or sales lines: it
// finds the publisher (an offer's own, a line's through its offer), tells
// the sales memo that the publisher's facts changed, and only then queues
// what then returns for it. Every watch that queues a reconcile reading
// sales facts goes through it, so that no reconcile started by a change
// reads facts computed before that change. A line whose offer does not
// exist (yet) has no publisher: its offer's creation maps to it.
func salesEvents[T client.Object](c client.Reader, memo *gather.SalesMemo,
	then func(context.Context, gather.Relations, types.NamespacedName, T) ([]reconcile.Request, error)) handler.EventHandler {
	return mapper(c, func(ctx context.Context, rel gather.Relations, obj T) ([]reconcile.Request, error) {
		pub, err := publisherOf(ctx, rel, obj)
		if err != nil || pub.Name == "" {
			return nil, err
		}
		memo.Changed(pub, obj)
		return then(ctx, rel, pub, obj)
	})
}

// publisherOf is the publisher of an offer or sales line.
func publisherOf(ctx context.Context, rel gather.Relations, obj client.Object) (types.NamespacedName, error) {
	switch o := obj.(type) {
	case *v1alpha1.Offer:
		return types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.PublisherRef.Name}, nil
	case *v1alpha1.SalesRecord:
		offer, err := rel.Offer(ctx, o.Namespace, o.Spec.OfferRef.Name)
		if err != nil || offer == nil {
			return types.NamespacedName{}, err
		}
		return types.NamespacedName{Namespace: o.Namespace, Name: offer.Spec.PublisherRef.Name}, nil
	}
	return types.NamespacedName{}, nil
}

// offersOfProgram: every offer of every publisher following the program.
func offersOfProgram(ctx context.Context, rel gather.Relations, program string) ([]v1alpha1.Offer, error) {
	pubs, err := rel.PublishersOfProgram(ctx, program)
	if err != nil {
		return nil, err
	}
	var offers []v1alpha1.Offer
	for i := range pubs {
		o, err := rel.OffersOfPublisher(ctx, pubs[i].Namespace, pubs[i].Name)
		if err != nil {
			return nil, err
		}
		offers = append(offers, o...)
	}
	return offers, nil
}
