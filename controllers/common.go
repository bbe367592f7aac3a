// Package controllers holds the reconcilers of rewards-operator. They are
// thin: each gathers objects from the informer cache, asks the pure
// functions of internal/rewards what the status should be, writes it only
// when it changed, and schedules the next instant it changes by itself.
package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
)

// Field indexes over the informer cache, so that reconcilers and event
// mappers find related objects without listing from the API server.
const (
	// indexOfferPublisher indexes Offers by spec.publisherRef.name.
	indexOfferPublisher = "spec.publisherRef.name"
	// indexOfferRef indexes SalesRecords and BenefitActivations by
	// spec.offerRef.name.
	indexOfferRef = "spec.offerRef.name"
	// indexPublisherProgram indexes Publishers by the program they follow
	// (spec.programRef.name, or "default").
	indexPublisherProgram = "programName"
)

// cacheIndex is a field index of the operator's cache.
type cacheIndex struct {
	obj     client.Object
	field   string
	extract func(client.Object) string
	// acrossNamespaces: listed across namespaces (every publisher following
	// a program; a program's revisions, cluster-scoped), so indexed the
	// usual way; the others answer lists within one namespace only.
	acrossNamespaces bool
}

// cacheIndexes are the field indexes every controller relies on.
func cacheIndexes() []cacheIndex {
	indexes := make([]cacheIndex, 0, 5+len(records.GrantIndexes))
	indexes = append(indexes,
		cacheIndex{obj: &v1alpha1.Offer{}, field: indexOfferPublisher,
			extract: func(o client.Object) string { return o.(*v1alpha1.Offer).Spec.PublisherRef.Name }},
		cacheIndex{obj: &v1alpha1.SalesRecord{}, field: indexOfferRef,
			extract: func(o client.Object) string { return o.(*v1alpha1.SalesRecord).Spec.OfferRef.Name }},
		cacheIndex{obj: &v1alpha1.BenefitActivation{}, field: indexOfferRef,
			extract: func(o client.Object) string { return o.(*v1alpha1.BenefitActivation).Spec.OfferRef.Name }},
		cacheIndex{obj: &v1alpha1.Publisher{}, field: indexPublisherProgram, acrossNamespaces: true,
			extract: func(o client.Object) string { return programName(o.(*v1alpha1.Publisher)) }},
		cacheIndex{obj: &v1alpha1.RewardsProgramRevision{}, field: records.FieldRevisionProgram, acrossNamespaces: true,
			extract: func(o client.Object) string { return records.RevisionIndex(o.(*v1alpha1.RewardsProgramRevision)) }},
	)
	// The grants store lists grants by offer and publisher.
	for field, extract := range records.GrantIndexes {
		indexes = append(indexes, cacheIndex{obj: &v1alpha1.BenefitGrant{}, field: field,
			extract: func(o client.Object) string { return extract(o.(*v1alpha1.BenefitGrant)) }})
	}
	return indexes
}

// SetupIndexes registers the field indexes every controller relies on.
func SetupIndexes(ctx context.Context, mgr manager.Manager) error {
	for _, idx := range cacheIndexes() {
		var err error
		if idx.acrossNamespaces {
			extract := idx.extract
			err = mgr.GetFieldIndexer().IndexField(ctx, idx.obj, idx.field, func(o client.Object) []string { return []string{extract(o)} })
		} else {
			err = indexInNamespaces(ctx, mgr.GetCache(), idx.obj, idx.field, idx.extract)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// indexInNamespaces registers a field index on a namespaced kind that
// answers lists within one namespace (client.InNamespace with
// client.MatchingFields), the only field lists the operator makes of
// these kinds: an offer's lines and activations, a publisher's offers and
// grants all live in its namespace.
//
// controller-runtime's IndexField also files every object under a second,
// cluster-wide key, for field lists across namespaces; with a key per
// sales line that doubled the indexes, a tenth of the operator's heap at
// scale (make bench-scale, heap profile). This registers the same index
// (controller-runtime's name for it and its namespace/value keys, which its
// cache reader looks up) without the cluster-wide half. A field list of
// these kinds across namespaces finds nothing; the envtest suite, whose
// every reconcile lists through these indexes, fails if controller-runtime
// ever names or keys its field indexes differently.
func indexInNamespaces(ctx context.Context, c cache.Cache, obj client.Object, field string, extract func(client.Object) string) error {
	informer, err := c.GetInformer(ctx, obj)
	if err != nil {
		return err
	}
	return informer.AddIndexers(toolscache.Indexers{"field:" + field: func(o any) ([]string, error) {
		obj, ok := o.(client.Object)
		if !ok {
			return nil, fmt.Errorf("indexing %s: %T is not an object", field, o)
		}
		return []string{obj.GetNamespace() + "/" + extract(obj)}, nil
	}})
}

// programName is the RewardsProgram a publisher follows.
func programName(p *v1alpha1.Publisher) string {
	if p.Spec.ProgramRef != nil && p.Spec.ProgramRef.Name != "" {
		return p.Spec.ProgramRef.Name
	}
	return v1alpha1.DefaultProgramName
}

// getOptional reads an object from the cache; a missing object gives
// (false, nil).
func getOptional(ctx context.Context, c client.Reader, key types.NamespacedName, obj client.Object, opts ...client.GetOption) (bool, error) {
	if err := c.Get(ctx, key, obj, opts...); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// resultOf ends a reconcile that failed with err. A conflict means the
// cache was behind the API server: the object is reconciled again, after
// the workqueue's backoff, on fresher data, without reporting an error.
func resultOf(err error) (reconcile.Result, error) {
	if apierrors.IsConflict(err) {
		return reconcile.Result{Requeue: true}, nil //nolint:staticcheck // a stale cache is not an error to report
	}
	return reconcile.Result{}, err
}

// requests turns a list of objects into reconcile requests.
func requests[T client.Object](items []T) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(items))
	for _, o := range items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
	}
	return out
}

// ptrs returns pointers to the elements of a slice.
func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// earliestOf returns the earliest of optional instants, nil if all are nil.
func earliestOf(ts ...*time.Time) *time.Time {
	var out *time.Time
	for _, t := range ts {
		if t != nil && (out == nil || t.Before(*out)) {
			out = t
		}
	}
	return out
}

// keyedMutex is a set of mutexes by key, each created on first use and
// dropped when no one holds or waits for it.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

// lock locks key and returns the function that unlocks it.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()

	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
