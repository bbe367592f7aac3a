package controllers_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/controllers"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// The durable record (docs/rules.md, "The durable record"; rule R6): what was
// granted and revoked lives in BenefitGrants, and every status is rebuilt
// from specs, grants and the clock, whatever happened to it.

// statusKinds are the kinds whose statuses the operator writes.
var statusKinds = []string{"Publisher", "Offer", "SalesRecord", "BenefitActivation"}

// statusesOf reads the status of every object of the namespace and of the
// program, as JSON by "Kind/name", with the conditions sorted by type and
// their lastTransitionTime left out: the one thing a rebuilt status may
// tell differently.
func statusesOf(ns, program string) map[string]string {
	out := map[string]string{}
	add := func(u *unstructured.Unstructured) {
		st, _, _ := unstructured.NestedMap(u.Object, "status")
		if conds, ok := st["conditions"].([]any); ok {
			for _, c := range conds {
				delete(c.(map[string]any), "lastTransitionTime")
			}
			sort.Slice(conds, func(i, j int) bool {
				return conds[i].(map[string]any)["type"].(string) < conds[j].(map[string]any)["type"].(string)
			})
		}
		b, err := json.Marshal(st)
		Expect(err).NotTo(HaveOccurred())
		out[u.GetKind()+"/"+u.GetName()] = string(b)
	}
	for _, kind := range statusKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind + "List"))
		Expect(k8sClient.List(bg, list, client.InNamespace(ns))).To(Succeed())
		for i := range list.Items {
			add(&list.Items[i])
		}
	}
	prog := &unstructured.Unstructured{}
	prog.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("RewardsProgram"))
	Expect(k8sClient.Get(bg, types.NamespacedName{Name: program}, prog)).To(Succeed())
	add(prog)
	return out
}

// wipeStatuses removes the status of every object of the namespace and of
// the program through the status subresource, as a restore without status
// or `kubectl patch --subresource=status` would.
func wipeStatuses(ns, program string) {
	wipe := func(gvk schema.GroupVersionKind, key types.NamespacedName) {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		u.SetNamespace(key.Namespace)
		u.SetName(key.Name)
		Expect(k8sClient.Status().Patch(bg, u, client.RawPatch(types.MergePatchType, []byte(`{"status":null}`)))).To(Succeed())
	}
	for _, kind := range statusKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind + "List"))
		Expect(k8sClient.List(bg, list, client.InNamespace(ns))).To(Succeed())
		for i := range list.Items {
			wipe(v1alpha1.GroupVersion.WithKind(kind), client.ObjectKeyFromObject(&list.Items[i]))
		}
	}
	wipe(v1alpha1.GroupVersion.WithKind("RewardsProgram"), types.NamespacedName{Name: program})
}

// allWiped reports whether every status of the namespace (as the given
// reader sees it) has gone: observedGeneration 0, no conditions.
func allWiped(reader client.Reader, ns string) bool {
	for _, kind := range statusKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind + "List"))
		Expect(reader.List(bg, list, client.InNamespace(ns))).To(Succeed())
		for _, u := range list.Items {
			if conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); len(conds) > 0 {
				return false
			}
		}
	}
	return true
}

// restartManagerAfterTest restarts the manager at the end of a test that
// stops it, should the test fail while it is stopped.
func restartManagerAfterTest() {
	DeferCleanup(func() {
		if mgr == nil {
			startManager()
		}
	})
}

