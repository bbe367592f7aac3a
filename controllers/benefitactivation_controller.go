package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// BenefitActivationReconciler runs the life of an activation: Pending until
// every prerequisite holds, Active with its contact and expiry instants,
// then Expired, Revoked or OptedOut (rules O3–O6, B1–B5, R1–R5).
type BenefitActivationReconciler struct {
	Client   client.Client
	Clock    clock.WithDelayedExecution
	Recorder events.EventRecorder
	wakeups  *Wakeups
}

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitactivations,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitactivations/status,verbs=patch

// Reconcile computes an activation's status.
func (r *BenefitActivationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var act v1alpha1.BenefitActivation
	if found, err := getOptional(ctx, r.Client, req.NamespacedName, &act); err != nil || !found {
		if !found && err == nil {
			r.wakeups.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	before := act.DeepCopy()
	in, err := r.gather(ctx, &act)
	if err != nil {
		return ctrl.Result{}, err
	}
	d := rewards.DecideActivation(in)

	st := &act.Status
	st.ObservedGeneration = act.Generation
	st.Phase = d.Phase
	st.Category = d.Category
	if in.Offer != nil {
		st.Publisher = in.Offer.Spec.PublisherRef.Name
	}
	st.ActivatedAt = metaTime(d.ActivatedAt)
	st.ContactDueBy = metaTime(d.ContactDueBy)
	st.ExpiresAt = metaTime(d.ExpiresAt)
	st.ExpiredAt = metaTime(d.ExpiredAt)
	st.Revocation = d.Revocation
	setCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionReady, boolStatus(d.Ready), d.Reason, d.Message)
	terminal := d.Phase == v1alpha1.ActivationExpired || d.Phase == v1alpha1.ActivationRevoked
	if terminal {
		setCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionStalled, metav1.ConditionTrue, d.Reason, d.Message)
	}
	if d.ContactReason != "" {
		setCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionContactOverdue, boolStatus(d.ContactOverdue), d.ContactReason, d.ContactMessage)
	} else if d.ActivatedAt == nil {
		// Never (or, after losing a one-time benefit to an older sibling,
		// no longer) activated: there is no contact obligation to show.
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionContactOverdue)
	}

	changed, err := patchStatusIfChanged(ctx, r.Client, before, &act, func(o client.Object) any { return o.(*v1alpha1.BenefitActivation).Status })
	if err != nil {
		return ctrl.Result{}, err
	}
	if changed {
		r.recordTransition(&act, before.Status, d)
	}
	r.wakeups.At(&act, d.NextCheck)
	return ctrl.Result{}, nil
}

// recordTransition emits the Event of a phase change or an overdue contact.
func (r *BenefitActivationReconciler) recordTransition(act *v1alpha1.BenefitActivation, old v1alpha1.BenefitActivationStatus, d rewards.ActivationDecision) {
	if old.Phase != d.Phase {
		switch d.Phase {
		case v1alpha1.ActivationActive:
			r.Recorder.Eventf(act, nil, corev1.EventTypeNormal, "Activated", "Activate", "%s", d.Message)
		case v1alpha1.ActivationExpired:
			r.Recorder.Eventf(act, nil, corev1.EventTypeNormal, "Expired", "Expire", "%s", d.Message)
		case v1alpha1.ActivationRevoked:
			r.Recorder.Eventf(act, nil, corev1.EventTypeWarning, "Revoked", "Revoke", "%s", d.Message)
		case v1alpha1.ActivationOptedOut:
			r.Recorder.Eventf(act, nil, corev1.EventTypeNormal, "OptedOut", "OptOut", "%s", d.Message)
		}
	}
	// What admission cannot check (a missing offer, publisher or program, an
	// invalid program, a benefit not in the catalog) shows as a condition
	// and an Event, as DESIGN.md asks; other Pending reasons are ordinary
	// waiting and only show in the condition.
	if d.Phase == v1alpha1.ActivationPending && readyReason(old.Conditions) != d.Reason {
		switch d.Reason {
		case rewards.ReasonOfferNotFound, rewards.ReasonPublisherNotFound, rewards.ReasonProgramNotFound,
			rewards.ReasonProgramInvalid, rewards.ReasonUnknownBenefit:
			r.Recorder.Eventf(act, nil, corev1.EventTypeWarning, d.Reason, "Evaluate", "%s", d.Message)
		}
	}
	wasOverdue := false
	for _, c := range old.Conditions {
		if c.Type == v1alpha1.ConditionContactOverdue && c.Status == metav1.ConditionTrue {
			wasOverdue = true
		}
	}
	if d.ContactOverdue && !wasOverdue {
		r.Recorder.Eventf(act, nil, corev1.EventTypeWarning, "ContactOverdue", "Contact", "%s", d.ContactMessage)
	}
}

