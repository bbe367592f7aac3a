package testenv

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NewNamespace creates a namespace named generateName followed by a random
// suffix (for one test of its own) and returns its name.
func NewNamespace(ctx context.Context, c client.Client, generateName string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: generateName}}
	if err := c.Create(ctx, ns); err != nil {
		return "", err
	}
	return ns.Name, nil
}

// Create creates objs in order, stopping at the first that fails; its
// error names the object.
func Create(ctx context.Context, c client.Client, objs ...client.Object) error {
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// How long and how often UpdateWithRetry tries: Gomega's defaults for
// Eventually.
const (
	updateTimeout  = time.Second
	updateInterval = 10 * time.Millisecond
)

// UpdateWithRetry re-reads obj, applies mutate to it and writes it. It tries
// again while the write conflicts with another writer's (a controller
// writing status, say) or the read fails, for up to a second; any other
// error of the write it returns at once.
func UpdateWithRetry[T client.Object](ctx context.Context, c client.Client, obj T, mutate func(T)) error {
	deadline := time.Now().Add(updateTimeout)
	for {
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if err == nil {
			mutate(obj)
			err = c.Update(ctx, obj)
			if err == nil || !apierrors.IsConflict(err) {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("updating %T %s: still failing after %s: %w", obj, obj.GetName(), updateTimeout, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("updating %T %s: %w (last error: %w)", obj, obj.GetName(), ctx.Err(), err)
		case <-time.After(updateInterval):
		}
	}
}
