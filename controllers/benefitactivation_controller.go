package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/keylock"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/status"
)

// BenefitActivationReconciler runs the life of an activation: Pending until
// every prerequisite holds, Active with its contact and expiry instants,
// then Expired, Revoked or OptedOut (rules O3–O6, B1–B5, R1–R6). What must
// last (that the benefit was granted, when, and that it was revoked) it
// records in the activation's BenefitGrant before it shows it in status,
// and the status is read back from that grant.
type BenefitActivationReconciler struct {
	Client client.Client
	// Gather reads a decision's inputs from the cache; Fresh reads what B3
	// decides on from the API server, before a one-time grant.
	Gather, Fresh gather.Gatherer
	// Grants writes the record: grants and revocations.
	Grants records.Grants
	// Clock is the program's clock: activatedAt, expiry, contact due.
	Clock clock.WithDelayedExecution
	// WallClock is the real time, against which an activation's
	// creationTimestamp (the API server's own clock) is judged before a
	// one-time grant (B3); the program's Clock may be a test's.
	WallClock clock.PassiveClock
	Recorder  events.EventRecorder
	// ResyncPeriod is how often an object is reconciled with no event, so
	// that a status wiped or edited by anyone else is repaired.
	ResyncPeriod time.Duration
	// Observer, if set, is told of every finished reconcile.
	Observer ReconcileObserver
	// Upgraded, if set, is waited for before anything is decided: the
	// conversion of the records earlier versions wrote (upgradeRecords).
	Upgraded *upgradeGate
	// SalesChanged hears of the publishers whose sales facts changed in a
	// way their Transact activations read (gather.SalesMemo.OnChange).
	SalesChanged <-chan event.GenericEvent
	wakeups      *scheduler.Wakeups
	// oneTimeGrants serialises the grants of one one-time benefit of one
	// offer (B3) across concurrent workers.
	oneTimeGrants keylock.Locks
	// lost remembers the grants the garbage collector deletes while an
	// activation owns them (Gather.Lost reads them).
	lost *lostGrants
}

// oneTimeSettle is how long after its creation second an activation
// waits before it is granted a one-time benefit (B3): the creation second
// over, and one more for the clocks of the operator and the API server to
// differ and for a sibling's create to finish. A sibling created in the
// same second is then in the API server, and the one whose name sorts
// first gets the benefit, whichever the operator saw first.
const oneTimeSettle = 2 * time.Second

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitactivations,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitactivations/status,verbs=patch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitgrants,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=rewardsprogramrevisions,verbs=get;list;watch

// Reconcile computes an activation's status, recording a grant or a
// revocation first when the decision needs one.
func (r *BenefitActivationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if err := r.Upgraded.wait(ctx); err != nil {
		return ctrl.Result{}, err
	}
	f := frame[v1alpha1.BenefitActivation, *v1alpha1.BenefitActivation]{client: r.Client, clock: r.Clock, wakeups: r.wakeups,
		statusOf: func(a *v1alpha1.BenefitActivation) any { return a.Status }}
	return f.run(ctx, req, r.decide)
}

// decide gathers, decides (rewards.DecideActivation), records in the grant
// what must last, and sets the status read back from it.
func (r *BenefitActivationReconciler) decide(ctx context.Context, act *v1alpha1.BenefitActivation, now time.Time) (
	outcome[*v1alpha1.BenefitActivation], error) {
	var out outcome[*v1alpha1.BenefitActivation]
	in, err := r.Gather.Activation(ctx, act, now)
	if err != nil {
		return out, err
	}
	d := rewards.DecideActivation(in)
	if !d.Record.IsZero() {
		// Nothing is shown until the grant is decided (waiting): the
		// activation is looked at again then, or as soon as what it waits
		// for appears.
		if in, out.wait, err = r.record(ctx, act, in, d.Record); err != nil || out.wait != nil {
			return out, err
		}
		// The status is read back from what is now recorded.
		d = rewards.DecideActivation(in)
	}
	showDecision(act, in, d)
	out.next = d.NextCheck
	out.announce = func(before *v1alpha1.BenefitActivation) { r.recordTransition(act, before.Status, d) }
	return out, nil
}

