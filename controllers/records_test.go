package controllers_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// Records keyed by meaning (docs/rules.md, "The durable record", R7, R8): a
// restore, a GitOps replace or a partner's delete + apply never changes
// what was granted or revoked.

// recordsWorkload is a namespace with a benefit in every state a restore
// must keep: Active (Trial, List, Transact), AlreadyUsed, OptedOut,
// Expired, Pending (tier), and Revoked by each reason (R1 violation, R2
// delisting, R3 fraud, R4 cancellation).
type recordsWorkload struct {
	ns   string
	prog *v1alpha1.RewardsProgram
	// granted are the activations that were granted: one Activated Event
	// each, whatever happens after.
	granted     []*v1alpha1.BenefitActivation
	activations []*v1alpha1.BenefitActivation
}

func newRecordsWorkload() *recordsWorkload {
	GinkgoHelper()
	w := &recordsWorkload{ns: newNamespace(), prog: activationProgram()}
	ns, now := w.ns, clockAtWholeSecond()
	contoso := build.Publisher(ns, "contoso", build.Following(w.prog.Name), build.WithContact())
	fabrikam := build.Publisher(ns, "fabrikam", build.Following(w.prog.Name), build.WithContact())
	northwind := build.Publisher(ns, "northwind", build.Following(w.prog.Name), build.WithContact())
	trial := build.Offer(ns, "trial", contoso.Name, v1alpha1.ListingTypeTrial, now)
	list := build.Offer(ns, "list", contoso.Name, v1alpha1.ListingTypeList, now)
	delisted := build.Offer(ns, "delisted", contoso.Name, v1alpha1.ListingTypeTrial, now)
	// Live three months less an hour ago: its benefits expire in an hour.
	ending := build.Offer(ns, "ending", contoso.Name, v1alpha1.ListingTypeTrial, rewards.AddCalendarMonths(now, -3).Add(time.Hour))
	saas := build.Offer(ns, "saas", contoso.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
	fabSaas := build.Offer(ns, "fab-saas", fabrikam.Name, v1alpha1.ListingTypeTransact, now.Add(-24*time.Hour))
	nwTrial := build.Offer(ns, "nw-trial", northwind.Name, v1alpha1.ListingTypeTrial, now)
	over := build.SalesRecord(ns, "over", saas.Name, "10000", "USD", now.Add(-time.Hour))
	create(w.prog, contoso, fabrikam, northwind, trial, list, delisted, ending, saas, fabSaas, nwTrial,
		build.SalesRecord(ns, "base", saas.Name, "20000", "USD", now.Add(-2*time.Hour)), over,
		build.SalesRecord(ns, "fab-line", fabSaas.Name, "1000", "USD", now.Add(-time.Hour)))

	act := func(name, offer, benefit string) *v1alpha1.BenefitActivation {
		a := build.Activation(ns, name, offer, benefit)
		w.activations = append(w.activations, a)
		return a
	}
	trialActive := act("trial-active", trial.Name, "webinar")
	opted := act("trial-opted", trial.Name, "presales-consult")
	listUsed := act("list-used", list.Name, "webinar")
	badge := act("saas-badge", saas.Name, "listing-badge")
	cancelled := act("saas-case", saas.Name, "case-study")
	delistedAct := act("delisted-act", delisted.Name, "webinar")
	expiring := act("ending-act", ending.Name, "webinar")
	fraud := act("fab-badge", fabSaas.Name, "listing-badge")
	violated := act("nw-act", nwTrial.Name, "webinar")
	waiting := act("saas-campaign", saas.Name, "campaign")
	for _, a := range w.activations {
		create(a)
	}
	w.granted = []*v1alpha1.BenefitActivation{trialActive, opted, listUsed, badge, cancelled, delistedAct, expiring, fraud, violated}
	for _, a := range w.granted {
		Eventually(stateOf(a)).Should(Equal(active), a.Name)
	}
	Eventually(stateOf(waiting)).Should(Equal("Pending/TierNotReached"))
	second := act("trial-second", trial.Name, "webinar")
	create(second)
	Eventually(stateOf(second)).Should(Equal(pendingAlready))

	update(opted, func(a *v1alpha1.BenefitActivation) { a.Spec.OptOut = true })
	update(over, func(s *v1alpha1.SalesRecord) {
		s.Spec.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase, Time: &metav1.Time{Time: now.Add(-30 * time.Minute)}}
	})
	suspect := build.SalesRecord(ns, "suspect", fabSaas.Name, "100", "USD", now.Add(-2*time.Hour))
	suspect.Spec.Fraud = v1alpha1.FraudSuspected
	create(suspect)
	update(northwind, func(p *v1alpha1.Publisher) {
		p.Spec.Violations = []v1alpha1.Violation{{Type: v1alpha1.ViolationIllegalActivity, Time: metav1.NewTime(now.Add(-2 * time.Hour))}}
	})
	update(delisted, func(o *v1alpha1.Offer) { o.Spec.DelistedAt = &metav1.Time{Time: now.Add(time.Minute)} })
	fakeClock.Step(time.Hour)

	for a, want := range map[*v1alpha1.BenefitActivation]string{
		opted: optedOut, cancelled: revoked, fraud: revoked, violated: revoked, delistedAct: revoked, expiring: expired,
		trialActive: active, listUsed: active, badge: active, second: pendingAlready, waiting: "Pending/TierNotReached",
	} {
		Eventually(stateOf(a)).Should(Equal(want), a.Name)
	}
	Eventually(func() []int64 {
		return []int64{fetch(contoso)().Status.RevocationCount, fetch(fabrikam)().Status.RevocationCount, fetch(northwind)().Status.RevocationCount}
	}).Should(Equal([]int64{2, 1, 1}))
	// The statuses compared below must be of this converged state.
	resynced(append(objectsOf(w.activations), contoso, fabrikam, northwind, trial, list, delisted, ending, saas, fabSaas, nwTrial)...)
	return w
}

