package deploy

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// Two replicas of the manager, as a Deployment with replicas: 2 would run
// them: one reconciles, the other waits, and takes over when the first
// goes away.
var _ = Describe("Leader election between two managers", Ordered, func() {
	var (
		first, second *runningManager
		clk           *clocktesting.FakeClock
		now           time.Time
		ns, program   string
		logMark       int
	)

	lease := func() *coordinationv1.Lease {
		GinkgoHelper()
		l := &coordinationv1.Lease{}
		Expect(admin.Get(bg, client.ObjectKey{Namespace: operatorNS, Name: leaseID}, l)).To(Succeed())
		return l
	}
	holder := func() string {
		l := lease()
		if l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	// reconciled creates a publisher with a live Transact offer and waits
	// for the offer to be Live and the publisher at tier 1.
	reconciled := func(name string) {
		GinkgoHelper()
		pub := newPublisher(ns, name, program)
		offer := build.Offer(ns, name+"-saas", name, v1alpha1.ListingTypeTransact, now.AddDate(0, -1, 0))
		create(pub, offer)
		Eventually(func() v1alpha1.OfferPhase { return fetch(offer)().Status.Phase }, waitLong, poll).Should(Equal(v1alpha1.OfferLive))
		Eventually(func() int32 { return fetch(pub)().Status.Tier }, waitLong, poll).Should(Equal(int32(1)))
		Expect(ready(pub.Status.Conditions)).To(HavePrefix("True/"))
	}

	BeforeAll(func() {
		logMark = logs.mark()
		now = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
		clk = clocktesting.NewFakeClock(now)
		ns = newNamespace("leader")
		prog := shippedProgram()
		program = prog.Name
		create(prog)
	})

	AfterAll(func() {
		first.stop()
		second.stop()
	})

	It("elects the first manager; the second stands by and does not reconcile", func() {
		first = startManager("first", configAs(operatorUser), clk, metricsserver.Options{})
		Eventually(first.mgr.Elected(), waitLong).Should(BeClosed())
		firstID := holder()
		Expect(firstID).NotTo(BeEmpty())

		second = startManager("second", configAs(operatorUser), clk, metricsserver.Options{})
		// Longer than a lease: the standby does not take a lease that is
		// being renewed.
		Consistently(second.elected, leaseDuration+time.Second, poll).Should(BeFalse())
		Expect(holder()).To(Equal(firstID))

		reconciled("contoso")
		Expect(first.writes.Load()).To(BeNumerically(">", 0))
		Expect(first.reads.Load()).To(BeNumerically(">", 0))
		// The standby's controllers have not started: its client has read
		// and written nothing, although its caches follow the same objects.
		Consistently(func() int64 { return second.reads.Load() + second.writes.Load() }, time.Second, poll).Should(BeZero())
		Expect(second.elected()).To(BeFalse())
	})

	It("hands over when the leader stops: the standby is elected and reconciles", func() {
		before := lease()
		transitions := ptrValue(before.Spec.LeaseTransitions)
		firstID := holder()

		stopped := time.Now()
		first.stop() // LeaderElectionReleaseOnCancel: the lease is released at once
		Eventually(second.mgr.Elected(), waitLong).Should(BeClosed())
		GinkgoWriter.Printf("standby elected %s after the leader stopped\n", time.Since(stopped))
		Expect(time.Since(stopped)).To(BeNumerically("<", leaseDuration+5*time.Second))

		Eventually(holder, waitLong, poll).ShouldNot(Or(BeEmpty(), Equal(firstID)))
		Expect(ptrValue(lease().Spec.LeaseTransitions)).To(BeNumerically(">", transitions))

		firstWrites := first.writes.Load()
		reconciled("fabrikam")
		Expect(second.writes.Load()).To(BeNumerically(">", 0))
		Expect(first.writes.Load()).To(Equal(firstWrites), "the stopped manager wrote nothing more")

		// Time-based work moves with the leader too (O2 on the fake clock).
		trial := build.Offer(ns, "fabrikam-trial", "fabrikam", v1alpha1.ListingTypeTrial, now.Add(time.Hour))
		create(trial)
		Eventually(func() v1alpha1.OfferPhase { return fetch(trial)().Status.Phase }, waitLong, poll).Should(Equal(v1alpha1.OfferScheduled))
		clk.Step(2 * time.Hour)
		Eventually(func() v1alpha1.OfferPhase { return fetch(trial)().Status.Phase }, waitLong, poll).Should(Equal(v1alpha1.OfferLive))
	})

	It("logged no refused request", func() {
		Expect(logs.since(logMark, "forbidden", "is not allowed")).To(BeEmpty())
	})
})

func ptrValue(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