var _ = Describe("The durable record (BenefitGrant)", func() {
	var (
		ns   string
		prog *v1alpha1.RewardsProgram
		now  time.Time
	)

	BeforeEach(func() {
		ns = newNamespace()
		prog = activationProgram()
		create(prog)
		now = clockAtWholeSecond()
	})

	It("R1-R6, B4, O4, O6: a mixed workload converges; every status wiped with the operator stopped is rebuilt identical after a restart, with no second Activated event", func() {
		contoso := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		fabrikam := build.Publisher(ns, "fabrikam", build.Following(prog.Name), build.WithContact())
		northwind := build.Publisher(ns, "northwind", build.Following(prog.Name), build.WithContact())
		trialA := build.Offer(ns, "trial-a", contoso.Name, v1alpha1.ListingTypeTrial, now)
		listB := build.Offer(ns, "list-b", contoso.Name, v1alpha1.ListingTypeList, now)
		trialC := build.Offer(ns, "trial-c", contoso.Name, v1alpha1.ListingTypeTrial, now)
		saasA := build.Offer(ns, "saas-a", contoso.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
		saasB := build.Offer(ns, "saas-b", fabrikam.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
		trialD := build.Offer(ns, "trial-d", northwind.Name, v1alpha1.ListingTypeTrial, now)
		laterE := build.Offer(ns, "later-e", northwind.Name, v1alpha1.ListingTypeTrial, now.AddDate(1, 0, 0))
		over := build.SalesRecord(ns, "over", saasA.Name, "10000", "USD", now.Add(-time.Hour))
		create(contoso, fabrikam, northwind, trialA, listB, trialC, saasA, saasB, trialD, laterE,
			build.SalesRecord(ns, "base", saasA.Name, "20000", "USD", now.Add(-2*time.Hour)), over,
			build.SalesRecord(ns, "b-line", saasB.Name, "30000", "USD", now.Add(-time.Hour)))

		expires := build.Activation(ns, "expires", trialA.Name, "presales-consult")
		opted := build.Activation(ns, "opted", listB.Name, "webinar")
		delisted := build.Activation(ns, "delisted", trialC.Name, "presales-consult")
		caseStudy := build.Activation(ns, "case", saasA.Name, "case-study")
		badge := build.Activation(ns, "badge", saasA.Name, "listing-badge")
		fraudBadge := build.Activation(ns, "fraud-badge", saasB.Name, "listing-badge")
		violated := build.Activation(ns, "violated", trialD.Name, "presales-consult")
		held := build.Activation(ns, "held", laterE.Name, "presales-consult")
		create(expires, opted, delisted, caseStudy, badge, fraudBadge, violated, held)
		granted := []*v1alpha1.BenefitActivation{expires, opted, delisted, caseStudy, badge, fraudBadge, violated}
		for _, a := range granted {
			Eventually(stateOf(a)).Should(Equal(active), a.Name)
			Expect(a.Status.ActivatedAt.Time).To(BeTemporally("==", now), a.Name)
		}
		Eventually(stateOf(held)).Should(Equal("Pending/OfferNotLive"))
		// A second activation of a one-time benefit already granted.
		second := build.Activation(ns, "delisted-second", trialC.Name, "presales-consult")
		create(second)
		Eventually(stateOf(second)).Should(Equal(pendingAlready))

		By("R4, R6: a cancellation billing reports late, dated before the grant, revokes the tier-2 benefit it alone unlocked")
		cancelledAt := now.Add(-30 * time.Minute)
		update(over, func(s *v1alpha1.SalesRecord) {
			s.Spec.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase, Time: &metav1.Time{Time: cancelledAt}}
		})
		Eventually(stateOf(caseStudy)).Should(Equal(revoked))
		Expect(caseStudy.Status.Revocation.Reason).To(Equal(v1alpha1.RevocationCancellation))
		Expect(caseStudy.Status.Revocation.CauseTime.Time).To(BeTemporally("==", cancelledAt), "causeTime: the cancellation's own time")
		Expect(caseStudy.Status.Revocation.RecordedAt.Time).To(BeTemporally("==", now), "recordedAt: when the operator recorded it")
		Expect(grantOf(caseStudy)().Spec.Revocation.CauseTime.Time).To(BeTemporally("==", cancelledAt))
		Eventually(publisherTier(contoso)).Should(Equal(int32(1)))
		Expect(stateOf(badge)()).To(Equal(active), "tier 1 is still reached")

		By("R3, R6: fraud reported on a line billed before the grant revokes; a fraud report has no instant of its own")
		suspect := build.SalesRecord(ns, "suspect", saasB.Name, "100", "USD", now.Add(-2*time.Hour))
		suspect.Spec.Fraud = v1alpha1.FraudSuspected
		create(suspect)
		Eventually(stateOf(fraudBadge)).Should(Equal(revoked))
		Expect(fraudBadge.Status.Revocation.Reason).To(Equal(v1alpha1.RevocationFraud))
		Expect(fraudBadge.Status.Revocation.CauseTime).To(BeNil())
		Expect(fraudBadge.Status.Revocation.RecordedAt.Time).To(BeTemporally("==", now))

		By("R1: a violation revokes what was granted and holds what was not")
		violationAt := now.Add(-2 * time.Hour)
		update(northwind, func(p *v1alpha1.Publisher) {
			p.Spec.Violations = []v1alpha1.Violation{{Type: v1alpha1.ViolationIllegalActivity, Time: metav1.NewTime(violationAt)}}
		})
		Eventually(stateOf(violated)).Should(Equal(revoked))
		Expect(violated.Status.Revocation.CauseTime.Time).To(BeTemporally("==", violationAt))
		Eventually(stateOf(held)).Should(Equal(pendingViolation))

		By("O6: opting out")
		update(opted, func(a *v1alpha1.BenefitActivation) { a.Spec.OptOut = true })
		Eventually(stateOf(opted)).Should(Equal(optedOut))

		By("R2: delisting revokes the granted activation and the pending one")
		delistAt := now.Add(time.Hour)
		update(trialC, func(o *v1alpha1.Offer) { o.Spec.DelistedAt = &metav1.Time{Time: delistAt} })
		fakeClock.SetTime(delistAt)
		Eventually(stateOf(delisted)).Should(Equal(revoked))
		Expect(delisted.Status.Revocation.RecordedAt.Time).To(BeTemporally("==", delistAt))
		Eventually(stateOf(second)).Should(Equal(revoked))
		Expect(second.Status.Revocation.RecordedAt).To(BeNil(), "never granted: nothing recorded")

		By("O4: expiry")
		expiry := rewards.AddCalendarMonths(now, 3)
		fakeClock.SetTime(expiry)
		Eventually(stateOf(expires)).Should(Equal(expired))
		Eventually(func() []int64 {
			return []int64{fetch(contoso)().Status.RevocationCount, fetch(fabrikam)().Status.RevocationCount, fetch(northwind)().Status.RevocationCount}
		}).Should(Equal([]int64{2, 1, 1}), "each revocation of a granted benefit once")
		Expect(contoso.Status.Revocations[0].Activation).To(Equal(delisted.Name), "newest recordedAt first")
		Expect(contoso.Status.Revocations[1].Activation).To(Equal(caseStudy.Name))
		for _, a := range granted {
			Eventually(func() int { return countEvents(a, "Activated") }).Should(Equal(1), a.Name)
		}
		// O5: three months on, every live offer with no contacted activation
		// shows the follow-up hint. The snapshot below must be of that
		// converged state, not of an offer still being reconciled when the
		// manager stops.
		for _, o := range []*v1alpha1.Offer{trialA, listB, saasA, saasB, trialD} {
			Eventually(func() string { return fetch(o)().Status.FollowUpHint }).ShouldNot(BeEmpty(), o.Name)
		}

		By("every status wiped while the operator is stopped")
		stopManager()
		restartManagerAfterTest()
		before := statusesOf(ns, prog.Name)
		creates := map[string]int{}
		for _, a := range granted {
			creates[a.Name] = grantCreates.of(&v1alpha1.BenefitGrant{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: a.Name}})
			Expect(creates[a.Name]).To(Equal(1), a.Name)
		}
		wipeStatuses(ns, prog.Name)
		Expect(allWiped(k8sClient, ns)).To(BeTrue())

		startManager()
		Eventually(func() map[string]string { return statusesOf(ns, prog.Name) }).Should(Equal(before),
			"every status identical but for lastTransitionTime")
		for _, a := range granted {
			Expect(grantCreates.of(&v1alpha1.BenefitGrant{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: a.Name}})).
				To(Equal(creates[a.Name]), "no grant created again for %s", a.Name)
			Expect(countEvents(a, "Activated")).To(Equal(1), "no second Activated event for %s", a.Name)
		}
	})

	It("repairs a status wiped while the operator runs within one resync period, and writes nothing when a resync changes nothing", func() {
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
		saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-time.Hour))
		act := build.Activation(ns, "presales", offer.Name, "presales-consult")
		create(pub, offer, saas, build.SalesRecord(ns, "l", saas.Name, "30000", "USD", now.Add(-time.Hour)), act)
		Eventually(stateOf(act)).Should(Equal(active))
		Eventually(publisherTier(pub)).Should(Equal(int32(2)))
		Eventually(func() int64 { return fetch(offer)().Status.ObservedGeneration }).Should(Equal(offer.Generation))
		before := statusesOf(ns, prog.Name)

		wipeStatuses(ns, prog.Name)
		// Wait until the operator's cache has seen the wipe (status-only
		// changes are not events it reconciles on).
		Eventually(func() bool { return allWiped(mgr.GetClient(), ns) }).Should(BeTrue())
		fakeClock.Step(controllers.DefaultResyncPeriod)
		Eventually(func() map[string]string { return statusesOf(ns, prog.Name) }).Should(Equal(before))

		By("0 writes while idle: a resync that changes nothing writes nothing")
		actWrites, pubWrites := writes.of(act), writes.of(pub)
		resynced(act, pub)
		Expect(writes.of(act)).To(Equal(actWrites))
		Expect(writes.of(pub)).To(Equal(pubWrites))
	})

	It("B4: keeps a granted benefit Active, with its instants, while its program, publisher or offer is deleted and created again; one Activated event in all", func() {
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
		act := build.Activation(ns, "presales", offer.Name, "presales-consult")
		create(pub, offer, act)
		Eventually(stateOf(act)).Should(Equal(active))
		activatedAt, dueBy, expiresAt := act.Status.ActivatedAt.Time, act.Status.ContactDueBy.Time, act.Status.ExpiresAt.Time
		keptWhile := func(reason string) {
			GinkgoHelper()
			Eventually(stateOf(act)).Should(Equal("Active/" + reason))
			Expect(readyCondition(act.Status.Conditions).Status).To(Equal(metav1.ConditionFalse))
			Expect(act.Status.ActivatedAt.Time).To(BeTemporally("==", activatedAt))
			Expect(act.Status.ContactDueBy.Time).To(BeTemporally("==", dueBy))
			Expect(act.Status.ExpiresAt.Time).To(BeTemporally("==", expiresAt))
		}
		resumed := func() {
			GinkgoHelper()
			Eventually(stateOf(act)).Should(Equal(active))
			Expect(act.Status.ActivatedAt.Time).To(BeTemporally("==", activatedAt))
		}
		fakeClock.Step(time.Hour)
		progAgain := prog.DeepCopy()
		Expect(k8sClient.Delete(bg, prog)).To(Succeed())
		keptWhile("ProgramNotFound")
		progAgain.ObjectMeta = metav1.ObjectMeta{Name: prog.Name}
		create(progAgain)
		resumed()

		pubAgain := pub.DeepCopy()
		Expect(k8sClient.Delete(bg, pub)).To(Succeed())
		keptWhile("PublisherNotFound")
		pubAgain.ObjectMeta = metav1.ObjectMeta{Name: pub.Name, Namespace: ns}
		create(pubAgain)
		resumed()

		offerAgain := offer.DeepCopy()
		Expect(k8sClient.Delete(bg, offer)).To(Succeed())
		keptWhile("OfferNotFound")
		offerAgain.ObjectMeta = metav1.ObjectMeta{Name: offer.Name, Namespace: ns}
		create(offerAgain)
		resumed()

		Expect(grantCreates.of(&v1alpha1.BenefitGrant{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: act.Name}})).To(Equal(1))
		Expect(countEvents(act, "Activated")).To(Equal(1))
	})

	It("upgrade: activations an earlier version made Active or Revoked, with no grant, get one built from their status", func() {
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now.Add(-10*24*time.Hour))
		create(pub, offer)
		stopManager()
		restartManagerAfterTest()

		// The statuses a version without grants wrote: instants in status
		// only, the revocation with its time only.
		since, revokedAt := now.Add(-9*24*time.Hour), now.Add(-24*time.Hour)
		expiresAt := rewards.AddCalendarMonths(offer.Spec.LiveAt.Time, 3)
		old := func(name, benefit string, cat v1alpha1.BenefitCategory, phase v1alpha1.ActivationPhase, rev *v1alpha1.Revocation) *v1alpha1.BenefitActivation {
			a := build.Activation(ns, name, offer.Name, benefit)
			create(a)
			a.Status = v1alpha1.BenefitActivationStatus{
				ObservedGeneration: a.Generation, Phase: phase, Publisher: pub.Name, Category: cat,
				ActivatedAt: &metav1.Time{Time: since}, ContactDueBy: &metav1.Time{Time: since.Add(7 * 24 * time.Hour)},
				ExpiresAt: &metav1.Time{Time: expiresAt}, Revocation: rev,
				Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Active", Message: "old", LastTransitionTime: metav1.NewTime(since)}},
			}
			Expect(k8sClient.Status().Update(bg, a)).To(Succeed())
			return a
		}
		activeOld := old("active-old", "presales-consult", v1alpha1.BenefitCategoryTechnical, v1alpha1.ActivationActive, nil)
		revokedOld := old("revoked-old", "webinar", v1alpha1.BenefitCategoryMarketing, v1alpha1.ActivationRevoked, &v1alpha1.Revocation{
			Reason: v1alpha1.RevocationViolation, Message: "an old violation", Time: metav1.NewTime(revokedAt),
			CausedBy: &v1alpha1.ObjectReference{Kind: "Publisher", Name: pub.Name},
		})

		// The publisher's status as that version wrote it: one revocation.
		fetch(pub)()
		pub.Status.ObservedGeneration, pub.Status.RevocationCount = pub.Generation, 1
		pub.Status.Revocations = []v1alpha1.RevocationRecord{{Activation: revokedOld.Name, Reason: v1alpha1.RevocationViolation,
			Message: "an old violation", Time: metav1.NewTime(revokedAt)}}
		Expect(k8sClient.Status().Update(bg, pub)).To(Succeed())
		counts := revocationCounts(ns)

		startManager()
		Eventually(grantOf(activeOld)).ShouldNot(BeNil())
		g := grantOf(activeOld)()
		Expect(g.Spec.ActivatedAt.Time).To(BeTemporally("==", since), "adopted from status, not the time of the upgrade")
		Expect(g.Spec.ExpiresAt.Time).To(BeTemporally("==", expiresAt))
		Expect(g.Spec.Activation.UID).To(Equal(activeOld.UID))
		Expect(g.OwnerReferences).To(BeEmpty(), "R8: a grant outlives its activation")
		Expect(g.Labels).To(HaveKeyWithValue(v1alpha1.LabelPublisher, pub.Name))
		Eventually(stateOf(activeOld)).Should(Equal(active))
		Expect(activeOld.Status.ActivatedAt.Time).To(BeTemporally("==", since))

		Eventually(grantOf(revokedOld)).ShouldNot(BeNil())
		Expect(grantOf(revokedOld)().Spec.Revocation.RecordedAt.Time).To(BeTemporally("==", revokedAt))
		Eventually(stateOf(revokedOld)).Should(Equal(revoked), "the violation is gone, the revocation is kept")
		Expect(revokedOld.Status.Revocation.RecordedAt.Time).To(BeTemporally("==", revokedAt))
		Eventually(func() int64 { return fetch(pub)().Status.RevocationCount }).Should(Equal(int64(1)))
		reconciledAfter(func() { update(pub, func(p *v1alpha1.Publisher) { p.Spec.DisplayName = "Contoso" }) }, pub)
		Expect(counts()[pub.Name]).To(HaveEach(int64(1)),
			"the count is never written from an adoption that has not finished: no 1 -> 0 -> 1 for a watcher or an alert to see")

		Eventually(func() int { return countEvents(activeOld, "GrantAdopted") }).Should(Equal(1))
		Expect(countEvents(activeOld, "Activated")).To(BeZero(), "it was activated before the upgrade")
	})

	It("records grants only the operator writes: every field is immutable once set", func() {
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
		act := build.Activation(ns, "presales", offer.Name, "presales-consult")
		create(pub, offer, act)
		Eventually(grantOf(act)).ShouldNot(BeNil())
		g := grantOf(act)()
		Expect(g.Spec.Publisher).To(Equal(pub.Name))
		Expect(g.Spec.Offer).To(Equal(offer.Name))
		Expect(g.Spec.Benefit).To(Equal("presales-consult"))
		Expect(g.Spec.Category).To(Equal(v1alpha1.BenefitCategoryTechnical))
		Expect(g.Spec.ActivatedAt.Time).To(BeTemporally("==", now))
		Expect(g.Spec.ContactDueBy.Time).To(BeTemporally("==", now.Add(7*24*time.Hour)))
		Expect(g.Spec.ExpiresAt.Time).To(BeTemporally("==", rewards.AddCalendarMonths(now, 3)))
		Expect(g.OwnerReferences).To(BeEmpty(), "R8: no ownerReference the garbage collector follows")
		Expect(g.Labels).To(Equal(map[string]string{
			v1alpha1.LabelPublisher: pub.Name, v1alpha1.LabelOffer: offer.Name, v1alpha1.LabelBenefit: "presales-consult",
		}), "labels to select a publisher's records by")
		Expect(g.Spec.Program).NotTo(BeNil())
		Expect(g.Spec.Program.Name).To(Equal(prog.Name))
		Expect(g.Spec.Program.Revision).To(Equal(fetch(prog)().Status.Revision), "granted under the revision in force")

		for field, mutate := range map[string]func(*v1alpha1.BenefitGrant){
			"spec.activatedAt": func(g *v1alpha1.BenefitGrant) { g.Spec.ActivatedAt = metav1.NewTime(now.Add(time.Hour)) },
			"spec.expiresAt":   func(g *v1alpha1.BenefitGrant) { g.Spec.ExpiresAt = nil },
			"spec.benefit":     func(g *v1alpha1.BenefitGrant) { g.Spec.Benefit = "webinar" },
			"spec.activation":  func(g *v1alpha1.BenefitGrant) { g.Spec.Activation.UID = "forged" },
			"spec.program":     func(g *v1alpha1.BenefitGrant) { g.Spec.Program.Revision = "forged" },
		} {
			edited := grantOf(act)()
			mutate(edited)
			err := k8sClient.Update(bg, edited)
			Expect(err).To(HaveOccurred(), field)
			Expect(err.Error()).To(ContainSubstring(field), field)
		}

		update(pub, func(p *v1alpha1.Publisher) {
			p.Spec.Violations = []v1alpha1.Violation{{Type: v1alpha1.ViolationIllegalActivity, Time: metav1.NewTime(now)}}
		})
		Eventually(stateOf(act)).Should(Equal(revoked))
		edited := grantOf(act)()
		edited.Spec.Revocation.Reason = v1alpha1.RevocationFraud
		err := k8sClient.Update(bg, edited)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.revocation"))
	})
})

