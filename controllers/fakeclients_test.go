package controllers

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// The unit tests of this package set fake clients in the places of the
// operator's cache and of the API server. Both answer field lists through
// the indexes of gather.Indexes, the table the operator's cache is built
// from, so that a test lists as the operator does and no test keeps its
// own copy of an index.

// fakeCache is a fake client standing for the operator's cache: it holds
// objs and answers field lists through every index of the cache.
func fakeCache(scheme *runtime.Scheme, objs ...client.Object) *fake.ClientBuilder {
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...)
	for _, idx := range gather.Indexes() {
		b = withIndex(b, idx)
	}
	return b
}

// fakeAPIServer is a fake client standing for the API server: it holds
// objs and answers field lists by the fields its CRDs declare selectable,
// and by no other, as the API server does. A selectable field the
// operator lists by is also an index of the same name in its cache, and
// is registered from that index.
func fakeAPIServer(t *testing.T, scheme *runtime.Scheme, objs ...client.Object) *fake.ClientBuilder {
	t.Helper()
	selectable, err := selectableFields()
	if err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...)
	for _, idx := range gather.Indexes() {
		gvk, err := apiutil.GVKForObject(idx.Object, scheme)
		if err != nil {
			t.Fatal(err)
		}
		if selectable[gvk.Kind]["."+idx.Field] {
			b = withIndex(b, idx)
		}
	}
	return b
}

func withIndex(b *fake.ClientBuilder, idx gather.Index) *fake.ClientBuilder {
	extract := idx.Extract
	return b.WithIndex(idx.Object, idx.Field, func(o client.Object) []string { return []string{extract(o)} })
}

// selectableFields are the JSON paths of the selectable fields of each
// kind, read from the repository's CRDs.
var selectableFields = sync.OnceValues(func() (map[string]map[string]bool, error) {
	dir, err := testenv.CRDDir()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	fields := map[string]map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		crds, err := testenv.DecodeObjects(string(data))
		if err != nil {
			return nil, err
		}
		for _, crd := range crds {
			kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
			versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
			for _, v := range versions {
				selectable, _, _ := unstructured.NestedSlice(v.(map[string]any), "selectableFields")
				for _, s := range selectable {
					if fields[kind] == nil {
						fields[kind] = map[string]bool{}
					}
					fields[kind][s.(map[string]any)["jsonPath"].(string)] = true
				}
			}
		}
	}
	return fields, nil
})

// stored is obj as the API server stores an object it created: at
// generation 1, which a status must observe.
func stored[T client.Object](obj T) T {
	obj.SetGeneration(1)
	return obj
}
