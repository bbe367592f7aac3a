package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
)

// BenefitGrantReconciler keeps every grant as this version writes it
// (R8): a grant owned by its BenefitActivation (written by a version
// before R8, or restored from a backup made by one, its owner's uid then
// stale) loses that ownerReference as soon as the operator sees it, so
// that the garbage collector does not delete the record with, or for
// want of, its activation; and it gets its labels (records.ConvertGrant).
//
// Should the garbage collector delete such a grant first, the grant is
// written again from what the operator last saw of it (lostGrants):
// deleting an activation, or restoring a backup, never erases a record.
// Only a grant deleted while it still had that ownerReference is written
// again; a converted grant an administrator deletes stays deleted.
type BenefitGrantReconciler struct {
	Client   client.Client
	Grants   records.Grants
	Recorder events.EventRecorder
	// Observer, if set, is told of every finished reconcile.
	Observer ReconcileObserver
	lost     *lostGrants
}

// Reconcile converts a grant, or writes a lost one again.
func (r *BenefitGrantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var g v1alpha1.BenefitGrant
	found, err := gather.GetOptional(ctx, r.Client, req.NamespacedName, &g)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !found {
		return ctrl.Result{}, r.writeLost(ctx, req.NamespacedName)
	}
	converted := records.ConvertGrant(&g)
	if converted == nil {
		r.lost.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	if err := r.Client.Patch(ctx, converted, client.MergeFromWithOptions(&g, client.MergeFromWithOptimisticLock{})); err != nil {
		return resultOf(client.IgnoreNotFound(err))
	}
	if owner := records.ActivationOwner(&g); owner != nil {
		r.Recorder.Eventf(converted, nil, corev1.EventTypeNormal, v1alpha1.EventGrantConverted, "Convert",
			"BenefitGrant %s is no longer owned by BenefitActivation %s (uid %s): it outlives its activation as the record of the activation of its name (R7, R8)",
			g.Name, owner.Name, owner.UID)
	}
	return ctrl.Result{}, nil
}

// writeLost writes again a grant the garbage collector deleted while it
// was owned by an activation.
func (r *BenefitGrantReconciler) writeLost(ctx context.Context, key types.NamespacedName) error {
	g := r.lost.get(key)
	if g == nil {
		return nil
	}
	act := &v1alpha1.BenefitActivation{}
	act.Namespace, act.Name = key.Namespace, key.Name
	restored, err := r.Grants.Create(ctx, act, g.Spec)
	if apierrors.IsAlreadyExists(err) {
		r.lost.forget(key) // it is back, written by someone else: that one is the record
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing again BenefitGrant %s, deleted with its activation by the garbage collector: %w", key, err)
	}
	r.lost.forget(key)
	r.Recorder.Eventf(restored, nil, corev1.EventTypeWarning, v1alpha1.EventGrantRestored, "Restore",
		"BenefitGrant %s was deleted by the garbage collector while it was owned by its activation, as versions before R8 wrote it; "+
			"it is written again, without that ownerReference, as it was recorded at %s", key.Name, g.Spec.ActivatedAt.UTC().Format(time.RFC3339))
	return nil
}

// SetupWithManager registers the controller: grants that need converting,
// and the deletions of grants that still had an activation as owner.
func (r *BenefitGrantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	needsConverting := predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return records.ConvertGrant(e.Object.(*v1alpha1.BenefitGrant)) != nil },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return records.ConvertGrant(e.ObjectNew.(*v1alpha1.BenefitGrant)) != nil
		},
		DeleteFunc: func(e event.DeleteEvent) bool {
			return records.ActivationOwner(e.Object.(*v1alpha1.BenefitGrant)) != nil
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("benefitgrant").
		Watches(&v1alpha1.BenefitGrant{}, r.lost.remembering(&handler.EnqueueRequestForObject{}), builder.WithPredicates(needsConverting)).
		Complete(observed("benefitgrant", r, r.Observer))
}

// lostGrants remembers the grants deleted while an activation owned them,
// until they are written again: the garbage collector may delete a
// restored grant whose owner's uid is stale before the operator converts
// it. The activation of such a grant's name reads it from here meanwhile,
// so that it is never granted anew in its place. What is remembered is
// lost with a restart; restoring backups made before R8 with the operator
// running, or with their ownerReferences removed, keeps every record.
type lostGrants struct {
	mu     sync.Mutex
	grants map[types.NamespacedName]*v1alpha1.BenefitGrant
}

func newLostGrants() *lostGrants {
	return &lostGrants{grants: map[types.NamespacedName]*v1alpha1.BenefitGrant{}}
}

// get returns a copy of the lost grant of key, nil when none is (or l is
// nil: nothing remembered).
func (l *lostGrants) get(key types.NamespacedName) *v1alpha1.BenefitGrant {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if g := l.grants[key]; g != nil {
		return g.DeepCopy()
	}
	return nil
}

func (l *lostGrants) forget(key types.NamespacedName) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.grants, key)
}

// remembering wraps an event handler so that the deletion of a grant an
// activation owned is remembered before the handler queues anything.
func (l *lostGrants) remembering(h handler.EventHandler) handler.EventHandler {
	return rememberLost{EventHandler: h, lost: l}
}

type rememberLost struct {
	handler.EventHandler
	lost *lostGrants
}

// Delete remembers a grant deleted while an activation owned it.
func (h rememberLost) Delete(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if g, ok := e.Object.(*v1alpha1.BenefitGrant); ok && records.ActivationOwner(g) != nil {
		h.lost.mu.Lock()
		h.lost.grants[client.ObjectKeyFromObject(g)] = g.DeepCopy()
		h.lost.mu.Unlock()
	}
	h.EventHandler.Delete(ctx, e, q)
}