// startGarbageCollector runs kube-controller-manager with only its garbage
// collector against the suite's API server (envtest runs none), until the
// end of the test.
func startGarbageCollector() {
	GinkgoHelper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	Expect(assets).NotTo(BeEmpty(), "KUBEBUILDER_ASSETS")
	bin := filepath.Join(assets, "kube-controller-manager")
	Expect(bin).To(BeAnExistingFile(), "hack/build-test-binaries.sh builds it")
	kubeconfig, err := testenv.AdminKubeconfig(testEnv, "garbage-collector", GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command(bin, "--kubeconfig="+kubeconfig, "--controllers=garbage-collector-controller",
		"--leader-elect=false", "--secure-port=0", "--concurrent-gc-syncs=5")
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

// garbageCollected deletes obj, after giving it a ConfigMap that it owns,
// and waits until the garbage collector has deleted that ConfigMap: by
// then the collector has processed obj's deletion, so anything else obj
// would take with it is gone too. It is how a test shows that the
// collector left something alone.
func garbageCollected(obj client.Object) {
	GinkgoHelper()
	gvk, err := apiutil.GVKForObject(obj, scheme)
	Expect(err).NotTo(HaveOccurred())
	witness := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: obj.GetNamespace(), GenerateName: obj.GetName() + "-witness-",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: obj.GetName(), UID: obj.GetUID()}},
	}}
	Expect(k8sClient.Create(bg, witness)).To(Succeed())
	Expect(k8sClient.Delete(bg, obj)).To(Succeed())
	// The garbage collector first discovers every resource and fills its
	// graph; on a loaded machine that takes a while.
	Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(bg, client.ObjectKeyFromObject(witness), &corev1.ConfigMap{}))
	}, 3*time.Minute, time.Second).Should(BeTrue(), "the garbage collector deletes what %s owns", obj.GetName())
}

