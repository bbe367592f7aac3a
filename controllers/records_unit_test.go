package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/gather"
	"github.com/marketplace-rewards/rewards-operator/internal/records"
	"github.com/marketplace-rewards/rewards-operator/internal/scheduler"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// B3 does not depend on the order the operator sees activations in: an
// activation of a one-time benefit is granted only once its creation
// second is over (and one more has passed), when a sibling created in the
// same second is in the API server. The wall clock is a fake, so the test
// says exactly when the operator looks.
func TestOneTimeGrantWaitsOutItsCreationSecond(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	scheme, program, publisher, offer := trialFixtures(t, created.Add(-24*time.Hour))
	revision := revisionOf(program)
	activation := func(name string) *v1alpha1.BenefitActivation { return trialActivation(name, "uid-"+name, created) }
	// "blog-b" is seen first, alone; "blog-a", created in the same second,
	// reaches the API server a moment later.
	c := fakeCache(scheme, program, revision, publisher, offer, activation("blog-b")).
		WithStatusSubresource(&v1alpha1.BenefitActivation{}).Build()
	wall := clocktesting.NewFakePassiveClock(created.Add(300 * time.Millisecond))
	clk := clocktesting.NewFakeClock(created.Add(time.Hour))
	// The record in memory (records.FakeGrants), the cache's and the API
	// server's alike.
	grants := records.NewFakeGrants()
	gathered := gather.Gatherer{Reader: c, Programs: records.NewPrograms(c), Grants: grants}
	r := &BenefitActivationReconciler{Client: c, Clock: clk, WallClock: wall, Recorder: events.NewFakeRecorder(10),
		Grants: grants, Gather: gathered, Fresh: gathered, wakeups: scheduler.NewWakeups(clk, 0, nil), lost: newLostGrants()}
	reconcile := func(name string) ctrl.Result {
		t.Helper()
		res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}})
		if err != nil {
			t.Fatalf("Reconcile %s: %v", name, err)
		}
		return res
	}
	granted := func(name string) bool {
		t.Helper()
		for _, g := range grants.All() {
			if g.Name == name {
				return true
			}
		}
		return false
	}

	res := reconcile("blog-b")
	if granted("blog-b") {
		t.Fatalf("blog-b was granted within its creation second: a sibling created in the same second may not be visible yet")
	}
	if want := oneTimeSettle - 300*time.Millisecond; res.RequeueAfter != want {
		t.Errorf("blog-b looked at again after %s, want %s (the end of its creation second, and one more)", res.RequeueAfter, want)
	}
	var act v1alpha1.BenefitActivation
	if err := c.Get(ctx, types.NamespacedName{Namespace: "ns", Name: "blog-b"}, &act); err != nil || act.Status.Phase != "" {
		t.Errorf("blog-b's status written while its grant waits: %+v (%v)", act.Status, err)
	}

	if err := c.Create(ctx, activation("blog-a")); err != nil {
		t.Fatal(err)
	}
	wall.SetTime(created.Add(oneTimeSettle))
	reconcile("blog-b")
	reconcile("blog-a")
	if granted("blog-b") || !granted("blog-a") {
		t.Errorf("granted blog-a %v, blog-b %v: created in the same second, the name that sorts first gets the benefit (B3)", granted("blog-a"), granted("blog-b"))
	}
}

// A grant that the garbage collector deletes while it is still owned by
// its activation (a backup made before R8, restored with the owner's uid
// stale) is written again from what the operator last saw of it, and its
// activation reads it meanwhile instead of being granted anew. A grant an
// administrator deletes once converted stays deleted.
func TestLostGrantIsWrittenAgain(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	scheme, program, publisher, offer := trialFixtures(t, now.Add(-24*time.Hour))
	revision := revisionOf(program)
	act := trialActivation("blog", "uid-now", now.Add(-time.Hour))
	isController := true
	legacy := build.Grant("ns", "blog", "trial", "go-live-blog", "contoso", now.Add(-30*24*time.Hour),
		build.ActivationUID("uid-before-the-restore"), build.GrantCategory(v1alpha1.BenefitCategoryTechnical))
	legacy.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "BenefitActivation", Name: "blog", UID: "uid-before-the-restore", Controller: &isController,
	}}
	c := fakeCache(scheme, program, revision, publisher, offer, act).WithStatusSubresource(&v1alpha1.BenefitActivation{}).Build()
	clk := clocktesting.NewFakeClock(now)
	lost := newLostGrants()
	grants := records.NewGrants(c, c)
	gathered := gather.Gatherer{Reader: c, Programs: records.NewPrograms(c), Grants: grants, Lost: lost.get}
	acts := &BenefitActivationReconciler{Client: c, Clock: clk, WallClock: clk, Recorder: events.NewFakeRecorder(10),
		Grants: grants, Gather: gathered, Fresh: gathered, wakeups: scheduler.NewWakeups(clk, 0, nil), lost: lost}
	grantsR := &BenefitGrantReconciler{Client: c, Grants: grants, Recorder: events.NewFakeRecorder(10), lost: lost}
	key := client.ObjectKeyFromObject(act)

	// The garbage collector deletes the legacy grant: the watch hears of
	// it, the activation is reconciled before the grant is written again.
	lost.remembering(handler.Funcs{}).Delete(ctx, event.DeleteEvent{Object: legacy.DeepCopy()}, nil)
	if _, err := acts.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, key, act); err != nil {
		t.Fatal(err)
	}
	if act.Status.Phase != v1alpha1.ActivationActive || !act.Status.ActivatedAt.Equal(&legacy.Spec.ActivatedAt) {
		t.Errorf("while its grant is written again, the activation shows %s since %v; want Active since the lost grant's %v",
			act.Status.Phase, act.Status.ActivatedAt, legacy.Spec.ActivatedAt.Time)
	}
	if err := c.Get(ctx, key, &v1alpha1.BenefitGrant{}); !apierrors.IsNotFound(err) {
		t.Errorf("the activation was granted anew in the lost grant's place (Get: %v)", err)
	}

	if _, err := grantsR.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	var back v1alpha1.BenefitGrant
	if err := c.Get(ctx, key, &back); err != nil {
		t.Fatalf("the lost grant is not written again: %v", err)
	}
	if diff := cmp.Diff(legacy.Spec, back.Spec); diff != "" || len(back.OwnerReferences) != 0 {
		t.Errorf("written again with ownerReferences %v and spec -lost +written:\n%s", back.OwnerReferences, diff)
	}
	if lost.get(key) != nil {
		t.Errorf("the lost grant is still remembered once written again")
	}

	// An administrator deletes the converted grant: it stays deleted.
	if err := c.Delete(ctx, &back); err != nil {
		t.Fatal(err)
	}
	lost.remembering(handler.Funcs{}).Delete(ctx, event.DeleteEvent{Object: &back}, nil)
	if _, err := grantsR.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, key, &v1alpha1.BenefitGrant{}); !apierrors.IsNotFound(err) {
		t.Errorf("a converted grant an administrator deleted was written again (Get: %v)", err)
	}
}
