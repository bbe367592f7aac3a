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
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
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
	// granting a one-time benefit, and when a grant the cache did not show
	// already exists.
	APIReader client.Reader
	Clock     clock.WithDelayedExecution
	Recorder  events.EventRecorder
	// ResyncPeriod is how often an object is reconciled with no event, so
	// that a status wiped or edited by anyone else is repaired.
	ResyncPeriod time.Duration
	// Observer, if set, is told of every finished reconcile.
	Observer ReconcileObserver
	wakeups  *Wakeups
	// oneTimeGrants serialises the grants of one one-time benefit of one
	// offer (B3) across concurrent workers.
	oneTimeGrants keyedMutex
	// sales shares each publisher's sales facts with the publisher's
	// reconcile.
	sales *salesMemo
}

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitactivations,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitactivations/status,verbs=patch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitactivations/finalizers,verbs=update
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=benefitgrants,verbs=get;list;watch;create;patch

// Reconcile computes an activation's status, recording a grant or a
// revocation first when the decision needs one.
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
	if !d.Record.IsZero() {
		if in, err = r.record(ctx, &act, in, d.Record); err != nil {
			return resultOf(err)
		}
		// The status is read back from what is now recorded.
		d = rewards.DecideActivation(in)
	}

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
	st.ActivatedAt = metaTime(d.ActivatedAt)
	st.ContactDueBy = metaTime(d.ContactDueBy)
	st.ExpiresAt = metaTime(d.ExpiresAt)
	st.ExpiredAt = metaTime(d.ExpiredAt)
	st.Revocation = d.Revocation
	setCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionReady, boolStatus(d.Ready), d.Reason, d.Message)
	// Stalled means what Flux and kstatus mean by it: it will not get
	// better by itself and needs a person. A revoked benefit does; an
	// expired one ran its course (Ready=True, no Stalled).
	if d.Phase == v1alpha1.ActivationRevoked {
		setCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionStalled, metav1.ConditionTrue, d.Reason, d.Message)
	} else {
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionStalled)
	}
	if d.ContactReason != "" {
		setCondition(&st.Conditions, in.Now, act.Generation, v1alpha1.ConditionContactOverdue, boolStatus(d.ContactOverdue), d.ContactReason, d.ContactMessage)
	} else {
		// Only an Active benefit has a contact obligation to show; keeping
		// an old one would make the status depend on its history.
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionContactOverdue)
	}

	changed, err := patchStatusIfChanged(ctx, r.Client, before, &act, func(o client.Object) any { return o.(*v1alpha1.BenefitActivation).Status })
	if err != nil {
		return resultOf(err)
	}
	if changed {
		r.recordTransition(&act, before.Status, d)
	}
	r.wakeups.At(&act, in.Now, d.NextCheck)
	return ctrl.Result{}, nil
}

