package testenv

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// How long CreateWithoutValidation waits for the API server to serve a
// changed CRD.
const (
	crdChangeTimeout  = 30 * time.Second
	crdChangeInterval = 50 * time.Millisecond
)

// CreateWithoutValidation creates obj, a custom resource that its CRD's CEL
// rules (x-kubernetes-validations) refuse, as if it had been stored before
// those rules existed: it removes every rule from the CRD, creates obj,
// and puts the rules back, waiting each time until the API server serves
// the change. It is how a test shows what the operator does with an
// object admission should have kept out (defence in depth). The CRD is
// restored even when creating obj fails. No other test may create objects
// of the kind meanwhile: the suites run their specs one at a time.
func CreateWithoutValidation(ctx context.Context, c client.Client, obj client.Object) error {
	return WithoutValidation(ctx, c, obj, func() error { return c.Create(ctx, obj) })
}

// UpdateWithoutValidation writes obj, an existing custom resource changed
// in a way its CRD's CEL rules refuse, as CreateWithoutValidation creates.
func UpdateWithoutValidation(ctx context.Context, c client.Client, obj client.Object) error {
	return WithoutValidation(ctx, c, obj, func() error { return c.Update(ctx, obj) })
}

// WithoutValidation runs write, which creates or updates obj, while obj's
// CRD has no CEL rules; see CreateWithoutValidation.
func WithoutValidation(ctx context.Context, c client.Client, obj client.Object, write func() error) error {
	gvk, err := c.GroupVersionKindFor(obj)
	if err != nil {
		return err
	}
	mapping, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	key := types.NamespacedName{Name: mapping.Resource.Resource + "." + gvk.Group}
	if err := c.Get(ctx, key, crd); err != nil {
		return err
	}
	original, _, _ := unstructured.NestedFieldCopy(crd.Object, "spec", "versions")

	// A copy of obj under another name tells when the rules are off (it is
	// accepted) and on again (it is refused).
	probe := obj.DeepCopyObject().(client.Object)
	probe.SetName(obj.GetName() + "-probe")
	probe.SetResourceVersion("")
	probe.SetUID("")
	accepted := func() (bool, error) {
		err := c.Create(ctx, probe.DeepCopyObject().(client.Object), client.DryRunAll)
		switch {
		case err == nil:
			return true, nil
		case apierrors.IsInvalid(err):
			return false, nil
		}
		return false, err
	}

	withoutRules, _, _ := unstructured.NestedFieldCopy(crd.Object, "spec", "versions")
	stripValidations(withoutRules)
	if err := setVersions(ctx, c, key, withoutRules); err != nil {
		return err
	}
	createErr := waitFor(ctx, func() (bool, error) { return accepted() })
	if createErr == nil {
		createErr = write()
	}

	if err := setVersions(ctx, c, key, original); err != nil {
		return fmt.Errorf("restoring the CEL rules of %s: %w (creating: %w)", key.Name, err, createErr)
	}
	if err := waitFor(ctx, func() (bool, error) { ok, err := accepted(); return !ok, err }); err != nil {
		return fmt.Errorf("waiting for the CEL rules of %s to be served again: %w (creating: %w)", key.Name, err, createErr)
	}
	return createErr
}

// stripValidations removes every x-kubernetes-validations below v.
func stripValidations(v any) {
	switch t := v.(type) {
	case map[string]any:
		delete(t, "x-kubernetes-validations")
		for _, child := range t {
			stripValidations(child)
		}
	case []any:
		for _, child := range t {
			stripValidations(child)
		}
	}
}

// setVersions writes spec.versions of the CRD named by key, retrying on
// conflicts.
func setVersions(ctx context.Context, c client.Client, key types.NamespacedName, versions any) error {
	return waitFor(ctx, func() (bool, error) {
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		if err := c.Get(ctx, key, crd); err != nil {
			return false, err
		}
		if err := unstructured.SetNestedField(crd.Object, versions, "spec", "versions"); err != nil {
			return false, err
		}
		err := c.Update(ctx, crd)
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
}

// waitFor polls done until it returns true or an error, or
// crdChangeTimeout passes.
func waitFor(ctx context.Context, done func() (bool, error)) error {
	deadline := time.Now().Add(crdChangeTimeout)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", crdChangeTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(crdChangeInterval):
		}
	}
}
