package controllers

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
)

// A mapper queues the objects an event concerns, except for the creations
// of an informer's initial list: the controller's own informer queues every
// object of its kind then.
func TestMapperSkipsTheInitialList(t *testing.T) {
	mapped := 0
	target := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "pub"}}
	h := mapper(nil, func(context.Context, gather.Relations, *v1alpha1.Offer) ([]reconcile.Request, error) {
		mapped++
		return []reconcile.Request{target}, nil
	})
	offer := &v1alpha1.Offer{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "offer", ResourceVersion: "1"}}
	changed := offer.DeepCopy()
	changed.ResourceVersion = "2"

	for _, tc := range []struct {
		name  string
		send  func(q workqueue.TypedRateLimitingInterface[reconcile.Request])
		queue bool
	}{
		{"created, in the initial list", func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Create(context.Background(), event.CreateEvent{Object: offer, IsInInitialList: true}, q)
		}, false},
		{"created later", func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Create(context.Background(), event.CreateEvent{Object: offer}, q)
		}, true},
		{"updated", func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Update(context.Background(), event.UpdateEvent{ObjectOld: offer, ObjectNew: changed}, q)
		}, true},
		{"deleted", func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Delete(context.Background(), event.DeleteEvent{Object: offer}, q)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
			defer q.ShutDown()
			mapped = 0
			tc.send(q)
			want := 0
			if tc.queue {
				want = 1
			}
			if q.Len() != want || (want == 0 && mapped != 0) {
				t.Errorf("queued %d requests (mapped %d times), want %d", q.Len(), mapped, want)
			}
			if want == 1 {
				if got, _ := q.Get(); got != target {
					t.Errorf("queued %v, want %v", got, target)
				}
			}
		})
	}
}
