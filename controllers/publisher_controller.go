package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/status"
)

// PublisherReconciler computes a publisher's billed sales, seats, tier and
// progress to the next tier from its offers and sales records (rules
// S1–S7), and its standing (P5).
type PublisherReconciler struct {
	Client client.Client
	// Grants reads the publisher's grants, its revocation history.
	Grants records.Grants
	// Programs resolves the rules in force.
	Programs *records.Programs
	Clock    clock.WithDelayedExecution
	Recorder events.EventRecorder
	// ResyncPeriod is how often an object is reconciled with no event, so
	// that a status wiped or edited by anyone else is repaired.
	ResyncPeriod time.Duration
	// Observer, if set, is told of every finished reconcile.
	Observer ReconcileObserver
	// Upgraded, if set, is waited for before anything is decided: the
	// revocation history is never written from records an unfinished
	// conversion has not written yet (upgradeRecords).
	Upgraded *upgradeGate
	wakeups  *scheduler.Wakeups
	// sales shares each publisher's sales facts with its activations.
	sales *salesMemo
}

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=publishers,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=publishers/status,verbs=patch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitgrants,verbs=get;list;watch

// Reconcile computes a publisher's status.
func (r *PublisherReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if err := r.Upgraded.wait(ctx); err != nil {
		return ctrl.Result{}, err
	}
	var pub v1alpha1.Publisher
	if found, err := getOptional(ctx, r.Client, req.NamespacedName, &pub); err != nil || !found {
		if !found && err == nil {
			r.wakeups.Forget(req.NamespacedName)
			r.sales.forget(req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	before := pub.DeepCopy()
	now := r.Clock.Now()

	prog, err := r.Programs.State(ctx, programName(&pub))
	if err != nil {
		return ctrl.Result{}, err
	}
	rel := relations{r.Client}
	res, detail, _, err := r.sales.facts(req.NamespacedName, prog, now, rel.salesInputs(ctx, pub.Namespace, pub.Name))
	if err != nil {
		return ctrl.Result{}, err
	}
	st := &pub.Status
	st.ObservedGeneration = pub.Generation
	st.Program = prog.Name
	st.Tier = res.Tier
	st.TierName = res.TierName
	var salesTooLarge *rewards.Problem
	st.BilledSales, salesTooLarge = rewards.StatusMoney("status.billedSales", res.BilledSales)
	st.Currency = prog.Rules.Currency
	st.Seats = res.Seats
	st.NextTier = res.Next
	st.Offers = res.Offers
	st.SalesRecords = v1alpha1.SalesRecordCounts{Counted: res.Counted, Excluded: res.Excluded}
	st.Standing = rewards.StandingOf(&pub.Spec)
	nextChange, nextChangeTooLate := rewards.StatusInstant("status.nextChangeAt", res.NextChangeAt)
	st.NextChangeAt = status.Time(nextChange)
	st.Breakdown = detail.Breakdown
	st.Forecast = detail.Forecast

	// Every grant of the publisher, whether its activation still exists
	// or not (R8): deleting an activation erases nothing.
	grants, err := r.Grants.OfPublisher(ctx, pub.Namespace, pub.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	st.Revocations, st.RevocationCount = rewards.RevocationHistory(grants, rewards.RevocationHistoryLimit)

	ready := rewards.PublisherReadiness(prog, res, salesTooLarge, nextChangeTooLate)
	status.SetCondition(&st.Conditions, now, pub.Generation, v1alpha1.ConditionReady, status.Bool(ready.Ready), ready.Reason, ready.Message)

	changed, err := status.PatchIfChanged(ctx, r.Client, before, &pub, func(o client.Object) any { return o.(*v1alpha1.Publisher).Status })
	if err != nil {
		return resultOf(err)
	}
	if changed {
		r.recordEvents(&pub, before.Status, res, prog.Rules.Currency, ready)
	}
	r.wakeups.At(&pub, now, res.NextChangeAt)
	return ctrl.Result{}, nil
}

// recordEvents emits the Events of a changed status: the tier changing
// (not on a first or rebuilt status), and why it is not Ready.
func (r *PublisherReconciler) recordEvents(pub *v1alpha1.Publisher, old v1alpha1.PublisherStatus, res rewards.TierResult,
	currency v1alpha1.CurrencyCode, ready rewards.Readiness) {
	if old.ObservedGeneration > 0 && old.Tier != res.Tier {
		r.Recorder.Eventf(pub, nil, corev1.EventTypeNormal, v1alpha1.EventTierChanged, "ComputeTier",
			"tier changed from %d to %d: %s %s billed sales, %d seats", old.Tier, res.Tier, res.BilledSales, currency, res.Seats)
	}
	if !ready.Ready && status.ReadyReason(old.Conditions, v1alpha1.ConditionReady) != ready.Reason {
		r.Recorder.Eventf(pub, nil, corev1.EventTypeWarning, ready.Reason, "ComputeTier", "%s", ready.Message)
	}
}

// SetupWithManager registers the controller and what it watches.
func (r *PublisherReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.wakeups = scheduler.NewWakeups(r.Clock, r.ResyncPeriod)
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Publisher{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("publisher").
		// An offer or sales line changing changes the publisher's sales
		// facts: the memo hears of it before the publisher is queued.
		Watches(&v1alpha1.Offer{}, mapper(r.Client, func(_ context.Context, _ relations, o *v1alpha1.Offer) ([]reconcile.Request, error) {
			pub := types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.PublisherRef.Name}
			r.sales.changed(pub, o)
			return []reconcile.Request{{NamespacedName: pub}}, nil
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.SalesRecord{}, mapper(r.Client, func(ctx context.Context, rel relations, s *v1alpha1.SalesRecord) ([]reconcile.Request, error) {
			offer, err := rel.offer(ctx, s.Namespace, s.Spec.OfferRef.Name)
			if err != nil || offer == nil {
				return nil, err // an offer created later maps to its publisher itself
			}
			pub := types.NamespacedName{Namespace: s.Namespace, Name: offer.Spec.PublisherRef.Name}
			r.sales.changed(pub, s)
			return []reconcile.Request{{NamespacedName: pub}}, nil
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.RewardsProgram{}, mapper(r.Client, func(ctx context.Context, rel relations, p *v1alpha1.RewardsProgram) ([]reconcile.Request, error) {
			pubs, err := rel.publishersOfProgram(ctx, p.Name)
			return requests(ptrs(pubs)), err
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// While a program's spec is not valid, its last revision's rules
		// decide.
		Watches(&v1alpha1.RewardsProgramRevision{}, mapper(r.Client, func(ctx context.Context, rel relations, rev *v1alpha1.RewardsProgramRevision) (
			[]reconcile.Request, error) {
			pubs, err := rel.publishersOfProgram(ctx, rev.Spec.Program)
			return requests(ptrs(pubs)), err
		})).
		// A revocation recorded in a grant enters the publisher's history.
		Watches(&v1alpha1.BenefitGrant{}, mapper(r.Client, func(_ context.Context, _ relations, g *v1alpha1.BenefitGrant) ([]reconcile.Request, error) {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Spec.Publisher}}}, nil
		}), builder.WithPredicates(predicate.Funcs{
			CreateFunc:  func(e event.CreateEvent) bool { return e.Object.(*v1alpha1.BenefitGrant).Spec.Revocation != nil },
			DeleteFunc:  func(e event.DeleteEvent) bool { return e.Object.(*v1alpha1.BenefitGrant).Spec.Revocation != nil },
			GenericFunc: func(event.GenericEvent) bool { return false },
			UpdateFunc: func(e event.UpdateEvent) bool {
				old, cur := e.ObjectOld.(*v1alpha1.BenefitGrant), e.ObjectNew.(*v1alpha1.BenefitGrant)
				return old.Spec.Revocation == nil && cur.Spec.Revocation != nil
			},
		})).
		WatchesRawSource(r.wakeups.Source()).
		Complete(observed("publisher", r, r.Observer))
}
