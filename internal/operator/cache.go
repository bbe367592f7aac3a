package operator

import (
	"context"
	"reflect"
	"sync"
	"time"
	"unique"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// lastApplied is the annotation `kubectl apply` (client-side) keeps a copy
// of the whole object in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// CacheOptions are the informer cache's options the operator runs with:
// objects are kept without what the operator never reads, and with one
// copy of the strings many objects repeat (see StripUnread).
func CacheOptions() cache.Options {
	return cache.Options{DefaultTransform: StripUnread}
}

// StripUnread drops what the operator never reads from an object entering
// the cache: its managedFields and last-applied annotation, often most of
// its size (with tens of thousands of sales lines, most of the operator's
// memory). A sales line's spec.transactionId is dropped too: it is the
// billing system's name for the line, which `kubectl rewards import`
// reads from the API server to name lines and find duplicates; no rule
// reads it. The operator's status writes set the status alone, so they
// never touch what was dropped.
//
// It also makes the strings that thousands of objects repeat (namespace,
// condition type, status and reason, a line's offer, publisher and
// currencies) share one copy: decoding gives every object its own, and the
// cache keeps them all (about 60 bytes of a sales line's 850 in the cache).
// Nothing here changes a value.
func StripUnread(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		return in, nil //nolint:nilerr // not an object: nothing to strip
	}
	if obj.GetManagedFields() != nil {
		obj.SetManagedFields(nil)
	}
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[lastApplied]; ok {
			delete(a, lastApplied)
			obj.SetAnnotations(a)
		}
	}
	if rec, ok := in.(*v1alpha1.SalesRecord); ok {
		rec.Spec.TransactionID = ""
	}
	obj.SetNamespace(shared(obj.GetNamespace()))
	shareRepeatedStrings(in)
	return in, nil
}

// shareRepeatedStrings replaces the strings of obj that many objects repeat
// with their canonical copy. unique holds the copies weakly: one no object
// refers to any more is freed.
func shareRepeatedStrings(obj any) {
	switch o := obj.(type) {
	case *v1alpha1.SalesRecord:
		o.Spec.OfferRef.Name = shared(o.Spec.OfferRef.Name)
		o.Spec.Currency = shared(o.Spec.Currency)
		o.Status.Reason = shared(o.Status.Reason)
		o.Status.Publisher = shared(o.Status.Publisher)
		o.Status.ProgramCurrency = shared(o.Status.ProgramCurrency)
		shareConditions(o.Status.Conditions)
	case *v1alpha1.Offer:
		o.Spec.PublisherRef.Name = shared(o.Spec.PublisherRef.Name)
		o.Spec.ListingType = shared(o.Spec.ListingType)
		o.Status.Phase = shared(o.Status.Phase)
		shareConditions(o.Status.Conditions)
	case *v1alpha1.BenefitActivation:
		o.Spec.OfferRef.Name = shared(o.Spec.OfferRef.Name)
		o.Spec.Benefit = shared(o.Spec.Benefit)
		o.Status.Phase = shared(o.Status.Phase)
		o.Status.Publisher = shared(o.Status.Publisher)
		o.Status.Category = shared(o.Status.Category)
		shareConditions(o.Status.Conditions)
	case *v1alpha1.Publisher:
		shareConditions(o.Status.Conditions)
	}
}

func shareConditions(conds []metav1.Condition) {
	for i := range conds {
		c := &conds[i]
		c.Type, c.Status, c.Reason = shared(c.Type), shared(c.Status), shared(c.Reason)
	}
}

