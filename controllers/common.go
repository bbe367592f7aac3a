// Package controllers holds the reconcilers of rewards-operator. They are
// thin: each gathers objects from the informer cache, asks the pure
// functions of internal/rewards what the status should be, writes it only
// when it changed, and schedules the next instant it changes by itself.
package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
)

// SetupIndexes registers in the manager's cache the field indexes the
// gatherers and the mappers list through (gather.Indexes).
func SetupIndexes(ctx context.Context, mgr manager.Manager) error {
	for _, idx := range gather.Indexes() {
		var err error
		if idx.AcrossNamespaces {
			extract := idx.Extract
			err = mgr.GetFieldIndexer().IndexField(ctx, idx.Object, idx.Field, func(o client.Object) []string { return []string{extract(o)} })
		} else {
			err = indexInNamespaces(ctx, mgr.GetCache(), idx.Object, idx.Field, idx.Extract)
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
// cluster-wide key, for field lists across namespaces, which the operator
// never makes: a second key for every object, sales lines included, that
// doubles the memory of the indexes for nothing. This registers the same index
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

// keyedCache is a cache that lists the keys of the objects of a kind it
// holds without copying them: the operator's (operator.ManagerOptions).
// ok is false when it holds none of that kind yet.
type keyedCache interface {
	CachedKeys(obj client.Object) (keys []string, ok bool)
}

// cachedKeys lists, for the resync sweeps, the keys of the objects of obj's
// kind in c: from its informers' stores when c is a keyedCache, else from
// a list of the cached objects (list, of obj's kind), not copied.
func cachedKeys(c client.Reader, obj client.Object, list client.ObjectList) scheduler.Keys {
	return func(ctx context.Context) ([]string, error) {
		if kc, ok := c.(keyedCache); ok {
			if keys, ok := kc.CachedKeys(obj); ok {
				return keys, nil
			}
		}
		l := list.DeepCopyObject().(client.ObjectList)
		if err := c.List(ctx, l, client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
		keys := make([]string, 0, meta.LenList(l))
		err := meta.EachListItem(l, func(o runtime.Object) error {
			key, err := toolscache.MetaNamespaceKeyFunc(o)
			keys = append(keys, key)
			return err
		})
		return keys, err
	}
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
