package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

// OfferReconciler derives an offer's phase (Scheduled, Live, Delisted at the
// exact instants), engagement window, benefit expiry and ISV Connect
// eligibility.
type OfferReconciler struct {
	Client   client.Client
	Clock    clock.WithDelayedExecution
	Recorder events.EventRecorder
	// Programs resolves the rules in force.
	Programs *records.Programs
	// ResyncPeriod is how often an object is reconciled with no event, so
	// that a status wiped or edited by anyone else is repaired.
	ResyncPeriod time.Duration
	// APIReader reads from the API server, bypassing the cache: only to
	// confirm a follow-up hint before it first appears.
	APIReader client.Reader
	// Observer, if set, is told of every finished reconcile.
	Observer ReconcileObserver
	wakeups  *scheduler.Wakeups
}

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=offers,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=offers/status,verbs=patch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=publishers,verbs=get;list;watch

// Reconcile computes an offer's status.
func (r *OfferReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	f := frame[v1alpha1.Offer, *v1alpha1.Offer]{client: r.Client, clock: r.Clock, wakeups: r.wakeups,
		statusOf: func(o *v1alpha1.Offer) any { return o.Status }}
	return f.run(ctx, req, r.decide)
}

// decide sets an offer's status: its phase, engagement window, benefit
// expiry and follow-up hint (O1–O7).
func (r *OfferReconciler) decide(ctx context.Context, offer *v1alpha1.Offer, now time.Time) (outcome[*v1alpha1.Offer], error) {
	var out outcome[*v1alpha1.Offer]
	pub, prog, err := gather.Relations{Reader: r.Client}.PublisherAndProgram(ctx, r.Programs, offer.Namespace, offer.Spec.PublisherRef.Name)
	if err != nil {
		return out, err
	}

	facts := rewards.EvaluateOffer(&offer.Spec, prog.Rules, now)
	st := &offer.Status
	hint, err := r.followUpHint(ctx, offer, prog, now, st.FollowUpHint == "")
	if err != nil {
		return out, err
	}
	st.ObservedGeneration = offer.Generation
	st.Phase = facts.Phase
	engagementEnds, endsTooLate := rewards.StatusInstant("status.engagementEndsAt", facts.EngagementEndsAt)
	st.EngagementEndsAt = status.Time(engagementEnds)
	st.EngagementEvergreen = facts.Evergreen
	expires, expiresTooLate := rewards.StatusInstant("status.benefitsExpireAt", facts.BenefitsExpireAt)
	st.BenefitsExpireAt = status.Time(expires)
	st.ISVConnectEligible = facts.ISVConnect
	st.Microsoft365App = facts.Microsoft365App
	st.FollowUpHint = hint.text
	// Always shown, True or False, so that the status is the same however
	// it was reached (a status rebuilt after a wipe included).
	if hint.needed {
		status.SetCondition(&st.Conditions, now, offer.Generation, v1alpha1.ConditionFollowUpNeeded, metav1.ConditionTrue, v1alpha1.ReasonNotContacted, hint.text)
	} else {
		status.SetCondition(&st.Conditions, now, offer.Generation, v1alpha1.ConditionFollowUpNeeded, metav1.ConditionFalse,
			v1alpha1.ReasonNotNeeded, "no follow-up needed")
	}

	ready := rewards.OfferReadiness(offer, pub != nil, prog, facts, endsTooLate, expiresTooLate)
	status.SetCondition(&st.Conditions, now, offer.Generation, v1alpha1.ConditionReady, status.Bool(ready.Ready), ready.Reason, ready.Message)
	out.next = earliestOf(facts.NextChange, hint.at)
	out.announce = func(before *v1alpha1.Offer) { r.recordEvents(offer, before.Status, facts.Phase, hint, ready) }
	return out, nil
}

// followUp is an offer's follow-up hint (O5): whether it is needed, its
// text, and when it would next appear by itself.
type followUp struct {
	needed bool
	text   string
	at     *time.Time
}

// followUpHint computes the hint from the offer's activations in the cache.
// When it is about to appear (appearing), with an Event, the cache may not
// hold yet an activation created with (or just before) the offer, whose
// contactedAt would contradict both: it is confirmed with the API server.
// That read happens when the hint would appear, not at every reconcile;
// once the cache catches up, the activation's own event reconciles the
// offer again.
func (r *OfferReconciler) followUpHint(ctx context.Context, offer *v1alpha1.Offer, prog rewards.ProgramState, now time.Time, appearing bool) (followUp, error) {
	activations, err := gather.Relations{Reader: r.Client}.ActivationsOfOffer(ctx, offer.Namespace, offer.Name)
	if err != nil {
		return followUp{}, err
	}
	var h followUp
	h.needed, h.text, h.at = rewards.FollowUpHint(offer, activations, prog.Rules, now)
	if !h.needed || !appearing {
		return h, nil
	}
	if activations, err = (gather.Relations{Reader: r.APIReader}).ActivationsOfOffer(ctx, offer.Namespace, offer.Name); err != nil {
		return followUp{}, err
	}
	h.needed, h.text, h.at = rewards.FollowUpHint(offer, activations, prog.Rules, now)
	return h, nil
}

// recordEvents emits the Events of a changed status: a reference admission
// could not check, a phase change, the follow-up hint appearing.
func (r *OfferReconciler) recordEvents(offer *v1alpha1.Offer, old v1alpha1.OfferStatus, phase v1alpha1.OfferPhase, hint followUp, ready rewards.Readiness) {
	if !ready.Ready && status.ReadyReason(old.Conditions, v1alpha1.ConditionReady) != ready.Reason {
		r.Recorder.Eventf(offer, nil, corev1.EventTypeWarning, ready.Reason, "Evaluate", "%s", ready.Message)
	}
	if old.Phase != "" && old.Phase != phase {
		r.Recorder.Eventf(offer, nil, corev1.EventTypeNormal, string(phase), "Evaluate", "offer is now %s", phase)
	}
	if hint.needed && old.FollowUpHint == "" {
		r.Recorder.Eventf(offer, nil, corev1.EventTypeNormal, v1alpha1.EventFollowUpNeeded, "Evaluate", "%s", hint.text)
	}
}

// SetupWithManager registers the controller and what it watches.
func (r *OfferReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.wakeups = scheduler.NewWakeups(r.Clock, r.ResyncPeriod, cachedKeys(mgr.GetCache(), &v1alpha1.Offer{}, &v1alpha1.OfferList{}))
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Offer{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("offer").
		// A publisher appearing, disappearing or switching program.
		Watches(&v1alpha1.Publisher{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, p *v1alpha1.Publisher) ([]reconcile.Request, error) {
			offers, err := rel.OffersOfPublisher(ctx, p.Namespace, p.Name)
			return requests(ptrs(offers)), err
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Program durations decide engagement and expiry.
		Watches(&v1alpha1.RewardsProgram{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, p *v1alpha1.RewardsProgram) (
			[]reconcile.Request, error) {
			offers, err := offersOfProgram(ctx, rel, p.Name)
			return requests(ptrs(offers)), err
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// O5: recording contactedAt on an activation clears the hint.
		Watches(&v1alpha1.BenefitActivation{}, mapper(r.Client, func(_ context.Context, _ gather.Relations, a *v1alpha1.BenefitActivation) (
			[]reconcile.Request, error) {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: a.Namespace, Name: a.Spec.OfferRef.Name}}}, nil
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(r.wakeups.Source()).
		Complete(observed("offer", r, r.Observer))
}