func objectsOf(acts []*v1alpha1.BenefitActivation) []client.Object {
	out := make([]client.Object, len(acts))
	for i, a := range acts {
		out[i] = a
	}
	return out
}

// recordedStatuses are statusesOf without the generations statuses were
// computed from: objects created again start their generations over, and
// that is not part of what was granted or revoked.
func recordedStatuses(ns, program string) map[string]string {
	out := statusesOf(ns, program)
	for k, v := range out {
		var st map[string]any
		Expect(json.Unmarshal([]byte(v), &st)).To(Succeed())
		delete(st, "observedGeneration")
		if conds, ok := st["conditions"].([]any); ok {
			for _, c := range conds {
				delete(c.(map[string]any), "observedGeneration")
			}
		}
		b, err := json.Marshal(st)
		Expect(err).NotTo(HaveOccurred())
		out[k] = string(b)
	}
	return out
}

// recordKinds are what a backup of a namespace holds, in the order a
// restore that puts the records first creates them; the program and its
// revisions are cluster-scoped.
var recordKinds = []string{"RewardsProgramRevision", "BenefitGrant", "RewardsProgram", "Publisher", "Offer", "SalesRecord", "BenefitActivation"}

// veleroOrder is the order Velero restores these kinds in by default: by
// resource name, alphabetically (after its own high-priority kinds).
var veleroOrder = []string{"BenefitActivation", "BenefitGrant", "Offer", "Publisher", "RewardsProgramRevision", "RewardsProgram", "SalesRecord"}

// backup is what a backup tool keeps of a namespace and its program: every
// object without status, uid, resourceVersion and creation time.
type backup map[string][]*unstructured.Unstructured

func listKind(kind, ns string) []unstructured.Unstructured {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind + "List"))
	var opts []client.ListOption
	if kind != "RewardsProgram" && kind != "RewardsProgramRevision" {
		opts = append(opts, client.InNamespace(ns))
	}
	Expect(k8sClient.List(bg, list, opts...)).To(Succeed())
	return list.Items
}

