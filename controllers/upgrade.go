package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// upgradeGate is closed once the records earlier versions wrote have been
// converted (upgradeRecords). The controllers that read grants wait for
// it: a publisher's revocation history written from a conversion that has
// not finished would drop revocations and bring them back a moment later,
// and an activation decided before its grant is adopted would be granted
// again.
type upgradeGate struct{ done chan struct{} }

func newUpgradeGate() *upgradeGate { return &upgradeGate{done: make(chan struct{})} }

// wait returns once the conversion has finished, or the context ends. A
// nil gate does not wait.
func (g *upgradeGate) wait(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case <-g.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// upgradeRecords adopts, on the operator's start, the grants that a
// version keeping grants in status only recorded there: an activation
// whose status says it was granted, and of whose name no grant exists,
// gets a grant built from that status (rewards.AdoptedGrant; Event
// GrantAdopted). A run after the first finds nothing to adopt. Grants
// written by versions before R8 are converted by BenefitGrantReconciler,
// whenever one appears (a backup restored later too).
//
// It runs when the operator is leader, once its cache holds every grant and
// activation, then opens the gate.
type upgradeRecords struct {
	cache    cache.Cache
	grants   records.Grants
	recorder events.EventRecorder
	gate     *upgradeGate
}

// NeedLeaderElection: only the leader writes records.
func (u *upgradeRecords) NeedLeaderElection() bool { return true }

// Start adopts, retrying with backoff until it has adopted everything or
// ctx ends, then opens the gate.
func (u *upgradeRecords) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("upgrade-records")
	if !u.cache.WaitForCacheSync(ctx) {
		return nil // stopping
	}
	backoff := wait.Backoff{Duration: time.Second, Factor: 2, Steps: 1 << 30, Cap: time.Minute}
	err := wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		adopted, err := u.adopt(ctx)
		if err != nil {
			logger.Error(err, "adopting the grants an earlier version kept in status; trying again")
			return false, nil
		}
		if adopted > 0 {
			logger.Info("adopted the grants an earlier version kept in status", "grants", adopted)
		}
		return true, nil
	})
	if err != nil {
		return nil //nolint:nilerr // only ends when ctx does: the manager is stopping
	}
	close(u.gate.done)
	return nil
}

// adopt runs the adoption once, and counts the grants it wrote.
func (u *upgradeRecords) adopt(ctx context.Context) (adopted int, err error) {
	var acts v1alpha1.BenefitActivationList
	if err := u.cache.List(ctx, &acts); err != nil {
		return adopted, err
	}
	for i := range acts.Items {
		act := &acts.Items[i]
		spec := rewards.AdoptedGrant(act)
		if spec == nil {
			continue
		}
		found, err := u.grants.Of(ctx, act)
		if err != nil {
			return adopted, err
		}
		if found.Grant != nil || found.NameHeldBy != nil {
			continue
		}
		grant, err := u.grants.Create(ctx, act, *spec)
		if apierrors.IsAlreadyExists(err) {
			continue // written since the cache was read: nothing to adopt
		}
		if err != nil {
			return adopted, fmt.Errorf("adopting the grant of BenefitActivation %s/%s: %w", act.Namespace, act.Name, err)
		}
		u.recorder.Eventf(act, grant, corev1.EventTypeNormal, v1alpha1.EventGrantAdopted, "Grant",
			"BenefitGrant %s records the grant of %s from this activation's status (upgrade)", grant.Name, grant.Spec.ActivatedAt.UTC().Format(time.RFC3339))
		adopted++
	}
	return adopted, nil
}
