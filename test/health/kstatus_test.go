package health

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// kstatusOf computes what kstatus (Flux health checks, kpt, cli-utils'
// status poller) says of an object as read from the API server.
func kstatusOf(u *unstructured.Unstructured) *status.Result {
	res, err := status.Compute(u)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	AddReportEntry(fmt.Sprintf("kstatus of %s", describe(u)), fmt.Sprintf("%s: %s", res.Status, res.Message))
	return res
}

var _ = Describe("kstatus", Ordered, func() {
	var (
		w     world
		fresh = map[string]*unstructured.Unstructured{}
	)

	BeforeAll(func() {
		// No controller may see these objects before they are read.
		stopManager()
		w = newWorld(newNamespace(), fakeClock.Now())
		w.create()
		for _, k := range kinds {
			fresh[k] = get(w.byKind()[k])
		}
	})
	AfterAll(stopManager)

	for _, kind := range kinds {
		It(kind+": does not read as Current right after creation, before any controller has reconciled it", func() {
			u := fresh[kind]
			res := kstatusOf(u)
			// The API server drops status on create; the CRDs' schema
			// default for status (observedGeneration 0) is what makes a new
			// object read as "not yet observed" rather than Current
			// (CRAFT.md's trap).
			Expect(res.Status).To(Equal(status.InProgressStatus), "%s: %s", describe(u), statusJSON(u))
		})
	}

	It("reads as Current for every kind once reconciled to Ready=True", func() {
		startManager()
		for k, u := range waitWorldReady(w) {
			Expect(kstatusOf(u).Status).To(Equal(status.CurrentStatus), k)
		}
	})

	It("reads as InProgress, not Current, while a prerequisite fails (Ready=False)", func() {
		ns := newNamespace()
		deps, cases := newFailing(ns, w.program.Name, fakeClock.Now())
		create(deps...)
		for _, c := range cases {
			createCase(c)
		}
		for _, c := range cases {
			u := waitReady(c.obj, metav1.ConditionFalse, c.reason)
			res := kstatusOf(u)
			Expect(res.Status).To(Equal(status.InProgressStatus), c.name)
			Expect(res.Message).To(Equal(readyOf(u)["message"]), c.name)
		}
	})

	It("reads an OptedOut activation as InProgress (Ready=False, OptedOut; no Stalled)", func() {
		act := build.Activation(w.activation.Namespace, "contoso-opted-out", w.offer.Name, "case-study")
		act.Spec.OptOut = true
		create(act)
		u := waitPhase(act, v1alpha1.ActivationOptedOut)
		Expect(kstatusOf(u).Status).To(Equal(status.InProgressStatus))
	})

	It("reads a Revoked activation as Failed, from its Stalled=True condition", func() {
		u := revokeActivation(newNamespace(), w.program.Name, fakeClock.Now())
		res := kstatusOf(u)
		Expect(res.Status).To(Equal(status.FailedStatus))
		Expect(res.Conditions).To(ConsistOf(HaveField("Type", status.ConditionStalled)))
	})

	It("reads as InProgress while a spec change is not yet observed, and Current again once it is", func() {
		stopManager()
		touchSpecs(w)
		for _, k := range kinds {
			u := get(w.byKind()[k])
			Expect(u.GetGeneration()).To(BeEquivalentTo(2), k)
			res := kstatusOf(u)
			Expect(res.Status).To(Equal(status.InProgressStatus), k)
			Expect(res.Message).To(Equal(fmt.Sprintf("%s generation is 2, but latest observed generation is 1", k)))
		}
		startManager()
		for k, u := range waitWorldReady(w) {
			Expect(kstatusOf(u).Status).To(Equal(status.CurrentStatus), k)
		}
	})

	It("reads an Expired activation as Current: it ran its course (Ready=True, no Stalled), neither in progress nor failed", func() {
		u := expireActivation(newNamespace(), w.program.Name)
		res := kstatusOf(u)
		Expect(res.Status).To(Equal(status.CurrentStatus))
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		Expect(phase).To(Equal("Expired"))
	})
})