// showDecision sets an activation's status to what the decision d, made
// on in, says.
func showDecision(act *v1alpha1.BenefitActivation, in rewards.ActivationInput, d rewards.ActivationDecision) {
	st := &act.Status
	st.ObservedGeneration = act.Generation
	st.Phase = d.Phase
	st.Category = d.Category
	switch {
	case in.Offer != nil:
		st.Publisher = in.Offer.Spec.PublisherRef.Name
	case in.Grant != nil:
		st.Publisher = in.Grant.Spec.Publisher
	}
	st.ActivatedAt = status.Time(d.ActivatedAt)
	st.ContactDueBy = status.Time(d.ContactDueBy)
	st.ExpiresAt = status.Time(d.ExpiresAt)
	st.ExpiredAt = status.Time(d.ExpiredAt)
	st.Revocation = d.Revocation.Status()
	status.SetCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionReady, status.Bool(d.Ready), d.Reason, d.Message)
	// Stalled means what Flux and kstatus mean by it: it will not get
	// better by itself and needs a person. A revoked benefit does; an
	// expired one ran its course (Ready=True, no Stalled).
	if d.Phase == v1alpha1.ActivationRevoked {
		status.SetCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionStalled, metav1.ConditionTrue, d.Reason, d.Message)
	} else {
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionStalled)
	}
	if d.ContactReason != "" {
		status.SetCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionContactOverdue, status.Bool(d.ContactOverdue),
			d.ContactReason, d.ContactMessage)
	} else {
		// Only an Active benefit has a contact obligation to show; keeping
		// an old one would make the status depend on its history.
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionContactOverdue)
	}

}

// record writes what the decision needs recorded in the activation's
// BenefitGrant, and returns the input with the grant as now stored. A
// grant that must wait (a one-time benefit whose creation is not settled,
// rules whose revision is not recorded yet) is not created: waiting is
// then the result that looks at the activation again.
func (r *BenefitActivationReconciler) record(ctx context.Context, act *v1alpha1.BenefitActivation,
	in rewards.ActivationInput, rec rewards.Record) (_ rewards.ActivationInput, waiting *ctrl.Result, _ error) {
	if rec.Revoke != nil {
		grant, err := r.Grants.Revoke(ctx, in.Grant, *rec.Revoke)
		if err != nil {
			return in, nil, fmt.Errorf("recording the revocation in BenefitGrant %s: %w", in.Grant.Name, err)
		}
		r.Recorder.Eventf(act, grant, corev1.EventTypeWarning, v1alpha1.EventRevoked, "Revoke", "revoked (%s): %s", rec.Revoke.Reason, rec.Revoke.Message)
		in.Grant = grant
		return in, nil, nil
	}

	// A grant names the rules it was granted under: they are recorded
	// first (the RewardsProgram controller writes the revision, and its
	// creation requeues this activation).
	if recorded, err := r.revisionRecorded(ctx, in.Program.Revision); err != nil || !recorded {
		return in, &ctrl.Result{RequeueAfter: revisionWait}, err
	}
	if in.Offer.Spec.ListingType != v1alpha1.ListingTypeTransact {
		// B3: a one-time benefit is granted once per offer, and a grant
		// cannot be taken back. A sibling created in the same second may
		// not be in the API server yet: wait until it must be.
		if settled := act.CreationTimestamp.Add(oneTimeSettle); r.WallClock.Now().Before(settled) {
			return in, &ctrl.Result{RequeueAfter: settled.Sub(r.WallClock.Now())}, nil
		}
		// Two workers granting siblings at once would both see none
		// granted: one grant of a benefit and offer is decided at a time.
		// And the cache may not yet hold a sibling created (or granted) a
		// moment ago, so ask the API server.
		unlock := r.oneTimeGrants.Lock(act.Namespace + "/" + act.Spec.OfferRef.Name + "/" + act.Spec.Benefit)
		defer unlock()
		fresh, err := r.Fresh.OneTimeUse(ctx, act, in)
		if err != nil {
			return in, nil, err
		}
		if d := rewards.DecideActivation(fresh); d.Record.Create == nil {
			return fresh, nil, nil
		}
	}
	grant, err := r.Grants.Create(ctx, act, *rec.Create)
	if apierrors.IsAlreadyExists(err) {
		// The cache had not seen it yet: read the grant that exists.
		found, err := r.Fresh.Grants.Of(ctx, act)
		in.Grant, in.NameHeldBy = found.Grant, found.NameHeldBy
		return in, nil, err
	}
	if err != nil {
		return in, nil, fmt.Errorf("creating BenefitGrant %s: %w", act.Name, err)
	}
	r.Recorder.Eventf(act, grant, corev1.EventTypeNormal, v1alpha1.EventActivated, "Activate",
		"%s benefit %q is active for offer %q, recorded in BenefitGrant %s", grant.Spec.Category, grant.Spec.Benefit, grant.Spec.Offer, grant.Name)
	in.Grant, in.NameHeldBy = grant, nil
	return in, nil, nil
}

