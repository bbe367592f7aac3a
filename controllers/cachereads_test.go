package controllers

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// storeCache is a cache.Cache whose RewardsProgram informer has store, and
// whose Get counts the reads that reach it. Only these two are called.
type storeCache struct {
	cache.Cache
	store toolscache.Store
	gets  int
}

type storeInformer struct {
	cache.Informer
	store toolscache.Store
}

func (i storeInformer) GetStore() toolscache.Store { return i.store }

func (c *storeCache) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return storeInformer{store: c.store}, nil
}

func (c *storeCache) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	c.gets++
	return nil
}

// TestProgramReadFromTheInformersStore: a read-only Get of a RewardsProgram
// shares the informer's object (a cache limited to namespaces would copy
// it on every read); a missing one is NotFound; any other Get goes to the
// cache.
func TestProgramReadFromTheInformersStore(t *testing.T) {
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	cached := &v1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: "gold", ResourceVersion: "7"},
		Spec: v1alpha1.RewardsProgramSpec{Tiers: []v1alpha1.Tier{{Name: "one"}}}}
	if err := store.Add(cached); err != nil {
		t.Fatal(err)
	}
	fake := &storeCache{store: store}
	c := cacheReads{cache: fake, programs: &programStore{}}
	ctx := context.Background()

	var prog v1alpha1.RewardsProgram
	if err := c.Get(ctx, types.NamespacedName{Name: "gold"}, &prog, client.UnsafeDisableDeepCopy); err != nil {
		t.Fatalf("reading the program: %v", err)
	}
	if prog.ResourceVersion != "7" || len(prog.Spec.Tiers) != 1 || &prog.Spec.Tiers[0] != &cached.Spec.Tiers[0] || fake.gets != 0 {
		t.Errorf("read %+v with %d reads of the cache; want the store's object, shared, and none", prog.ObjectMeta, fake.gets)
	}
	if err := c.Get(ctx, types.NamespacedName{Name: "silver"}, &prog, client.UnsafeDisableDeepCopy); !apierrors.IsNotFound(err) {
		t.Errorf("reading a missing program: %v, want NotFound", err)
	}

	if err := c.Get(ctx, types.NamespacedName{Name: "gold"}, &prog); err != nil || fake.gets != 1 {
		t.Errorf("a Get asking for a copy: %v after %d reads of the cache, want the cache's", err, fake.gets)
	}
	var offer v1alpha1.Offer
	if err := c.Get(ctx, types.NamespacedName{Namespace: "ns", Name: "saas"}, &offer, client.UnsafeDisableDeepCopy); err != nil || fake.gets != 2 {
		t.Errorf("a read-only Get of another kind: %v after %d reads of the cache, want the cache's", err, fake.gets)
	}
}