var _ = Describe("R8: a grant outlives its activation", func() {
	It("R8: deleting activations, with the garbage collector running, deletes none of their grants; B3 and the publisher's history count them still", func() {
		startGarbageCollector()
		ns := newNamespace()
		prog := activationProgram()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, fakeClock.Now())
		act := build.Activation(ns, "presales", offer.Name, "presales-consult")
		webinar := build.Activation(ns, "webinar", offer.Name, "webinar")
		create(prog, pub, offer, act, webinar)
		Eventually(stateOf(act)).Should(Equal(active))
		Eventually(stateOf(webinar)).Should(Equal(active))
		update(webinar, func(a *v1alpha1.BenefitActivation) { a.Spec.OptOut = true })
		Eventually(stateOf(webinar)).Should(Equal(optedOut))
		update(pub, func(p *v1alpha1.Publisher) {
			p.Spec.Violations = []v1alpha1.Violation{{Type: v1alpha1.ViolationIllegalActivity, Time: metav1.NewTime(fakeClock.Now())}}
		})
		Eventually(stateOf(webinar)).Should(Equal(revoked))
		Eventually(stateOf(act)).Should(Equal(revoked))
		Eventually(func() int64 { return fetch(pub)().Status.RevocationCount }).Should(Equal(int64(2)))
		history := fetch(pub)().Status.Revocations

		garbageCollected(act)
		garbageCollected(webinar)
		Expect(grantOf(act)()).NotTo(BeNil(), "R8: the grant of a deleted activation stays")
		Expect(grantOf(webinar)()).NotTo(BeNil())

		By("the publisher's history keeps the revocations of deleted activations")
		reconciledAfter(func() { update(pub, func(p *v1alpha1.Publisher) { p.Spec.DisplayName = "Contoso" }) }, pub)
		Expect(fetch(pub)().Status.RevocationCount).To(Equal(int64(2)))
		Expect(pub.Status.Revocations).To(Equal(history))

		By("B3: a used one-time benefit stays used under another name")
		update(pub, func(p *v1alpha1.Publisher) { p.Spec.Violations = nil })
		again := build.Activation(ns, "presales-again", offer.Name, "presales-consult")
		create(again)
		Eventually(stateOf(again)).Should(Equal(pendingAlready))
		Expect(readyCondition(again.Status.Conditions).Message).To(ContainSubstring(`BenefitGrant "presales"`))
	})
})
