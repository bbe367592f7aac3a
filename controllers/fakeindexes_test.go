package controllers

import (
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/marketplace-rewards/rewards-operator/internal/gather"
)

// fakeCache is a fake client standing for the operator's cache: it holds
// objs and answers field lists through the same indexes as the cache
// (gather.Indexes), registered from the same table.
func fakeCache(scheme *runtime.Scheme, objs ...client.Object) *fake.ClientBuilder {
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...)
	for _, idx := range gather.Indexes() {
		extract := idx.Extract
		b = b.WithIndex(idx.Object, idx.Field, func(o client.Object) []string { return []string{extract(o)} })
	}
	return b
}