func takeBackup(w *recordsWorkload) backup {
	GinkgoHelper()
	b := backup{}
	for _, kind := range recordKinds {
		for i := range listKind(kind, w.ns) {
			u := listKind(kind, w.ns)[i].DeepCopy()
			switch kind {
			case "RewardsProgram":
				if u.GetName() != w.prog.Name {
					continue
				}
			case "RewardsProgramRevision":
				if program, _, _ := unstructured.NestedString(u.Object, "spec", "program"); program != w.prog.Name {
					continue
				}
			}
			unstructured.RemoveNestedField(u.Object, "status")
			for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"} {
				unstructured.RemoveNestedField(u.Object, "metadata", f)
			}
			b[kind] = append(b[kind], u)
		}
	}
	Expect(b["BenefitGrant"]).To(HaveLen(len(w.granted)))
	Expect(b["RewardsProgramRevision"]).NotTo(BeEmpty())
	return b
}

// withStaleOwners gives every grant of the backup the ownerReference a
// version before R8 wrote: its activation, by the uid it had then.
func (b backup) withStaleOwners() backup {
	uids := map[string]types.UID{}
	for _, a := range b["BenefitActivation"] {
		var live v1alpha1.BenefitActivation
		Expect(k8sClient.Get(bg, types.NamespacedName{Namespace: a.GetNamespace(), Name: a.GetName()}, &live)).To(Succeed())
		uids[a.GetName()] = live.UID
	}
	for _, g := range b["BenefitGrant"] {
		g.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "BenefitActivation",
			Name: g.GetName(), UID: uids[g.GetName()], Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true)}})
	}
	return b
}

func ptrTo[T any](v T) *T { return &v }

// wipe deletes the namespace's objects, its program and the program's
// revisions, as a disaster would, and waits until the API server and the
// operator's cache hold none of them. Activations go first: with the
// operator running, an activation whose grant is gone would be granted
// again.
func wipe(w *recordsWorkload) {
	GinkgoHelper()
	order := []string{"BenefitActivation", "BenefitGrant", "SalesRecord", "Offer", "Publisher", "RewardsProgram", "RewardsProgramRevision"}
	for _, kind := range order {
		for _, u := range listKind(kind, w.ns) {
			if (kind == "RewardsProgram" && u.GetName() != w.prog.Name) || kind == "RewardsProgramRevision" && !belongsTo(&u, w.prog.Name) {
				continue
			}
			Expect(client.IgnoreNotFound(k8sClient.Delete(bg, &u))).To(Succeed())
		}
		Eventually(func() int {
			n := 0
			for _, u := range listKind(kind, w.ns) {
				if (kind != "RewardsProgram" || u.GetName() == w.prog.Name) && (kind != "RewardsProgramRevision" || belongsTo(&u, w.prog.Name)) {
					n++
				}
			}
			return n
		}).Should(BeZero(), "every %s deleted", kind)
	}
}

func belongsTo(rev *unstructured.Unstructured, program string) bool {
	p, _, _ := unstructured.NestedString(rev.Object, "spec", "program")
	return p == program
}

// restore creates the backup's objects kind by kind in order, each kind
// once the previous is in the API server.
func (b backup) restore(order []string) {
	GinkgoHelper()
	for _, kind := range order {
		for _, u := range b[kind] {
			Expect(k8sClient.Create(bg, u.DeepCopy())).To(Succeed(), "%s %s", kind, u.GetName())
		}
	}
}

// withoutOwners is the backup as Velero restores it: ownerReferences
// removed.
func (b backup) withoutOwners() backup {
	for _, objs := range b {
		for _, u := range objs {
			u.SetOwnerReferences(nil)
		}
	}
	return b
}

// expectRecordsKept waits until every status is what it was before, and
// checks that no activation was granted or announced twice.
func expectRecordsKept(w *recordsWorkload, before map[string]string) {
	GinkgoHelper()
	Eventually(func() map[string]string { return recordedStatuses(w.ns, w.prog.Name) }, 2*time.Minute).Should(Equal(before),
		"every phase, instant, revocation and history as before")
	for _, a := range w.granted {
		Expect(countEvents(a, v1alpha1.EventActivated)).To(Equal(1), "no second Activated Event for %s", a.Name)
	}
}

