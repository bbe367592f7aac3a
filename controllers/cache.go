package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// lastApplied is the annotation `kubectl apply` (client-side) keeps a copy
// of the whole object in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// CacheOptions are the informer cache's options the operator runs with:
// objects are kept without their managedFields and last-applied
// annotation. Nothing here reads them, and they are often most of an
// object's size: with tens of thousands of sales lines, most of the
// operator's memory.
func CacheOptions() cache.Options {
	return cache.Options{DefaultTransform: StripUnread}
}

// StripUnread drops what the operator never reads from an object entering
// the cache. The operator's patches are computed between two copies of the
// cached object, so they never touch what was dropped.
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
	return in, nil
}
