package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// RewardsProgramReconciler checks what admission cannot about a program (a
// tier naming a benefit missing from the catalog, a Transact benefit no tier
// unlocks) and reports it in the Ready condition.
type RewardsProgramReconciler struct {
	Client   client.Client
	Clock    clock.WithDelayedExecution
	Recorder events.EventRecorder
	// ResyncPeriod is how often a program is reconciled with no event, so
	// that a status wiped or edited by anyone else is repaired.
	ResyncPeriod time.Duration
	// Observer, if set, is told of every finished reconcile.
	Observer ReconcileObserver
	wakeups  *Wakeups
}

// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=rewardsprograms,verbs=get;list;watch
// +kubebuilder:rbac:groups=rewards.marketplace.io,resources=rewardsprograms/status,verbs=patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile computes a program's status.
func (r *RewardsProgramReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var prog v1alpha1.RewardsProgram
	if found, err := getOptional(ctx, r.Client, req.NamespacedName, &prog); err != nil || !found {
		if !found && err == nil {
			r.wakeups.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	before := prog.DeepCopy()
	now := r.Clock.Now()

	rules, problems := rewards.ResolveProgram(&prog.Spec)
	st := &prog.Status
	st.ObservedGeneration = prog.Generation
	st.Tiers = int32(len(prog.Spec.Tiers))
	st.Benefits = int32(len(prog.Spec.Benefits))
	if len(problems) == 0 {
		// These rules are in force; a later spec that is not valid leaves
		// them in force (program safety), so they are kept.
		st.RulesGeneration = prog.Generation
		st.RulesInForce = prog.Spec.DeepCopy()
		setCondition(&st.Conditions, now, prog.Generation, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonValid,
			fmt.Sprintf("%d tiers and %d benefits in force; billed sales in %s over a %s window", len(rules.Tiers), len(rules.Catalog), rules.Currency, rules.Window))
	} else {
		if st.RulesInForce == nil {
			st.RulesGeneration = 0
		}
		msg := problems[0].Message
		if len(problems) > 1 {
			msg = fmt.Sprintf("%s (and %d more problems)", msg, len(problems)-1)
		}
		if st.RulesGeneration > 0 {
			msg += fmt.Sprintf("; the rules of generation %d stay in force", st.RulesGeneration)
		} else {
			msg += "; no rules are in force: publishers following this program get no tier until it is fixed"
		}
		setCondition(&st.Conditions, now, prog.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, problems[0].Reason, msg)
	}

	changed, err := patchStatusIfChanged(ctx, r.Client, before, &prog, func(o client.Object) any { return o.(*v1alpha1.RewardsProgram).Status })
	if err != nil {
		return resultOf(err)
	}
	if changed && len(problems) > 0 {
		r.Recorder.Eventf(&prog, nil, corev1.EventTypeWarning, problems[0].Reason, "Validate", "%s", problems[0].Message)
	}
	r.wakeups.At(&prog, now, nil)
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller.
func (r *RewardsProgramReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.wakeups = NewWakeups(r.Clock, r.ResyncPeriod)
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RewardsProgram{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("rewardsprogram").
		WatchesRawSource(r.wakeups.Source()).
		Complete(observed("rewardsprogram", r, r.Observer))
}
