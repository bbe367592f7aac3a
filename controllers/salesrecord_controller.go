package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/status"
)

// SalesRecordReconciler decides whether each sales line counts towards its
// publisher's tier, and why (rules S1–S5).
type SalesRecordReconciler struct {
	Client   client.Client
	Clock    clock.WithDelayedExecution
	Recorder events.EventRecorder
	// Programs resolves the rules in force.
	Programs *records.Programs
	// ResyncPeriod is how often an object is reconciled with no event, so
	// that a status wiped or edited by anyone else is repaired.
	ResyncPeriod time.Duration
	// Observer, if set, is told of every finished reconcile.
	Observer ReconcileObserver
	wakeups  *scheduler.Wakeups
}

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=salesrecords,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=salesrecords/status,verbs=patch

// Reconcile computes a sales line's status.
func (r *SalesRecordReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	f := frame[v1alpha1.SalesRecord, *v1alpha1.SalesRecord]{client: r.Client, clock: r.Clock, wakeups: r.wakeups,
		statusOf: func(rec *v1alpha1.SalesRecord) any { return rec.Status }}
	return f.run(ctx, req, r.decide)
}

// decide sets a sales line's status: counted or not, and why (S1–S5).
func (r *SalesRecordReconciler) decide(ctx context.Context, rec *v1alpha1.SalesRecord, now time.Time) (outcome[*v1alpha1.SalesRecord], error) {
	var out outcome[*v1alpha1.SalesRecord]
	rel := gather.Relations{Reader: r.Client}
	offer, err := rel.Offer(ctx, rec.Namespace, rec.Spec.OfferRef.Name)
	if err != nil {
		return out, err
	}
	publisher := "" // a missing offer has no publisher: the default program judges the line
	if offer != nil {
		publisher = offer.Spec.PublisherRef.Name
	}
	_, prog, err := rel.PublisherAndProgram(ctx, r.Programs, rec.Namespace, publisher)
	if err != nil {
		return out, err
	}

	v := rewards.EvaluateLine(&rec.Spec, offer, prog.Rules, now)
	st := &rec.Status
	st.ObservedGeneration = rec.Generation
	st.Counted = v.Counted
	st.Reason = v.Reason
	st.Publisher = v.Publisher
	st.ProgramCurrency = prog.Rules.Currency
	st.ProgramAmount = ""
	var tooLarge *rewards.Problem
	if v.ProgramAmount != nil {
		st.ProgramAmount, tooLarge = rewards.StatusMoney("status.programAmount", *v.ProgramAmount)
	}
	ready := rewards.LineReadiness(v, tooLarge)
	status.SetCondition(&st.Conditions, now, rec.Generation, v1alpha1.ConditionReady, status.Bool(ready.Ready), ready.Reason, ready.Message)
	out.next = v.NextChange
	out.announce = func(before *v1alpha1.SalesRecord) { r.recordEvents(rec, before.Status, v, ready) }
	return out, nil
}

// recordEvents emits the Events of a changed status: the line starting or
// stopping to count, and why it is not settled (what admission could not
// check).
func (r *SalesRecordReconciler) recordEvents(rec *v1alpha1.SalesRecord, old v1alpha1.SalesRecordStatus, v rewards.LineVerdict, ready rewards.Readiness) {
	switch {
	case old.Reason == "" || old.Counted == v.Counted:
	case v.Counted:
		r.Recorder.Eventf(rec, nil, corev1.EventTypeNormal, v1alpha1.EventCountingStarted, "Count", "%s", v.Message)
	default:
		r.Recorder.Eventf(rec, nil, corev1.EventTypeNormal, v1alpha1.EventCountingStopped, "Count", "%s", v.Message)
	}
	if !ready.Ready && status.ReadyReason(old.Conditions, v1alpha1.ConditionReady) != ready.Reason {
		r.Recorder.Eventf(rec, nil, corev1.EventTypeWarning, ready.Reason, "Count", "%s", ready.Message)
	}
}

// SetupWithManager registers the controller and what it watches.
func (r *SalesRecordReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.wakeups = scheduler.NewWakeups(r.Clock, r.ResyncPeriod, cachedKeys(mgr.GetCache(), &v1alpha1.SalesRecord{}, &v1alpha1.SalesRecordList{}))
	recordsOfOffers := func(ctx context.Context, rel gather.Relations, offers []v1alpha1.Offer) ([]reconcile.Request, error) {
		var reqs []reconcile.Request
		for i := range offers {
			recs, err := rel.RecordsOfOffer(ctx, offers[i].Namespace, offers[i].Name)
			if err != nil {
				return reqs, err
			}
			reqs = append(reqs, requests(ptrs(recs))...)
		}
		return reqs, nil
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.SalesRecord{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("salesrecord").
		// An offer appearing, disappearing or changing listing type.
		Watches(&v1alpha1.Offer{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, o *v1alpha1.Offer) ([]reconcile.Request, error) {
			return recordsOfOffers(ctx, rel, []v1alpha1.Offer{*o})
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A publisher switching program changes currency and rates.
		Watches(&v1alpha1.Publisher{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, p *v1alpha1.Publisher) ([]reconcile.Request, error) {
			offers, err := rel.OffersOfPublisher(ctx, p.Namespace, p.Name)
			if err != nil {
				return nil, err
			}
			return recordsOfOffers(ctx, rel, offers)
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A program adding a rate or changing its window.
		Watches(&v1alpha1.RewardsProgram{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, p *v1alpha1.RewardsProgram) (
			[]reconcile.Request, error) {
			offers, err := offersOfProgram(ctx, rel, p.Name)
			if err != nil {
				return nil, err
			}
			return recordsOfOffers(ctx, rel, offers)
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(r.wakeups.Source()).
		Complete(observed("salesrecord", r, r.Observer))
}
