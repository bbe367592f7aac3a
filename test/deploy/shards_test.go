package deploy

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/controllers"
	rewardsoperator "github.com/marketplace-rewards/rewards-operator/internal/operator"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// Namespaces as the shard key (--namespaces): two operators, each owning
// one namespace, run side by side, each leader of its own Lease; each
// reconciles its namespace's objects and nothing of the other's; both read
// the cluster-scoped program.
var _ = Describe("Operators sharded by namespace", Ordered, func() {
	var (
		shardA, shardB *runningManager
		clk            *clocktesting.FakeClock
		now            time.Time
		nsA, nsB       string
		program        string
	)

	holder := func(id string) string {
		GinkgoHelper()
		l := &coordinationv1.Lease{}
		if err := admin.Get(bg, client.ObjectKey{Namespace: operatorNS, Name: id}, l); err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	// tiered creates a publisher with a live Transact offer in ns and
	// returns it, not waiting for anything.
	tiered := func(ns, name string) *v1alpha1.Publisher {
		GinkgoHelper()
		pub := newPublisher(ns, name, program)
		create(pub, build.Offer(ns, name+"-saas", name, v1alpha1.ListingTypeTransact, now.AddDate(0, -1, 0)))
		return pub
	}
	reachesTier1 := func(pub *v1alpha1.Publisher) {
		GinkgoHelper()
		Eventually(func() int32 { return fetch(pub)().Status.Tier }, waitLong, poll).Should(Equal(int32(1)), pub.Namespace+"/"+pub.Name)
	}

	BeforeAll(func() {
		now = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
		clk = clocktesting.NewFakeClock(now)
		nsA, nsB = newNamespace("shard-a"), newNamespace("shard-b")
		prog := shippedProgram()
		program = prog.Name
		create(prog)
	})

	AfterAll(func() {
		shardA.stop()
		shardB.stop()
	})

	It("runs two shards at once, each the leader of its own Lease, each reconciling its own namespace", func() {
		Expect(rewardsoperator.LeaderElectionID([]string{nsA})).NotTo(Equal(rewardsoperator.LeaderElectionID([]string{nsB})))
		Expect(rewardsoperator.LeaderElectionID([]string{nsA, nsB})).To(Equal(rewardsoperator.LeaderElectionID([]string{nsB, nsA})),
			"the replicas of one shard share a Lease, whatever the order of their namespaces")

		shardA = startManager("shard-a", configAs(operatorUser), clk, metricsserver.Options{}, nsA)
		shardB = startManager("shard-b", configAs(operatorUser), clk, metricsserver.Options{}, nsB)
		Eventually(shardA.mgr.Elected(), waitLong).Should(BeClosed())
		Eventually(shardB.mgr.Elected(), waitLong).Should(BeClosed(), "two shards lead at once")
		Expect(holder(rewardsoperator.LeaderElectionID([]string{nsA}))).NotTo(BeEmpty())
		Expect(holder(rewardsoperator.LeaderElectionID([]string{nsB}))).NotTo(BeEmpty())

		reachesTier1(tiered(nsA, "contoso"))
		reachesTier1(tiered(nsB, "fabrikam"))
		Expect(shardA.reconciledNamespaces()).NotTo(HaveKey(nsB))
		Expect(shardB.reconciledNamespaces()).NotTo(HaveKey(nsA))
		// The program's reconcile runs beside the publishers', not before.
		Eventually(shardA.reconciledNamespaces, waitLong).Should(HaveKey(""), "the cluster-scoped program is read (and reconciled) by every shard")
	})

	It("leaves another shard's namespace alone: with its owner stopped, nothing there is reconciled", func() {
		shardB.stop()
		waiting := tiered(nsB, "northwind")
		// A later change in shard A's namespace, reconciled: shard A has
		// seen everything before it, and reconciled nothing of nsB.
		reachesTier1(tiered(nsA, "litware"))
		Expect(shardA.reconciledNamespaces()).NotTo(HaveKey(nsB))
		Expect(fetch(waiting)().Status.ObservedGeneration).To(BeZero(), "no one owns nsB")

		By("its owner back, it is")
		shardB = startManager("shard-b-again", configAs(operatorUser), clk, metricsserver.Options{}, nsB)
		reachesTier1(waiting)
	})

	It("resyncs the objects of its namespaces and the program, which its resync sweeps list from its own cache", func() {
		type keyedCache interface {
			CachedKeys(client.Object) ([]string, bool)
		}
		kc, ok := shardA.mgr.GetCache().(keyedCache)
		Expect(ok).To(BeTrue(), "the operator's cache lists the keys its resyncs sweep")
		Eventually(func() []string { keys, _ := kc.CachedKeys(&v1alpha1.Publisher{}); return keys }, waitLong, poll).
			Should(ConsistOf(nsA+"/contoso", nsA+"/litware"), "a shard's keys are its namespaces' only")
		Eventually(func() []string { keys, _ := kc.CachedKeys(&v1alpha1.RewardsProgram{}); return keys }, waitLong, poll).
			Should(ContainElement(program), "and the cluster-scoped programs'")

		By("a status wiped in each shard's namespace and the program's, repaired once a resync period passes")
		wiped := []*v1alpha1.Publisher{fetch(&v1alpha1.Publisher{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "contoso"}})(),
			fetch(&v1alpha1.Publisher{ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "northwind"}})()}
		for _, pub := range wiped {
			pub.Status = v1alpha1.PublisherStatus{}
			Expect(admin.Status().Update(bg, pub)).To(Succeed())
		}
		prog := fetch(&v1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: program}})()
		prog.Status = v1alpha1.RewardsProgramStatus{}
		Expect(admin.Status().Update(bg, prog)).To(Succeed())
		// A resync that read a cache still holding the old statuses would
		// find nothing to write, and the wipes (status only) start no
		// reconcile of their own: step once every shard's cache has them.
		wipedIn := func(shard *runningManager, obj client.Object, observed func() int64) {
			GinkgoHelper()
			Eventually(func() (int64, error) {
				err := shard.mgr.GetCache().Get(bg, client.ObjectKeyFromObject(obj), obj)
				return observed(), err
			}, waitLong, poll).Should(BeZero(), "the wipe of "+obj.GetName()+" in a shard's cache")
		}
		cachedPub := &v1alpha1.Publisher{}
		for i, shard := range []*runningManager{shardA, shardB} {
			cachedPub.Namespace, cachedPub.Name = wiped[i].Namespace, wiped[i].Name
			wipedIn(shard, cachedPub, func() int64 { return cachedPub.Status.ObservedGeneration })
			cachedProg := &v1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: program}}
			wipedIn(shard, cachedProg, func() int64 { return cachedProg.Status.ObservedGeneration })
		}
		clk.Step(controllers.DefaultResyncPeriod)
		for _, pub := range wiped {
			reachesTier1(pub)
		}
		Eventually(func() int64 { return fetch(prog)().Status.ObservedGeneration }, waitLong, poll).Should(Equal(prog.Generation))
	})
})
