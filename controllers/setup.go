package controllers

import (
	"context"
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/marketplace-rewards/rewards-operator/internal/metrics"
)

// DefaultResyncPeriod is how often every object is reconciled with no
// event unless Options says otherwise: a status wiped or edited by anyone
// but the operator is repaired within that time.
const DefaultResyncPeriod = 10 * time.Minute

// Options configure the controllers.
type Options struct {
	// Clock is the clock all controllers read time from: clock.RealClock in
	// production, a fake clock in tests.
	Clock clock.WithDelayedExecution
	// ResyncPeriod is how often every object is reconciled with no event;
	// 0 never.
	ResyncPeriod time.Duration
}

// SetupWithManager registers the field indexes and every controller with
// mgr.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if err := SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	recorder := mgr.GetEventRecorder("rewards-operator")
	clk, resync := opts.Clock, opts.ResyncPeriod
	setups := []interface{ SetupWithManager(ctrl.Manager) error }{
		&RewardsProgramReconciler{Client: mgr.GetClient(), Clock: clk, Recorder: recorder, ResyncPeriod: resync},
		&OfferReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Recorder: recorder, ResyncPeriod: resync},
		&SalesRecordReconciler{Client: mgr.GetClient(), Clock: clk, Recorder: recorder, ResyncPeriod: resync},
		&PublisherReconciler{Client: mgr.GetClient(), Clock: clk, Recorder: recorder, ResyncPeriod: resync},
		&BenefitActivationReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Recorder: recorder, ResyncPeriod: resync},
	}
	for _, s := range setups {
		if err := s.SetupWithManager(mgr); err != nil {
			return err
		}
	}
	return metrics.Register(mgr)
}