// shared is s's canonical copy.
func shared[S ~string](s S) S {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

// keyedCache is controller-runtime's cache with two shortcuts through its
// informers' stores, which controller-runtime does not expose for a
// namespace-limited cache (one informer per namespace): they are recorded
// as the cache makes them (cache.Options' NewInformer).
//
//   - CachedKeys lists the keys of the objects of a kind without copying an
//     object: the controllers' resync sweeps read them every few seconds
//     (controllers' cachedKeys), where a List would copy every object of
//     the kind into a new list each time.
//   - Get honours client.UnsafeDisableDeepCopy for a kind held by a single
//     informer. controller-runtime's namespace-limited cache drops a Get's
//     options for a cluster-scoped object (multiNamespaceCache.Get), so
//     every read of the RewardsProgram, which every sales line's decision
//     makes, deep-copied the whole program.
//
// Only typed objects are recorded: informers of unstructured or
// metadata-only objects share one Go type across kinds.
type keyedCache struct {
	cache.Cache

	mu        sync.RWMutex
	informers map[reflect.Type][]informerStore
}

// informerStore is what keyedCache reads of an informer.
type informerStore interface {
	HasSynced() bool
	GetStore() toolscache.Store
}

// keyedCacheOf wraps a manager's NewCache (controller-runtime's cache.New
// when nil) in a keyedCache recording the informers it makes.
func keyedCacheOf(newCache cache.NewCacheFunc) cache.NewCacheFunc {
	if newCache == nil {
		newCache = cache.New
	}
	return func(cfg *rest.Config, opts cache.Options) (cache.Cache, error) {
		kc := &keyedCache{informers: map[reflect.Type][]informerStore{}}
		newInformer := opts.NewInformer
		if newInformer == nil {
			newInformer = toolscache.NewSharedIndexInformer
		}
		opts.NewInformer = func(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
			informer := newInformer(lw, obj, resync, indexers)
			kc.record(obj, informer)
			return informer
		}
		c, err := newCache(cfg, opts)
		if err != nil {
			return nil, err
		}
		kc.Cache = c
		return kc, nil
	}
}

// typed says whether objects of obj's Go type are all of one kind.
func typed(obj runtime.Object) bool {
	switch obj.(type) {
	case runtime.Unstructured, *metav1.PartialObjectMetadata, *metav1.PartialObjectMetadataList:
		return false
	}
	return true
}

func (c *keyedCache) record(obj runtime.Object, informer informerStore) {
	if !typed(obj) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := reflect.TypeOf(obj)
	c.informers[t] = append(c.informers[t], informer)
}

func (c *keyedCache) informersOf(obj client.Object) []informerStore {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.informers[reflect.TypeOf(obj)]
}

// CachedKeys lists the keys ("namespace/name") of the objects of obj's
// type in the cache's stores; ok is false when the cache has no informer
// of that type yet.
func (c *keyedCache) CachedKeys(obj client.Object) (keys []string, ok bool) {
	informers := c.informersOf(obj)
	for _, informer := range informers {
		keys = append(keys, informer.GetStore().ListKeys()...)
	}
	return keys, len(informers) > 0
}

// Get reads obj from the cache. With client.UnsafeDisableDeepCopy, an object
// of a kind one synced informer holds (any kind of a cache over all
// namespaces, a cluster-scoped kind of a namespace-limited one) is the
// store's own, not copied, as the option asks: read it, never change it.
// Anything else, a miss included, is the wrapped cache's: its waits for a
// first sync, its errors.
func (c *keyedCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if readOnly(opts) && c.getFromStore(key, obj) {
		return nil
	}
	return c.Cache.Get(ctx, key, obj, opts...)
}

func readOnly(opts []client.GetOption) bool {
	var o client.GetOptions
	o.ApplyOptions(opts)
	return o.UnsafeDisableDeepCopy != nil && *o.UnsafeDisableDeepCopy
}

// getFromStore sets obj to the stored object of key when a single synced
// informer holds obj's kind and has it.
func (c *keyedCache) getFromStore(key client.ObjectKey, obj client.Object) bool {
	informers := c.informersOf(obj)
	if len(informers) != 1 || !informers[0].HasSynced() {
		return false
	}
	stored, exists, err := informers[0].GetStore().GetByKey(toolscache.ObjectName(key).String())
	if err != nil || !exists {
		return false
	}
	out, in := reflect.ValueOf(obj), reflect.ValueOf(stored)
	if in.Type() != out.Type() {
		return false
	}
	out.Elem().Set(in.Elem())
	return true
}

// RemoveInformer stops the informers of obj's kind and forgets them.
func (c *keyedCache) RemoveInformer(ctx context.Context, obj client.Object) error {
	if err := c.Cache.RemoveInformer(ctx, obj); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.informers, reflect.TypeOf(obj))
	return nil
}
