package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/status"
)

// frame is what every reconcile of a status does around the controller's
// own decision (Flux's summarize-and-patch is the model): read the object
// (one that is gone leaves its schedule, and what forget drops), let the
// controller set its status, write the status only when it changed
// (refused when computed from a cache behind the API server), announce
// what changed, and schedule the object's next instant. Each controller's
// Reconcile is this frame around its decide function.
type frame[T any, P interface {
	*T
	client.Object
}] struct {
	client  client.Client
	clock   clock.PassiveClock
	wakeups *scheduler.Wakeups
	// statusOf is the object's status, as it is written.
	statusOf func(P) any
	// forget, if set, drops what else is kept about an object that is gone.
	forget func(types.NamespacedName)
}

// outcome is what a controller's decision says beyond the status it set.
type outcome[P any] struct {
	// next is when the status changes by itself; nil when it does not (the
	// object is still resynced).
	next *time.Time
	// announce, if set, emits the Events of a status that changed from
	// before's.
	announce func(before P)
	// wait, if set, is the reconcile's result, the status not written: the
	// decision waits on something it cannot show yet.
	wait *ctrl.Result
}

// run reconciles req: decide sets obj's status at now.
func (f frame[T, P]) run(ctx context.Context, req ctrl.Request,
	decide func(ctx context.Context, obj P, now time.Time) (outcome[P], error)) (ctrl.Result, error) {
	obj := P(new(T))
	found, err := gather.GetOptional(ctx, f.client, req.NamespacedName, obj)
	if err != nil || !found {
		if !found && err == nil {
			f.wakeups.Forget(req.NamespacedName)
			if f.forget != nil {
				f.forget(req.NamespacedName)
			}
		}
		return ctrl.Result{}, err
	}
	before := obj.DeepCopyObject().(P)
	now := f.clock.Now()
	out, err := decide(ctx, obj, now)
	if err != nil {
		return resultOf(err)
	}
	if out.wait != nil {
		return *out.wait, nil
	}
	changed, err := status.PatchIfChanged(ctx, f.client, before, obj, func(o client.Object) any { return f.statusOf(o.(P)) })
	if err != nil {
		return resultOf(err)
	}
	if changed && out.announce != nil {
		out.announce(before)
	}
	f.wakeups.At(obj, out.next)
	return ctrl.Result{}, nil
}
