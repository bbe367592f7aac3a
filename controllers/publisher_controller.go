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
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/status"
)

// PublisherReconciler computes a publisher's billed sales, seats, tier and
// progress to the next tier from its offers and sales records (rules
// S1–S7), and its standing (P5).
type PublisherReconciler struct {
	Client client.Client
	// Gather reads a publisher's program, sales facts (shared with its
	// activations through Gather.Sales) and grants, from the cache.
	Gather   gather.Gatherer
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
}

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=publishers,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=publishers/status,verbs=patch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitgrants,verbs=get;list;watch

// Reconcile computes a publisher's status.
func (r *PublisherReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if err := r.Upgraded.wait(ctx); err != nil {
		return ctrl.Result{}, err
	}
	f := frame[v1alpha1.Publisher, *v1alpha1.Publisher]{client: r.Client, clock: r.Clock, wakeups: r.wakeups,
		statusOf: func(p *v1alpha1.Publisher) any { return p.Status }, forget: r.Gather.Sales.Forget}
	return f.run(ctx, req, r.decide)
}

// decide sets a publisher's status: its sales, tier and progress to the
// next (S1–S7), its standing (P5) and its revocation history (R6, R8).
func (r *PublisherReconciler) decide(ctx context.Context, pub *v1alpha1.Publisher, now time.Time) (outcome[*v1alpha1.Publisher], error) {
	var out outcome[*v1alpha1.Publisher]
	in, err := r.Gather.Publisher(ctx, pub, now)
	if err != nil {
		return out, err
	}
	prog, res, detail := in.Program, in.Tier, in.Detail
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
	st.Revocations, st.RevocationCount = rewards.RevocationHistory(in.Grants, rewards.RevocationHistoryLimit)

	ready := rewards.PublisherReadiness(prog, res, salesTooLarge, nextChangeTooLate)
	status.SetCondition(&st.Conditions, now, pub.Generation, v1alpha1.ConditionReady, status.Bool(ready.Ready), ready.Reason, ready.Message)
	out.next = res.NextChangeAt
	out.announce = func(before *v1alpha1.Publisher) { r.recordEvents(pub, before.Status, res, prog.Rules.Currency, ready) }
	return out, nil
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
	r.wakeups = scheduler.NewWakeups(r.Clock, r.ResyncPeriod, cachedKeys(mgr.GetCache(), &v1alpha1.Publisher{}, &v1alpha1.PublisherList{}))
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Publisher{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("publisher").
		// An offer or sales line changing changes the publisher's sales
		// facts.
		Watches(&v1alpha1.Offer{}, salesEvents(r.Client, r.Gather.Sales, queuePublisher[*v1alpha1.Offer]),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.SalesRecord{}, salesEvents(r.Client, r.Gather.Sales, queuePublisher[*v1alpha1.SalesRecord]),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.RewardsProgram{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, p *v1alpha1.RewardsProgram) (
			[]reconcile.Request, error) {
			pubs, err := rel.PublishersOfProgram(ctx, p.Name)
			return requests(ptrs(pubs)), err
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// While a program's spec is not valid, its last revision's rules
		// decide.
		Watches(&v1alpha1.RewardsProgramRevision{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, rev *v1alpha1.RewardsProgramRevision) (
			[]reconcile.Request, error) {
			// A valid spec's rules are its own, whatever its revisions:
			// then a revision written (as every valid spec's is) changes
			// nothing a publisher shows.
			if prog, err := r.Gather.Programs.State(ctx, rev.Spec.Program); err != nil || prog.Problem == "" {
				return nil, err
			}
			pubs, err := rel.PublishersOfProgram(ctx, rev.Spec.Program)
			return requests(ptrs(pubs)), err
		})).
		// A revocation recorded in a grant enters the publisher's history.
		Watches(&v1alpha1.BenefitGrant{}, mapper(r.Client, func(_ context.Context, _ gather.Relations, g *v1alpha1.BenefitGrant) ([]reconcile.Request, error) {
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

// queuePublisher queues the publisher whose offer or sales line changed.
func queuePublisher[T client.Object](_ context.Context, _ gather.Relations, pub types.NamespacedName, _ T) ([]reconcile.Request, error) {
	return []reconcile.Request{{NamespacedName: pub}}, nil
}