// gather reads everything the decision depends on from the cache.
func (r *BenefitActivationReconciler) gather(ctx context.Context, act *v1alpha1.BenefitActivation) (rewards.ActivationInput, error) {
	in := rewards.ActivationInput{Activation: act, Now: r.Clock.Now()}
	rel := relations{r.Client}
	offer, err := rel.offer(ctx, act.Namespace, act.Spec.OfferRef.Name)
	if err != nil || offer == nil {
		return in, err
	}
	in.Offer = offer
	if in.Siblings, err = rel.activationsOfOffer(ctx, act.Namespace, offer.Name); err != nil {
		return in, err
	}
	pub, prog, err := rel.publisherAndProgram(ctx, act.Namespace, offer.Spec.PublisherRef.Name)
	if err != nil || pub == nil {
		return in, err
	}
	in.Publisher = pub
	in.Program = rewards.ProgramState{Name: prog.name, Rules: prog.rules, Missing: prog.program == nil}
	if len(prog.problems) > 0 {
		in.Program.Problem = prog.problems[0].Message
	}
	offers, err := rel.offersOfPublisher(ctx, pub.Namespace, pub.Name)
	if err != nil {
		return in, err
	}
	records, err := rel.recordsOfPublisher(ctx, pub.Namespace, offers)
	if err != nil {
		return in, err
	}
	in.Sales = rewards.SalesFactsFor(prog.rules, offers, records, in.Now)
	return in, nil
}

// SetupWithManager registers the controller and what it watches: anything
// an activation's decision reads.
func (r *BenefitActivationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.wakeups = NewWakeups(r.Clock)
	activationsOfOffers := func(ctx context.Context, rel relations, offers []v1alpha1.Offer) ([]reconcile.Request, error) {
		var reqs []reconcile.Request
		for i := range offers {
			acts, err := rel.activationsOfOffer(ctx, offers[i].Namespace, offers[i].Name)
			if err != nil {
				return reqs, err
			}
			reqs = append(reqs, requests(ptrs(acts))...)
		}
		return reqs, nil
	}
	ofPublisher := func(ctx context.Context, rel relations, namespace, publisher string) ([]reconcile.Request, error) {
		offers, err := rel.offersOfPublisher(ctx, namespace, publisher)
		if err != nil {
			return nil, err
		}
		return activationsOfOffers(ctx, rel, offers)
	}
	specChanged := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.BenefitActivation{}, specChanged).
		Named("benefitactivation").
		// B3: an activation appearing or going away changes who used a
		// one-time benefit first.
		Watches(&v1alpha1.BenefitActivation{}, mapper(r.Client, func(ctx context.Context, rel relations, a *v1alpha1.BenefitActivation) ([]reconcile.Request, error) {
			acts, err := rel.activationsOfOffer(ctx, a.Namespace, a.Spec.OfferRef.Name)
			return requests(ptrs(acts)), err
		}), builder.WithPredicates(predicate.Funcs{UpdateFunc: func(event.UpdateEvent) bool { return false }})).
		Watches(&v1alpha1.Offer{}, mapper(r.Client, func(ctx context.Context, rel relations, o *v1alpha1.Offer) ([]reconcile.Request, error) {
			return activationsOfOffers(ctx, rel, []v1alpha1.Offer{*o})
		}), specChanged).
		Watches(&v1alpha1.Publisher{}, mapper(r.Client, func(ctx context.Context, rel relations, p *v1alpha1.Publisher) ([]reconcile.Request, error) {
			return ofPublisher(ctx, rel, p.Namespace, p.Name)
		}), specChanged).
		// Sales decide the tier (B2), fraud (R3) and cancellations (R4).
		Watches(&v1alpha1.SalesRecord{}, mapper(r.Client, func(ctx context.Context, rel relations, s *v1alpha1.SalesRecord) ([]reconcile.Request, error) {
			offer, err := rel.offer(ctx, s.Namespace, s.Spec.OfferRef.Name)
			if err != nil || offer == nil {
				return nil, err
			}
			return ofPublisher(ctx, rel, s.Namespace, offer.Spec.PublisherRef.Name)
		}), specChanged).
		Watches(&v1alpha1.RewardsProgram{}, mapper(r.Client, func(ctx context.Context, rel relations, p *v1alpha1.RewardsProgram) ([]reconcile.Request, error) {
			offers, err := offersOfProgram(ctx, rel, p)
			if err != nil {
				return nil, err
			}
			return activationsOfOffers(ctx, rel, offers)
		}), specChanged).
		WatchesRawSource(r.wakeups.Source()).
		Complete(r)
}