// revisionWait is when an activation whose grant waits for the revision of
// its rules is looked at again, should the revision's creation (which
// queues it at once) go unheard.
const revisionWait = 10 * time.Second

// revisionRecorded reports whether the RewardsProgramRevision of the rules
// in force exists (in the cache).
func (r *BenefitActivationReconciler) revisionRecorded(ctx context.Context, revision string) (bool, error) {
	var rev v1alpha1.RewardsProgramRevision
	return gather.GetOptional(ctx, r.Client, types.NamespacedName{Name: revision}, &rev, gather.ReadOnly)
}

// recordTransition emits the Events of a status change that no grant write
// announced already: a phase reached without a grant write (Expired,
// OptedOut, a Pending activation revoked by delisting), a missing reference,
// an overdue contact. A status rebuilt after it was wiped (no phase before)
// announces nothing: nothing happened.
func (r *BenefitActivationReconciler) recordTransition(act *v1alpha1.BenefitActivation, old v1alpha1.BenefitActivationStatus, d rewards.ActivationDecision) {
	if old.Phase != "" && old.Phase != d.Phase {
		switch d.Phase {
		case v1alpha1.ActivationExpired:
			r.Recorder.Eventf(act, nil, corev1.EventTypeNormal, v1alpha1.EventExpired, "Expire", "%s", d.Message)
		case v1alpha1.ActivationRevoked:
			if d.Revocation != nil && d.Revocation.RecordedAt == nil { // a grant's revocation has its own Event
				r.Recorder.Eventf(act, nil, corev1.EventTypeWarning, v1alpha1.EventRevoked, "Revoke", "%s", d.Message)
			}
		case v1alpha1.ActivationOptedOut:
			r.Recorder.Eventf(act, nil, corev1.EventTypeNormal, v1alpha1.EventOptedOut, "OptOut", "%s", d.Message)
		}
	}
	// What admission cannot check (a missing offer, publisher or program, an
	// invalid program, a benefit not in the catalog, a name held by another
	// benefit's record) shows as a condition
	// and an Event, as docs/design.md says; other Pending reasons are ordinary
	// waiting and only show in the condition.
	if !d.Ready && status.ReadyReason(old.Conditions, v1alpha1.ConditionReady) != d.Reason {
		switch d.Reason {
		case v1alpha1.ReasonOfferNotFound, v1alpha1.ReasonPublisherNotFound, v1alpha1.ReasonProgramNotFound,
			v1alpha1.ReasonProgramInvalid, v1alpha1.ReasonUnknownBenefit, v1alpha1.ReasonNameHeldByGrant:
			r.Recorder.Eventf(act, nil, corev1.EventTypeWarning, d.Reason, "Evaluate", "%s", d.Message)
		}
	}
	wasOverdue := meta.IsStatusConditionTrue(old.Conditions, v1alpha1.ConditionContactOverdue)
	if d.ContactOverdue && !wasOverdue && old.Phase != "" {
		r.Recorder.Eventf(act, nil, corev1.EventTypeWarning, v1alpha1.EventContactOverdue, "Contact", "%s", d.ContactMessage)
	}
}

// transactOffers keeps the Transact offers of a list.
func transactOffers(offers []v1alpha1.Offer) []v1alpha1.Offer {
	var out []v1alpha1.Offer
	for i := range offers {
		if offers[i].Spec.ListingType == v1alpha1.ListingTypeTransact {
			out = append(out, offers[i])
		}
	}
	return out
}

