package controllers

import (
	"context"
	"errors"
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
	// APIReader reads from the API server, not the cache: used only before
	// granting a one-time benefit (B3).
	APIReader client.Reader
	// Grants reads grants from the cache and writes them; FreshGrants
	// reads them from the API server, for the B3 check before a one-time
	// grant.
	Grants, FreshGrants records.Grants
	// Programs resolves the rules in force.
	Programs *records.Programs
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
	wakeups  *scheduler.Wakeups
	// oneTimeGrants serialises the grants of one one-time benefit of one
	// offer (B3) across concurrent workers.
	oneTimeGrants keyedMutex
	// sales shares each publisher's sales facts with the publisher's
	// reconcile.
	sales *salesMemo
	// lost are the grants the garbage collector deleted while an
	// activation owned them, until they are written again.
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
	if !d.Record.IsZero() {
		var wait time.Duration
		if in, wait, err = r.record(ctx, &act, in, d.Record); err != nil {
			return resultOf(err)
		}
		if wait > 0 {
			// Nothing is shown until the grant is decided: the
			// activation is looked at again then, or as soon as what it
			// waits for appears.
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		// The status is read back from what is now recorded.
		d = rewards.DecideActivation(in)
	}

	showDecision(&act, in, d)

	changed, err := status.PatchIfChanged(ctx, r.Client, before, &act, func(o client.Object) any { return o.(*v1alpha1.BenefitActivation).Status })
	if err != nil {
		return resultOf(err)
	}
	if changed {
		r.recordTransition(&act, before.Status, d)
	}
	r.wakeups.At(&act, in.Now, d.NextCheck)
	return ctrl.Result{}, nil
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
// rules whose revision is not recorded yet) is not created: wait says
// when to look again.
func (r *BenefitActivationReconciler) record(ctx context.Context, act *v1alpha1.BenefitActivation,
	in rewards.ActivationInput, rec rewards.Record) (_ rewards.ActivationInput, wait time.Duration, _ error) {
	if rec.Revoke != nil {
		grant, err := r.Grants.Revoke(ctx, in.Grant, *rec.Revoke)
		if err != nil {
			return in, 0, fmt.Errorf("recording the revocation in BenefitGrant %s: %w", in.Grant.Name, err)
		}
		r.Recorder.Eventf(act, grant, corev1.EventTypeWarning, v1alpha1.EventRevoked, "Revoke", "revoked (%s): %s", rec.Revoke.Reason, rec.Revoke.Message)
		in.Grant = grant
		return in, 0, nil
	}

	// A grant names the rules it was granted under: they are recorded
	// first (the RewardsProgram controller writes the revision, and its
	// creation requeues this activation).
	if recorded, err := r.revisionRecorded(ctx, in.Program.Revision); err != nil || !recorded {
		return in, 0, err
	}
	if in.Offer.Spec.ListingType != v1alpha1.ListingTypeTransact {
		// B3: a one-time benefit is granted once per offer, and a grant
		// cannot be taken back. A sibling created in the same second may
		// not be in the API server yet: wait until it must be.
		if settled := act.CreationTimestamp.Add(oneTimeSettle); r.WallClock.Now().Before(settled) {
			return in, settled.Sub(r.WallClock.Now()), nil
		}
		// Two workers granting siblings at once would both see none
		// granted: one grant of a benefit and offer is decided at a time.
		// And the cache may not yet hold a sibling created (or granted) a
		// moment ago, so ask the API server.
		unlock := r.oneTimeGrants.lock(act.Namespace + "/" + act.Spec.OfferRef.Name + "/" + act.Spec.Benefit)
		defer unlock()
		fresh, err := r.freshOneTimeUse(ctx, act, in)
		if err != nil {
			return in, 0, err
		}
		if d := rewards.DecideActivation(fresh); d.Record.Create == nil {
			return fresh, 0, nil
		}
	}
	grant, err := r.Grants.Create(ctx, act, *rec.Create)
	if apierrors.IsAlreadyExists(err) {
		// The cache had not seen it yet: read the grant that exists.
		found, err := r.FreshGrants.Of(ctx, act)
		in.Grant, in.NameHeldBy = found.Grant, found.NameHeldBy
		return in, 0, err
	}
	if err != nil {
		return in, 0, fmt.Errorf("creating BenefitGrant %s: %w", act.Name, err)
	}
	r.Recorder.Eventf(act, grant, corev1.EventTypeNormal, v1alpha1.EventActivated, "Activate",
		"%s benefit %q is active for offer %q, recorded in BenefitGrant %s", grant.Spec.Category, grant.Spec.Benefit, grant.Spec.Offer, grant.Name)
	in.Grant, in.NameHeldBy = grant, nil
	return in, 0, nil
}

// revisionRecorded reports whether the RewardsProgramRevision of the rules
// in force exists (in the cache).
func (r *BenefitActivationReconciler) revisionRecorded(ctx context.Context, revision string) (bool, error) {
	var rev v1alpha1.RewardsProgramRevision
	return getOptional(ctx, r.Client, types.NamespacedName{Name: revision}, &rev, readOnly)
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

// gather reads everything the decision depends on from the manager's cache.
func (r *BenefitActivationReconciler) gather(ctx context.Context, act *v1alpha1.BenefitActivation) (rewards.ActivationInput, error) {
	in := rewards.ActivationInput{Activation: act, Now: r.Clock.Now()}
	found, err := r.Grants.Of(ctx, act)
	if err != nil {
		return in, err
	}
	if found.Grant == nil && found.NameHeldBy == nil {
		// A grant deleted by the garbage collector is being written again
		// (BenefitGrantReconciler): it is still the record of this name.
		if lost := r.lost.get(client.ObjectKeyFromObject(act)); lost != nil {
			found = records.Lookup{Grant: lost}
			if !records.Belongs(lost, act) {
				found = records.Lookup{NameHeldBy: lost}
			}
		}
	}
	in.Grant, in.NameHeldBy = found.Grant, found.NameHeldBy
	rel := relations{r.Client}
	offer, err := rel.offer(ctx, act.Namespace, act.Spec.OfferRef.Name)
	if err != nil || offer == nil {
		return in, err
	}
	in.Offer = offer
	if in.Siblings, in.SiblingGrants, err = oneTimeInputs(ctx, rel, r.Grants, act, offer); err != nil {
		return in, err
	}
	pub, prog, err := rel.publisherAndProgram(ctx, r.Programs, act.Namespace, offer.Spec.PublisherRef.Name)
	if err != nil || pub == nil {
		return in, err
	}
	in.Publisher = pub
	in.Program = prog
	_, _, in.Sales, err = r.sales.facts(client.ObjectKeyFromObject(pub), prog, in.Now, rel.salesInputs(ctx, pub.Namespace, pub.Name))
	return in, err
}

// oneTimeInputs reads what B3 decides on through rel and grants
// (records.OneTimeInputs). A Transact offer's benefits are not one-time:
// only its activations are read.
func oneTimeInputs(ctx context.Context, rel relations, grants records.Grants, act *v1alpha1.BenefitActivation,
	offer *v1alpha1.Offer) ([]v1alpha1.BenefitActivation, []v1alpha1.BenefitGrant, error) {
	acts, err := rel.activationsOfOffer(ctx, act.Namespace, offer.Name)
	if err != nil || offer.Spec.ListingType == v1alpha1.ListingTypeTransact {
		return acts, nil, err
	}
	ofOffer, err := grants.OfOffer(ctx, act.Namespace, offer.Name)
	if err != nil {
		return nil, nil, err
	}
	return records.OneTimeInputs(ctx, grants, act, acts, ofOffer)
}

// freshOneTimeUse returns in with what B3 decides on read again from the
// API server: the activation's own grant, its siblings and the grants of
// its offer. The rest of the decision's input (offer, publisher, program,
// sales) stays as the cache showed it, as in any reconcile: reading it
// again would not make a one-time grant any safer. in.Offer is not nil.
func (r *BenefitActivationReconciler) freshOneTimeUse(ctx context.Context, act *v1alpha1.BenefitActivation,
	in rewards.ActivationInput) (rewards.ActivationInput, error) {
	found, err := r.FreshGrants.Of(ctx, act)
	if err != nil {
		return in, err
	}
	in.Grant, in.NameHeldBy = found.Grant, found.NameHeldBy
	in.Siblings, in.SiblingGrants, err = oneTimeInputs(ctx, relations{r.APIReader}, r.FreshGrants, act, in.Offer)
	return in, err
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
	r.wakeups = scheduler.NewWakeups(r.Clock, r.ResyncPeriod)
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
	ofPublisher := func(ctx context.Context, rel relations, namespace, publisher string, onlyTransact bool) ([]reconcile.Request, error) {
		offers, err := rel.offersOfPublisher(ctx, namespace, publisher)
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
		Watches(&v1alpha1.BenefitActivation{}, mapper(r.Client, func(ctx context.Context, rel relations, a *v1alpha1.BenefitActivation) ([]reconcile.Request, error) {
			acts, err := rel.activationsOfOffer(ctx, a.Namespace, a.Spec.OfferRef.Name)
			return requests(ptrs(acts)), err
		}), builder.WithPredicates(predicate.Funcs{UpdateFunc: func(event.UpdateEvent) bool { return false }})).
		// An offer decides its own activations; a Transact offer (appearing,
		// going, changing) also the tier, so every Transact activation of
		// its publisher.
		Watches(&v1alpha1.Offer{}, mapper(r.Client, func(ctx context.Context, rel relations, o *v1alpha1.Offer) ([]reconcile.Request, error) {
			r.sales.changed(types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.PublisherRef.Name}, o)
			reqs, err := activationsOfOffers(ctx, rel, []v1alpha1.Offer{*o})
			if err != nil || o.Spec.ListingType != v1alpha1.ListingTypeTransact {
				return reqs, err
			}
			more, err := ofPublisher(ctx, rel, o.Namespace, o.Spec.PublisherRef.Name, true)
			return append(reqs, more...), err
		}), specChanged).
		Watches(&v1alpha1.Publisher{}, mapper(r.Client, func(ctx context.Context, rel relations, p *v1alpha1.Publisher) ([]reconcile.Request, error) {
			return ofPublisher(ctx, rel, p.Namespace, p.Name, false)
		}), specChanged).
		Watches(&v1alpha1.RewardsProgram{}, mapper(r.Client, func(ctx context.Context, rel relations, p *v1alpha1.RewardsProgram) ([]reconcile.Request, error) {
			offers, err := offersOfProgram(ctx, rel, p.Name)
			if err != nil {
				return nil, err
			}
			return activationsOfOffers(ctx, rel, offers)
		}), specChanged).
		// A grant waits for the revision of its rules; and while a
		// program's spec is not valid, its last revision's rules decide.
		Watches(&v1alpha1.RewardsProgramRevision{}, mapper(r.Client, func(ctx context.Context, rel relations, rev *v1alpha1.RewardsProgramRevision) (
			[]reconcile.Request, error) {
			offers, err := offersOfProgram(ctx, rel, rev.Spec.Program)
			if err != nil {
				return nil, err
			}
			return activationsOfOffers(ctx, rel, offers)
		})).
		WatchesRawSource(r.wakeups.Source())
	b, err := r.watchSales(b, ofPublisher)
	if err != nil {
		return err
	}
	return b.Complete(observed("benefitactivation", r, r.Observer))
}

// activationsOfGrant: the activation of a grant's name, and the
// activations of its offer (a granted one-time benefit is used, B3).
func activationsOfGrant(ctx context.Context, rel relations, g *v1alpha1.BenefitGrant) ([]reconcile.Request, error) {
	acts, err := rel.activationsOfOffer(ctx, g.Namespace, g.Spec.Offer)
	reqs := requests(ptrs(acts))
	return append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Name}}), err
}