var _ = Describe("Records keyed by meaning (R7, R8)", func() {
	DescribeTable("R7, R8: a restore, whatever its order, changes no phase, instant, revocation or history",
		func(prepare func(*recordsWorkload, backup) (backup, []string), operatorStopped bool) {
			w := newRecordsWorkload()
			before := recordedStatuses(w.ns, w.prog.Name)
			b, order := prepare(w, takeBackup(w))
			if operatorStopped {
				stopManager()
				restartManagerAfterTest()
			}
			wipe(w)
			b.restore(order)
			if operatorStopped {
				startManager()
			}
			expectRecordsKept(w, before)
			for _, g := range listKind("BenefitGrant", w.ns) {
				Expect(g.GetOwnerReferences()).To(BeEmpty(), "R8: grant %s outlives its activation", g.GetName())
			}
		},
		Entry("the records first (revisions and grants, then the rest), operator running", func(_ *recordsWorkload, b backup) (backup, []string) {
			return b.withoutOwners(), recordKinds
		}, false),
		Entry("activations first, in Velero's order (activations, grants, offers, publishers, revisions, program, sales lines), operator running",
			func(_ *recordsWorkload, b backup) (backup, []string) { return b.withoutOwners(), veleroOrder }, false),
		Entry("grants with the ownerReferences of a backup made before R8, their owners' uids stale, while the garbage collector runs, operator running",
			func(_ *recordsWorkload, b backup) (backup, []string) {
				startGarbageCollector()
				return b.withStaleOwners(), recordKinds
			}, false),
		Entry("operator stopped during the restore (activations before grants), then started", func(_ *recordsWorkload, b backup) (backup, []string) {
			return b.withoutOwners(), []string{"RewardsProgram", "Publisher", "Offer", "SalesRecord", "BenefitActivation", "RewardsProgramRevision", "BenefitGrant"}
		}, true),
	)

	Context("a partner deletes an activation and applies it again", func() {
		var (
			ns   string
			prog *v1alpha1.RewardsProgram
			pub  *v1alpha1.Publisher
			now  time.Time
		)
		BeforeEach(func() {
			ns = newNamespace()
			prog = activationProgram()
			pub = build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
			create(prog, pub)
			now = clockAtWholeSecond()
		})

		// reapplied deletes a and creates it again from its spec, as
		// `kubectl delete` then `kubectl apply` of the same file does,
		// once the operator has seen it go.
		reapplied := func(a *v1alpha1.BenefitActivation) *v1alpha1.BenefitActivation {
			GinkgoHelper()
			Expect(k8sClient.Delete(bg, a)).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(mgr.GetClient().Get(bg, client.ObjectKeyFromObject(a), &v1alpha1.BenefitActivation{}))
			}).Should(BeTrue())
			again := build.Activation(ns, a.Name, a.Spec.OfferRef.Name, a.Spec.Benefit)
			again.Spec = *a.Spec.DeepCopy()
			create(again)
			Expect(again.UID).NotTo(Equal(a.UID))
			return again
		}

		It("R7: a revoked benefit stays revoked, with its revocation and the publisher's history, after the violation is lifted", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			act := build.Activation(ns, "webinar", offer.Name, "webinar")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal(active))
			update(pub, func(p *v1alpha1.Publisher) {
				p.Spec.Violations = []v1alpha1.Violation{{Type: v1alpha1.ViolationCopyrightOrTrademark, Time: metav1.NewTime(now)}}
			})
			Eventually(stateOf(act)).Should(Equal(revoked))
			revocation := act.Status.Revocation.DeepCopy()
			update(pub, func(p *v1alpha1.Publisher) { p.Spec.Violations = nil })
			Eventually(func() int64 { return fetch(pub)().Status.RevocationCount }).Should(Equal(int64(1)))
			history := pub.Status.Revocations

			again := reapplied(act)
			Eventually(stateOf(again)).Should(Equal(revoked))
			Expect(again.Status.Revocation).To(Equal(revocation))
			reconciledAfter(func() { update(pub, func(p *v1alpha1.Publisher) { p.Spec.DisplayName = "Contoso" }) }, pub)
			Expect(fetch(pub)().Status.Revocations).To(Equal(history), "the history keeps the revocation")
			Expect(countEvents(again, v1alpha1.EventActivated)).To(Equal(1))
		})

		DescribeTable("R7: a granted benefit applied again is the same grant: its instants, no second grant, no second Activated Event",
			func(lt v1alpha1.ListingType, benefit string) {
				liveAt := now
				if lt == v1alpha1.ListingTypeTransact {
					liveAt = now.Add(-time.Hour)
				}
				offer := build.Offer(ns, "offer", pub.Name, lt, liveAt)
				act := build.Activation(ns, "act", offer.Name, benefit)
				create(offer, act)
				Eventually(stateOf(act)).Should(Equal(active))
				activatedAt, dueBy := act.Status.ActivatedAt.Time, act.Status.ContactDueBy.Time
				fakeClock.Step(time.Hour)

				again := reapplied(act)
				Eventually(stateOf(again)).Should(Equal(active))
				Expect(again.Status.ActivatedAt.Time).To(BeTemporally("==", activatedAt), "activatedAt never moves")
				Expect(again.Status.ContactDueBy.Time).To(BeTemporally("==", dueBy))
				Expect(countEvents(again, v1alpha1.EventActivated)).To(Equal(1), "no second Activated Event")
				Expect(grantCreates.of(grantOf(again)())).To(Equal(1), "no second grant")
			},
			Entry("a used one-time List benefit", v1alpha1.ListingTypeList, "webinar"),
			Entry("a Transact benefit", v1alpha1.ListingTypeTransact, "listing-badge"),
		)

		It("B3, R8: a used one-time benefit stays used: applied again under another name it is AlreadyUsed", func() {
			offer := build.Offer(ns, "list", pub.Name, v1alpha1.ListingTypeList, now)
			act := build.Activation(ns, "webinar", offer.Name, "webinar")
			create(offer, act)
			Eventually(stateOf(act)).Should(Equal(active))
			Expect(k8sClient.Delete(bg, act)).To(Succeed())
			renamed := build.Activation(ns, "webinar-2", offer.Name, "webinar")
			create(renamed)
			Eventually(stateOf(renamed)).Should(Equal(pendingAlready), "the same one-time benefit under another name")
			Expect(readyCondition(renamed.Status.Conditions).Message).To(ContainSubstring(`BenefitGrant "webinar"`))
		})

		It("R7: an activation applied under a name held by another benefit's grant stays Pending, naming the grant and what to do; a forged grant never makes it Active", func() {
			offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now)
			held := build.Activation(ns, "engagement", offer.Name, "webinar")
			create(offer, held)
			Eventually(stateOf(held)).Should(Equal(active))
			Expect(k8sClient.Delete(bg, held)).To(Succeed())

			renamed := build.Activation(ns, "engagement", offer.Name, "presales-consult")
			create(renamed)
			Eventually(stateOf(renamed)).Should(Equal("Pending/" + v1alpha1.ReasonNameHeldByGrant))
			msg := readyCondition(renamed.Status.Conditions).Message
			Expect(msg).To(ContainSubstring(`BenefitGrant "engagement"`))
			Expect(msg).To(ContainSubstring(`"webinar"`))
			Expect(msg).To(ContainSubstring("another name"))
			Expect(msg).To(ContainSubstring("administrator delete"))
			Eventually(func() int { return countEvents(renamed, v1alpha1.ReasonNameHeldByGrant) }).Should(Equal(1))
			Expect(grantOf(renamed)().Spec.Benefit).To(Equal("webinar"), "the record is untouched")

			By("a grant forged for another benefit")
			forged := build.Grant(ns, "forged", offer.Name, "webinar", pub.Name, now)
			create(forged)
			other := build.Activation(ns, "forged", offer.Name, "presales-consult")
			create(other)
			Eventually(stateOf(other)).Should(Equal("Pending/" + v1alpha1.ReasonNameHeldByGrant))
			resynced(other)
			Expect(stateOf(other)()).To(Equal("Pending/"+v1alpha1.ReasonNameHeldByGrant), "never Active from a grant of another benefit")
		})
	})

	It("B3: two activations of a one-time benefit created in the same second: the name that sorts first wins, in both creation orders", func() {
		ns := newNamespace()
		prog := activationProgram()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		create(prog, pub)
		now := clockAtWholeSecond()
		for _, order := range [][2]string{{"a", "b"}, {"b", "a"}} {
			var first, second *v1alpha1.BenefitActivation
			attempt := 0
			// The offer is Live before either exists, so the operator may
			// decide each as soon as it sees it. An attempt whose two
			// creations straddle a second is left alone and tried again.
			Eventually(func() bool {
				attempt++
				offer := build.Offer(ns, fmt.Sprintf("same-second-%s%s-%d", order[0], order[1], attempt), pub.Name, v1alpha1.ListingTypeTrial, now)
				create(offer)
				first = build.Activation(ns, offer.Name+"-"+order[0], offer.Name, "webinar")
				second = build.Activation(ns, offer.Name+"-"+order[1], offer.Name, "webinar")
				create(first, second)
				return first.CreationTimestamp.Equal(&second.CreationTimestamp)
			}).Should(BeTrue())
			winner, loser := first, second
			if order[0] == "b" {
				winner, loser = second, first
			}
			Eventually(stateOf(winner)).Should(Equal(active), "created %s then %s: %s wins by name", order[0], order[1], winner.Name)
			Eventually(stateOf(loser)).Should(Equal(pendingAlready))
			Expect(grantOf(loser)()).To(BeNil(), "one grant of a one-time benefit")
		}
	})

	It("upgrade: grants written before R8, owned by their activations, are converted on the operator's start, once: no ownerReference, labels, an Event; deleting the activation then keeps the grant", func() {
		ns := newNamespace()
		prog := activationProgram()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		offer := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, fakeClock.Now())
		act := build.Activation(ns, "presales", offer.Name, "presales-consult")
		create(prog, pub, offer)
		stopManager()
		restartManagerAfterTest()

		// What the version before R8 wrote: a grant owned by its activation,
		// keyed by the activation's uid, without labels.
		create(act)
		now := fakeClock.Now().Truncate(time.Second)
		old := build.Grant(ns, act.Name, offer.Name, act.Spec.Benefit, pub.Name, now.Add(-time.Hour),
			build.ActivationUID(string(act.UID)), build.GrantCategory(v1alpha1.BenefitCategoryTechnical),
			build.ExpiresAt(rewards.AddCalendarMonths(offer.Spec.LiveAt.Time, 3)))
		old.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "BenefitActivation", Name: act.Name, UID: act.UID,
			Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
		}}
		create(old)

		startManager()
		Eventually(func() []metav1.OwnerReference { return grantOf(act)().OwnerReferences }).Should(BeEmpty())
		g := grantOf(act)()
		Expect(g.Labels).To(HaveKeyWithValue(v1alpha1.LabelPublisher, pub.Name))
		Expect(g.Spec).To(Equal(old.Spec), "the record itself is unchanged")
		Eventually(func() int { return countEvents(g, v1alpha1.EventGrantConverted) }).Should(Equal(1))
		Eventually(stateOf(act)).Should(Equal(active))
		Expect(act.Status.ActivatedAt.Time).To(BeTemporally("==", old.Spec.ActivatedAt.Time))

		startGarbageCollector()
		garbageCollected(act)
		Expect(grantOf(act)()).NotTo(BeNil(), "R8: converted, the grant outlives its activation")
		Expect(countEvents(g, v1alpha1.EventGrantConverted)).To(Equal(1), "converted once")
	})
})

// revocationCounts watches a namespace's publishers and collects every
// status.revocationCount the API server stores for them, by name, until
// the test ends.
func revocationCounts(ns string) func() map[string][]int64 {
	GinkgoHelper()
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(bg, &v1alpha1.PublisherList{}, client.InNamespace(ns))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(w.Stop)
	var mu sync.Mutex
	seen := map[string][]int64{}
	go func() {
		for e := range w.ResultChan() {
			if p, ok := e.Object.(*v1alpha1.Publisher); ok && (e.Type == watch.Added || e.Type == watch.Modified) {
				mu.Lock()
				seen[p.Name] = append(seen[p.Name], p.Status.RevocationCount)
				mu.Unlock()
			}
		}
	}()
	return func() map[string][]int64 {
		mu.Lock()
		defer mu.Unlock()
		out := map[string][]int64{}
		for k, v := range seen {
			out[k] = append([]int64(nil), v...)
		}
		return out
	}
}
