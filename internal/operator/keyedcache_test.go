package operator

import (
	"context"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// storeOf stands for an informer: its store, synced or not.
type storeOf struct {
	toolscache.Store
	synced bool
}

func (s storeOf) HasSynced() bool            { return s.synced }
func (s storeOf) GetStore() toolscache.Store { return s.Store }
func newStore(synced bool, objs ...any) storeOf {
	s := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	for _, o := range objs {
		if err := s.Add(o); err != nil {
			panic(err)
		}
	}
	return storeOf{Store: s, synced: synced}
}

// wrapped stands for controller-runtime's cache: it counts the Gets it
// answers (a copy of what it holds, or NotFound) and the informers removed.
type wrapped struct {
	cache.Cache
	held    map[client.ObjectKey]*v1alpha1.RewardsProgram
	gets    int
	removed int
}

func (w *wrapped) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	w.gets++
	p, ok := w.held[key]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "RewardsProgram"}, key.Name)
	}
	p.DeepCopyInto(obj.(*v1alpha1.RewardsProgram))
	return nil
}

func (w *wrapped) RemoveInformer(context.Context, client.Object) error {
	w.removed++
	return nil
}

func program(name string) *v1alpha1.RewardsProgram {
	return &v1alpha1.RewardsProgram{
		ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: "7"},
		Spec:       v1alpha1.RewardsProgramSpec{Description: "rules", ExchangeRates: []v1alpha1.ExchangeRate{{}}},
	}
}

// A read-only Get of an object of a kind one informer holds is the store's
// object, not a copy: the RewardsProgram every sales line's decision reads
// from a namespace-limited cache, whose controller-runtime Get drops the
// option for a cluster-scoped object. Every other Get is the wrapped
// cache's.
func TestKeyedCacheGetReadsTheStoreWhenAskedNotToCopy(t *testing.T) {
	ctx := context.Background()
	stored := program("marketplace")
	inner := &wrapped{held: map[client.ObjectKey]*v1alpha1.RewardsProgram{{Name: "marketplace"}: stored}}
	kc := &keyedCache{Cache: inner, informers: map[reflect.Type][]informerStore{}}
	kc.record(&v1alpha1.RewardsProgram{}, newStore(true, stored))
	key := client.ObjectKey{Name: "marketplace"}

	var got v1alpha1.RewardsProgram
	if err := kc.Get(ctx, key, &got, client.UnsafeDisableDeepCopy); err != nil {
		t.Fatal(err)
	}
	if &got.Spec.ExchangeRates[0] != &stored.Spec.ExchangeRates[0] || inner.gets != 0 {
		t.Errorf("a read-only Get copied the program (wrapped cache asked %d times)", inner.gets)
	}
	if got.ResourceVersion != "7" || got.Spec.Description != "rules" {
		t.Errorf("read %+v, want the stored program", got)
	}

	var copied v1alpha1.RewardsProgram
	if err := kc.Get(ctx, key, &copied); err != nil {
		t.Fatal(err)
	}
	if &copied.Spec.ExchangeRates[0] == &stored.Spec.ExchangeRates[0] || inner.gets != 1 {
		t.Errorf("a Get without the option was not the wrapped cache's copy (asked %d times)", inner.gets)
	}

	err := kc.Get(ctx, client.ObjectKey{Name: "absent"}, &got, client.UnsafeDisableDeepCopy)
	if !apierrors.IsNotFound(err) || inner.gets != 2 {
		t.Errorf("a miss: %v after %d asks, want the wrapped cache's NotFound", err, inner.gets)
	}
}

// The store is read only when it is the one informer of the kind, synced:
// a namespaced kind of a namespace-limited cache has one informer per
// namespace (the wrapped cache knows which), and before the first sync the
// wrapped cache waits for it.
func TestKeyedCacheGetLeavesOtherReadsToTheWrappedCache(t *testing.T) {
	ctx := context.Background()
	stored := program("marketplace")
	key := client.ObjectKey{Name: "marketplace"}
	for name, stores := range map[string][]informerStore{
		"two informers":   {newStore(true, stored), newStore(true)},
		"not yet synced":  {newStore(false, stored)},
		"no informer yet": nil,
	} {
		inner := &wrapped{held: map[client.ObjectKey]*v1alpha1.RewardsProgram{key: stored}}
		kc := &keyedCache{Cache: inner, informers: map[reflect.Type][]informerStore{}}
		for _, s := range stores {
			kc.record(&v1alpha1.RewardsProgram{}, s)
		}
		var got v1alpha1.RewardsProgram
		if err := kc.Get(ctx, key, &got, client.UnsafeDisableDeepCopy); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if inner.gets != 1 || got.Spec.Description != "rules" {
			t.Errorf("%s: the wrapped cache asked %d times, read %+v; want it asked once", name, inner.gets, got.Spec)
		}
	}
}

// Informers of unstructured or metadata-only objects are not recorded: one
// Go type holds many kinds there. A removed informer's kind is forgotten.
func TestKeyedCacheRecordsTypedInformersUntilRemoved(t *testing.T) {
	kc := &keyedCache{Cache: &wrapped{}, informers: map[reflect.Type][]informerStore{}}
	kc.record(&unstructured.Unstructured{}, newStore(true))
	kc.record(&metav1.PartialObjectMetadata{}, newStore(true))
	if len(kc.informers) != 0 {
		t.Errorf("recorded %d untyped informers", len(kc.informers))
	}
	if _, ok := kc.CachedKeys(&unstructured.Unstructured{}); ok {
		t.Errorf("keys of unstructured objects from recorded informers")
	}

	kc.record(&v1alpha1.RewardsProgram{}, newStore(true, program("marketplace")))
	if keys, ok := kc.CachedKeys(&v1alpha1.RewardsProgram{}); !ok || !reflect.DeepEqual(keys, []string{"marketplace"}) {
		t.Errorf("programs' keys %v, %v; want [marketplace]", keys, ok)
	}
	if err := kc.RemoveInformer(context.Background(), &v1alpha1.RewardsProgram{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := kc.CachedKeys(&v1alpha1.RewardsProgram{}); ok || kc.Cache.(*wrapped).removed != 1 {
		t.Errorf("a removed informer's keys are still listed")
	}
}
