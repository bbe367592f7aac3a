package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// RewardsProgramReconciler checks what admission cannot about a program (a
// tier naming a benefit missing from the catalog, a Transact benefit no tier
// unlocks) and reports it in the Ready condition. It records every set of
// rules it finds valid in a RewardsProgramRevision, where they stay in
// force while a later spec is not valid, whatever happens to the status.
type RewardsProgramReconciler struct {
	Client client.Client
	// Programs reads the program's revisions and records new ones.
	Programs *records.Programs
	Clock    clock.WithDelayedExecution
	Recorder events.EventRecorder
	// ResyncPeriod is how often a program is reconciled with no event, so
	// that a status wiped or edited by anyone else is repaired.
	ResyncPeriod time.Duration
	// Observer, if set, is told of every finished reconcile.
	Observer ReconcileObserver
	wakeups  *scheduler.Wakeups
}

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=rewardsprograms,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=rewardsprograms/status,verbs=patch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=rewardsprogramrevisions,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile records a valid program's rules and computes its status.
func (r *RewardsProgramReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	f := frame[v1alpha1.RewardsProgram, *v1alpha1.RewardsProgram]{client: r.Client, clock: r.Clock, wakeups: r.wakeups,
		statusOf: func(p *v1alpha1.RewardsProgram) any { return p.Status }}
	return f.run(ctx, req, r.decide)
}

// decide records a valid program's rules and sets its status: the rules in
// force, and whether the spec is valid (program safety).
func (r *RewardsProgramReconciler) decide(ctx context.Context, prog *v1alpha1.RewardsProgram, now time.Time) (outcome[*v1alpha1.RewardsProgram], error) {
	var out outcome[*v1alpha1.RewardsProgram]
	rules, problems := rewards.ResolveProgram(&prog.Spec)
	revs, err := r.Programs.Revisions(ctx, prog.Name)
	if err != nil {
		return out, err
	}
	st := &prog.Status
	st.ObservedGeneration = prog.Generation
	st.Tiers = int32(len(prog.Spec.Tiers))
	st.Benefits = int32(len(prog.Spec.Benefits))
	st.RulesGeneration, st.Revision, st.RulesInForce = 0, "", nil
	if len(problems) == 0 {
		// These rules are in force; a later spec that is not valid leaves
		// them in force (program safety), so they are recorded first.
		if out.wait, err = r.record(ctx, prog, revs); err != nil || out.wait != nil {
			return out, err
		}
		st.RulesGeneration, st.Revision, st.RulesInForce = prog.Generation, rewards.RevisionName(prog.Name, &prog.Spec), prog.Spec.DeepCopy()
	} else if last := rewards.LastRevision(prog.Name, revs); last != nil {
		st.RulesGeneration, st.Revision, st.RulesInForce = last.Spec.ProgramGeneration, last.Name, last.Spec.Rules.DeepCopy()
	}
	ready := rewards.ProgramReadiness(rules, problems, st.Revision, st.RulesGeneration)
	status.SetCondition(&st.Conditions, now, prog.Generation, v1alpha1.ConditionReady, status.Bool(ready.Ready), ready.Reason, ready.Message)
	if len(problems) > 0 {
		out.announce = func(*v1alpha1.RewardsProgram) {
			r.Recorder.Eventf(prog, nil, corev1.EventTypeWarning, problems[0].Reason, "Validate", "%s", problems[0].Message)
		}
	}
	return out, nil
}

// record records prog's valid rules in a revision (records.Programs.Record),
// and emits an Event when it wrote one. A revision written meanwhile by
// someone else (the cache behind) asks for another reconcile: waiting.
func (r *RewardsProgramReconciler) record(ctx context.Context, prog *v1alpha1.RewardsProgram,
	revs []v1alpha1.RewardsProgramRevision) (waiting *ctrl.Result, _ error) {
	rec, err := r.Programs.Record(ctx, r.Client, prog, revs)
	if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
		return &ctrl.Result{Requeue: true}, nil //nolint:staticcheck // a stale cache is not an error to report
	}
	if err != nil {
		return nil, err
	}
	if rec.Created || rec.Renumbered {
		r.Recorder.Eventf(prog, nil, corev1.EventTypeNormal, v1alpha1.EventRevisionRecorded, "Record",
			"the rules of generation %d are recorded in RewardsProgramRevision %s (revision %d)", prog.Generation, rec.Revision, rec.Number)
	}
	return nil, nil
}

// SetupWithManager registers the controller.
func (r *RewardsProgramReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.wakeups = scheduler.NewWakeups(r.Clock, r.ResyncPeriod, cachedKeys(mgr.GetCache(), &v1alpha1.RewardsProgram{}, &v1alpha1.RewardsProgramList{}))
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RewardsProgram{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("rewardsprogram").
		// The status names the revision in force; a revision deleted,
		// restored or renumbered by someone else is recorded again.
		Watches(&v1alpha1.RewardsProgramRevision{}, mapper(r.Client, programOfRevision)).
		WatchesRawSource(r.wakeups.Source()).
		Complete(observed("rewardsprogram", r, r.Observer))
}

// programOfRevision maps a revision to its program.
func programOfRevision(_ context.Context, _ gather.Relations, rev *v1alpha1.RewardsProgramRevision) ([]reconcile.Request, error) {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: rev.Spec.Program}}}, nil
}
