package controllers

import (
	"context"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/marketplace-rewards/rewards-operator/internal/metrics"
)

// SetupWithManager registers the field indexes and every controller with
// mgr. clk is the clock all of them read time from: clock.RealClock in
// production, a fake clock in tests.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, clk clock.WithDelayedExecution) error {
	if err := SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	recorder := mgr.GetEventRecorder("rewards-operator")
	setups := []interface{ SetupWithManager(ctrl.Manager) error }{
		&RewardsProgramReconciler{Client: mgr.GetClient(), Clock: clk, Recorder: recorder},
		&OfferReconciler{Client: mgr.GetClient(), Clock: clk, Recorder: recorder},
		&SalesRecordReconciler{Client: mgr.GetClient(), Clock: clk, Recorder: recorder},
		&PublisherReconciler{Client: mgr.GetClient(), Clock: clk, Recorder: recorder},
		&BenefitActivationReconciler{Client: mgr.GetClient(), Clock: clk, Recorder: recorder},
	}
	for _, s := range setups {
		if err := s.SetupWithManager(mgr); err != nil {
			return err
		}
	}
	return metrics.Register(mgr)
}
