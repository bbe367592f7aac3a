package controllers

import (
	"context"
	"sync"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// cacheReads is the manager's client with its reads sent straight to the
// manager's cache. The manager's client reads from the same cache, but
// first asks, for every read, whether the object's kind is one it must not
// cache (a lookup of the kind in the scheme each time): the controllers
// read only the operator's own kinds, all cached, and they read a few
// times per reconcile (a sales line reads its offer, publisher and
// program), so the answer is known and asking is a cost on every read of
// the hottest path. Writes go to the manager's client.
type cacheReads struct {
	client.Client
	cache    cache.Cache
	programs *programStore
}

// Get reads obj from the cache. A read-only Get of a RewardsProgram is
// answered from the informer's store (programStore).
func (c cacheReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if prog, ok := obj.(*v1alpha1.RewardsProgram); ok && c.programs != nil && readOnly(opts) {
		if store := c.programs.get(ctx, c.cache); store != nil {
			return programFromStore(store, key.Name, prog)
		}
	}
	return c.cache.Get(ctx, key, obj, opts...)
}

// List lists from the cache.
func (c cacheReads) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return c.cache.List(ctx, list, opts...)
}

// readOnly reports whether a Get asks for the cache's own object
// (client.UnsafeDisableDeepCopy).
func readOnly(opts []client.GetOption) bool {
	var o client.GetOptions
	o.ApplyOptions(opts)
	return o.UnsafeDisableDeepCopy != nil && *o.UnsafeDisableDeepCopy
}

// programStore is the cache's store of RewardsPrograms, which every
// reconcile of every kind reads its program from. A cache limited to
// namespaces (operator.Shard) ignores a Get's options for a cluster-scoped
// object (controller-runtime's multiNamespaceCache.Get), so a read-only
// Get of the program deep-copied it on every read: 5% of everything the
// manager allocated while converging at P=1000. Read from the store, the
// program is the cache's own object, as a read-only Get of a namespaced
// object is.
type programStore struct {
	store atomic.Pointer[toolscache.Store]
	// mu lets one reader at a time look the store up.
	mu sync.Mutex
}

// get returns the store, looked up on the first read (the informer is
// synced by then: GetInformer waits for it); nil when the informer has no
// store to read, and the Get goes to the cache.
func (s *programStore) get(ctx context.Context, informers cache.Informers) toolscache.Store {
	if store := s.store.Load(); store != nil {
		return *store
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if store := s.store.Load(); store != nil {
		return *store
	}
	informer, err := informers.GetInformer(ctx, &v1alpha1.RewardsProgram{})
	if err != nil {
		return nil
	}
	withStore, ok := informer.(interface{ GetStore() toolscache.Store })
	if !ok {
		return nil
	}
	store := withStore.GetStore()
	s.store.Store(&store)
	return store
}

// programFromStore sets prog to the program named name in store, sharing
// its contents (read only), or returns NotFound.
func programFromStore(store toolscache.Store, name string, prog *v1alpha1.RewardsProgram) error {
	item, exists, err := store.GetByKey(name)
	if err != nil {
		return err
	}
	cached, ok := item.(*v1alpha1.RewardsProgram)
	if !exists || !ok {
		return apierrors.NewNotFound(v1alpha1.GroupVersion.WithResource("rewardsprograms").GroupResource(), name)
	}
	*prog = *cached
	return nil
}