// record writes what the decision needs recorded in the activation's
// BenefitGrant, and returns the input with the grant as now stored.
func (r *BenefitActivationReconciler) record(ctx context.Context, act *v1alpha1.BenefitActivation,
	in rewards.ActivationInput, rec rewards.Record) (rewards.ActivationInput, error) {
	if rec.Revoke != nil {
		grant := in.Grant.DeepCopy()
		grant.Spec.Revocation = rec.Revoke
		// The lock refuses a write based on a grant the cache showed
		// before another write to it; the next reconcile decides again.
		if err := r.Client.Patch(ctx, grant, client.MergeFromWithOptions(in.Grant, client.MergeFromWithOptimisticLock{})); err != nil {
			return in, fmt.Errorf("recording the revocation in BenefitGrant %s: %w", grant.Name, err)
		}
		r.Recorder.Eventf(act, grant, corev1.EventTypeWarning, v1alpha1.EventRevoked, "Revoke", "revoked (%s): %s", rec.Revoke.Reason, rec.Revoke.Message)
		in.Grant = grant
		return in, nil
	}

	if !rec.Adopted && in.Offer.Spec.ListingType != v1alpha1.ListingTypeTransact {
		// B3: a one-time benefit is granted once per offer, and a grant
		// cannot be taken back. Two workers granting siblings at once
		// would both see none granted: one grant of a benefit and offer is
		// decided at a time. And the cache may not yet hold a sibling
		// created (or granted) a moment ago, so ask the API server.
		unlock := r.oneTimeGrants.lock(act.Namespace + "/" + act.Spec.OfferRef.Name + "/" + act.Spec.Benefit)
		defer unlock()
		fresh, err := r.freshOneTimeUse(ctx, act, in)
		if err != nil {
			return in, err
		}
		if d := rewards.DecideActivation(fresh); d.Record.Create == nil {
			return fresh, nil
		}
	}
	grant := &v1alpha1.BenefitGrant{
		ObjectMeta: metav1.ObjectMeta{Name: act.Name, Namespace: act.Namespace},
		Spec:       *rec.Create,
	}
	if err := controllerutil.SetControllerReference(act, grant, r.Client.Scheme()); err != nil {
		return in, err
	}
	err := r.Client.Create(ctx, grant)
	if apierrors.IsAlreadyExists(err) {
		// The cache had not seen it yet: read the grant that exists.
		existing, other, err := grantOf(ctx, r.APIReader, act)
		if err != nil {
			return in, err
		}
		in.Grant, in.GrantOfAnother = existing, other
		return in, nil
	}
	if err != nil {
		return in, fmt.Errorf("creating BenefitGrant %s: %w", grant.Name, err)
	}
	if rec.Adopted {
		r.Recorder.Eventf(act, grant, corev1.EventTypeNormal, v1alpha1.EventGrantAdopted, "Grant",
			"BenefitGrant %s records the grant of %s from this activation's status (upgrade)", grant.Name, grant.Spec.ActivatedAt.UTC().Format(time.RFC3339))
	} else {
		r.Recorder.Eventf(act, grant, corev1.EventTypeNormal, v1alpha1.EventActivated, "Activate",
			"%s benefit %q is active for offer %q, recorded in BenefitGrant %s", grant.Spec.Category, grant.Spec.Benefit, grant.Spec.Offer, grant.Name)
	}
	in.Grant, in.GrantOfAnother = grant, false
	return in, nil
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
	// invalid program, a benefit not in the catalog) shows as a condition
	// and an Event, as DESIGN.md asks; other Pending reasons are ordinary
	// waiting and only show in the condition.
	if !d.Ready && readyReason(old.Conditions) != d.Reason {
		switch d.Reason {
		case v1alpha1.ReasonOfferNotFound, v1alpha1.ReasonPublisherNotFound, v1alpha1.ReasonProgramNotFound,
			v1alpha1.ReasonProgramInvalid, v1alpha1.ReasonUnknownBenefit:
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
	var err error
	if in.Grant, in.GrantOfAnother, err = grantOf(ctx, r.Client, act); err != nil {
		return in, err
	}
	rel := relations{r.Client}
	offer, err := rel.offer(ctx, act.Namespace, act.Spec.OfferRef.Name)
	if err != nil || offer == nil {
		return in, err
	}
	in.Offer = offer
	if in.Siblings, err = rel.activationsOfOffer(ctx, act.Namespace, offer.Name); err != nil {
		return in, err
	}
	if offer.Spec.ListingType != v1alpha1.ListingTypeTransact {
		if in.SiblingGrants, err = siblingGrants(ctx, r.Client, act, in.Siblings); err != nil {
			return in, err
		}
	}
	pub, prog, err := rel.publisherAndProgram(ctx, act.Namespace, offer.Spec.PublisherRef.Name)
	if err != nil || pub == nil {
		return in, err
	}
	in.Publisher = pub
	in.Program = prog
	_, _, in.Sales, err = r.sales.facts(client.ObjectKeyFromObject(pub), prog, in.Now, rel.salesInputs(ctx, pub.Namespace, pub.Name))
	return in, err
}

// freshOneTimeUse returns in with what B3 decides on read again from the
// API server: the activation's own grant, its siblings (the activations of
// its offer) and their grants. The rest of the decision's input (offer,
// publisher, program, sales) stays as the cache showed it, as in any
// reconcile: reading it again would not make a one-time grant any safer,
// and it was three more requests per grant (offer, publisher, program),
// plus the publisher's offers and lines whenever the sales memo had to
// compute its facts again. in.Offer is not nil.
func (r *BenefitActivationReconciler) freshOneTimeUse(ctx context.Context, act *v1alpha1.BenefitActivation,
	in rewards.ActivationInput) (rewards.ActivationInput, error) {
	var err error
	if in.Grant, in.GrantOfAnother, err = grantOf(ctx, r.APIReader, act); err != nil {
		return in, err
	}
	if in.Siblings, err = (relations{r.APIReader}).activationsOfOffer(ctx, act.Namespace, in.Offer.Name); err != nil {
		return in, err
	}
	in.SiblingGrants, err = siblingGrants(ctx, r.APIReader, act, in.Siblings)
	return in, err
}

// grantOf reads the BenefitGrant of an activation. A grant of the same name
// that records another activation (deleted and created again under this
// name, its grant not yet garbage-collected) is not this one's: it returns
// nil and other = true.
func grantOf(ctx context.Context, reader client.Reader, act *v1alpha1.BenefitActivation) (grant *v1alpha1.BenefitGrant, other bool, err error) {
	var g v1alpha1.BenefitGrant
	found, err := getOptional(ctx, reader, types.NamespacedName{Namespace: act.Namespace, Name: act.Name}, &g)
	if err != nil || !found {
		return nil, false, err
	}
	if g.Spec.Activation.UID != act.UID {
		return nil, true, nil
	}
	return &g, false, nil
}

// siblingGrants says when each sibling of the same benefit holding a grant
// was granted (B3).
func siblingGrants(ctx context.Context, reader client.Reader, act *v1alpha1.BenefitActivation,
	siblings []v1alpha1.BenefitActivation) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for i := range siblings {
		s := &siblings[i]
		if s.Name == act.Name || s.Spec.Benefit != act.Spec.Benefit {
			continue
		}
		g, _, err := grantOf(ctx, reader, s)
		if err != nil {
			return nil, err
		}
		if g != nil {
			out[s.Name] = g.Spec.ActivatedAt.Time
		}
	}
	return out, nil
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
	r.wakeups = NewWakeups(r.Clock, r.ResyncPeriod)
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
		Watches(&v1alpha1.BenefitGrant{}, mapper(r.Client, func(ctx context.Context, rel relations, g *v1alpha1.BenefitGrant) ([]reconcile.Request, error) {
			acts, err := rel.activationsOfOffer(ctx, g.Namespace, g.Spec.Offer)
			reqs := requests(ptrs(acts))
			return append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Spec.Activation.Name}}), err
		})).
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
			offers, err := offersOfProgram(ctx, rel, p)
			if err != nil {
				return nil, err
			}
			return activationsOfOffers(ctx, rel, offers)
		}), specChanged).
		WatchesRawSource(r.wakeups.Source())
	b, err := r.watchSales(b, ofPublisher)
	if err != nil {
		return err
	}
	return b.Complete(observed("benefitactivation", r, r.Observer))
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