// SetupWithManager registers the controller and what it watches: anything
// an activation's decision reads.
func (r *BenefitActivationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.wakeups = scheduler.NewWakeups(r.Clock, r.ResyncPeriod, cachedKeys(mgr.GetCache(), &v1alpha1.BenefitActivation{}, &v1alpha1.BenefitActivationList{}))
	activationsOfOffers := func(ctx context.Context, rel gather.Relations, offers []v1alpha1.Offer) ([]reconcile.Request, error) {
		var reqs []reconcile.Request
		for i := range offers {
			acts, err := rel.ActivationsOfOffer(ctx, offers[i].Namespace, offers[i].Name)
			if err != nil {
				return reqs, err
			}
			reqs = append(reqs, requests(ptrs(acts))...)
		}
		return reqs, nil
	}
	ofPublisher := func(ctx context.Context, rel gather.Relations, namespace, publisher string, onlyTransact bool) ([]reconcile.Request, error) {
		offers, err := rel.OffersOfPublisher(ctx, namespace, publisher)
		if err != nil {
			return nil, err
		}
		if onlyTransact {
			offers = transactOffers(offers)
		}
		return activationsOfOffers(ctx, rel, offers)
	}
	specChanged := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.BenefitActivation{}, specChanged).
		Named("benefitactivation").
		// The grant is the record the status is read from; a grant created
		// or revoked also decides B3 for the siblings of a one-time benefit.
		// A grant the garbage collector deletes is remembered before the
		// activation of its name is queued (lostGrants).
		Watches(&v1alpha1.BenefitGrant{}, r.lost.remembering(mapper(r.Client, activationsOfGrant))).
		// B3: an activation appearing or going away changes who used a
		// one-time benefit first.
		Watches(&v1alpha1.BenefitActivation{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, a *v1alpha1.BenefitActivation) (
			[]reconcile.Request, error) {
			acts, err := rel.ActivationsOfOffer(ctx, a.Namespace, a.Spec.OfferRef.Name)
			return requests(ptrs(acts)), err
		}), builder.WithPredicates(predicate.Funcs{UpdateFunc: func(event.UpdateEvent) bool { return false }})).
		// An offer decides its own activations; a Transact offer (appearing,
		// going, changing) also the tier, so every Transact activation of
		// its publisher.
		Watches(&v1alpha1.Offer{}, salesEvents(r.Client, r.Gather.Sales, func(ctx context.Context, rel gather.Relations, pub types.NamespacedName,
			o *v1alpha1.Offer) ([]reconcile.Request, error) {
			reqs, err := activationsOfOffers(ctx, rel, []v1alpha1.Offer{*o})
			if err != nil || o.Spec.ListingType != v1alpha1.ListingTypeTransact {
				return reqs, err
			}
			more, err := ofPublisher(ctx, rel, pub.Namespace, pub.Name, true)
			return append(reqs, more...), err
		}), specChanged).
		Watches(&v1alpha1.Publisher{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, p *v1alpha1.Publisher) ([]reconcile.Request, error) {
			return ofPublisher(ctx, rel, p.Namespace, p.Name, false)
		}), specChanged).
		Watches(&v1alpha1.RewardsProgram{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, p *v1alpha1.RewardsProgram) (
			[]reconcile.Request, error) {
			offers, err := offersOfProgram(ctx, rel, p.Name)
			if err != nil {
				return nil, err
			}
			return activationsOfOffers(ctx, rel, offers)
		}), specChanged).
		// A grant waits for the revision of its rules; and while a
		// program's spec is not valid, its last revision's rules decide.
		Watches(&v1alpha1.RewardsProgramRevision{}, mapper(r.Client, func(ctx context.Context, rel gather.Relations, rev *v1alpha1.RewardsProgramRevision) (
			[]reconcile.Request, error) {
			offers, err := offersOfProgram(ctx, rel, rev.Spec.Program)
			if err != nil {
				return nil, err
			}
			return activationsOfOffers(ctx, rel, offers)
		})).
		WatchesRawSource(r.wakeups.Source())
	if r.SalesChanged != nil {
		// Sales decide the tier (B2), fraud (R3) and cancellations (R4):
		// Transact benefits only. A publisher's Transact activations are
		// reconciled when its sales facts change in a way they read.
		b = b.WatchesRawSource(source.Channel(r.SalesChanged, mapper(r.Client, func(ctx context.Context, rel gather.Relations, p *v1alpha1.Publisher) (
			[]reconcile.Request, error) {
			return ofPublisher(ctx, rel, p.Namespace, p.Name, true)
		})))
	}
	return b.Complete(observed("benefitactivation", r, r.Observer))
}

// activationsOfGrant: the activation of a grant's name, and the
// activations of its offer (a granted one-time benefit is used, B3).
func activationsOfGrant(ctx context.Context, rel gather.Relations, g *v1alpha1.BenefitGrant) ([]reconcile.Request, error) {
	acts, err := rel.ActivationsOfOffer(ctx, g.Namespace, g.Spec.Offer)
	reqs := requests(ptrs(acts))
	return append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Name}}), err
}