// watchSales makes sales requeue activations. Sales decide the tier (B2),
// fraud (R3) and cancellations (R4): Transact benefits only, so List,
// Trial and Consulting activations are never requeued by sales. A
// publisher's Transact activations are requeued when its sales facts are
// computed again and change in a way their decisions read, which most new
// lines do not (salesMemo.notify). The memo is the one the publisher
// controller shares: its reconcile computes the facts after a new line.
func (r *BenefitActivationReconciler) watchSales(b *builder.Builder,
	ofPublisher func(context.Context, relations, string, string, bool) ([]reconcile.Request, error)) (*builder.Builder, error) {
	if r.sales == nil {
		return nil, errors.New("the BenefitActivation controller needs the sales memo it shares with the Publisher controller: " +
			"set it up with controllers.SetupWithManager")
	}
	transactOfPublisher := mapper(r.Client, func(ctx context.Context, rel relations, p *v1alpha1.Publisher) ([]reconcile.Request, error) {
		return ofPublisher(ctx, rel, p.Namespace, p.Name, true)
	})
	changed := make(chan event.GenericEvent, 1024)
	r.sales.notify = func(pub types.NamespacedName) {
		target := &v1alpha1.Publisher{ObjectMeta: metav1.ObjectMeta{Namespace: pub.Namespace, Name: pub.Name}}
		// Not blocking the reconcile that computed the facts (as Wakeups).
		go func() { changed <- event.GenericEvent{Object: target} }()
	}
	return b.WatchesRawSource(source.Channel(changed, transactOfPublisher)), nil
}
