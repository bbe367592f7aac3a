// Package operator runs the operator's controllers in a test process. It is
// apart from internal/testenv so that testenv depends only on the API and
// internal/rewards, and the controllers' own tests can use its fixtures.
package operator

import (
	"context"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/marketplace-rewards/rewards-operator/controllers"
	rewardsoperator "github.com/marketplace-rewards/rewards-operator/internal/operator"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// Options are the controllers' options as the suites run them: on clk,
// with the default resync period.
func Options(clk clock.WithDelayedExecution) controllers.Options {
	return controllers.Options{Clock: clk, ResyncPeriod: controllers.DefaultResyncPeriod}
}

// Start starts a manager, as testenv.StartManager does, running the
// operator as cmd/main.go builds it (operator.ManagerOptions and
// operator.Setup) with copts.
func Start(cfg *rest.Config, opts ctrl.Options, copts controllers.Options, exited func(error)) (*testenv.Manager, error) {
	return testenv.StartManager(cfg, rewardsoperator.ManagerOptions(opts), func(ctx context.Context, mgr manager.Manager) error {
		return rewardsoperator.Setup(ctx, mgr, copts)
	}, exited)
}
