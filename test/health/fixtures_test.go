package health

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var bg = context.Background()

// The five kinds, in the order the reports list them.
var kinds = []string{"RewardsProgram", "Publisher", "Offer", "SalesRecord", "BenefitActivation"}

// world is one of each kind, wired together so that every one of them
// becomes Ready: a valid program, an enrolled publisher with a marketing
// contact following it, a live Transact offer, a counted sales line and an
// activation of a tier-1 Marketing benefit, which becomes Active.
type world struct {
	program    *v1alpha1.RewardsProgram
	publisher  *v1alpha1.Publisher
	offer      *v1alpha1.Offer
	sale       *v1alpha1.SalesRecord
	activation *v1alpha1.BenefitActivation
}

// byKind returns the world's objects keyed by kind.
func (w world) byKind() map[string]client.Object {
	return map[string]client.Object{
		"RewardsProgram":    w.program,
		"Publisher":         w.publisher,
		"Offer":             w.offer,
		"SalesRecord":       w.sale,
		"BenefitActivation": w.activation,
	}
}

// newWorld returns (without creating them) a world in namespace ns whose
// instants are relative to now.
func newWorld(ns string, now time.Time) world {
	prog := build.Program()
	pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
	offer := build.Offer(ns, "contoso-saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-time.Hour))
	sale := build.SalesRecord(ns, "contoso-saas-1", offer.Name, "100", v1alpha1.DefaultCurrency, now.Add(-30*time.Minute))
	act := build.Activation(ns, "contoso-badge", offer.Name, "listing-badge")
	return world{program: prog, publisher: pub, offer: offer, sale: sale, activation: act}
}

// create creates the world's objects.
func (w world) create() {
	for _, k := range kinds {
		ExpectWithOffset(1, k8sClient.Create(bg, w.byKind()[k])).To(Succeed())
	}
}

// newInvalidProgram returns a program the operator finds inconsistent: a
// tier names a benefit missing from the catalog (Ready False,
// UnknownBenefit). Admission refuses it; it can only be stored as if before
// that rule existed (testenv.CreateWithoutValidation).
func newInvalidProgram() *v1alpha1.RewardsProgram {
	p := build.Program()
	p.Spec.Tiers[0].Benefits = append(p.Spec.Tiers[0].Benefits, "no-such-benefit")
	return p
}

// newNamespace creates a namespace for one scenario.
func newNamespace() string {
	ns, err := testenv.NewNamespace(bg, k8sClient, "health-")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return ns
}

func create(objs ...client.Object) {
	ExpectWithOffset(1, testenv.Create(bg, k8sClient, objs...)).To(Succeed())
}

// update re-reads obj, applies mutate and writes it, retrying on conflicts.
func update[T client.Object](obj T, mutate func(T)) {
	ExpectWithOffset(1, testenv.UpdateWithRetry(bg, k8sClient, obj, mutate)).To(Succeed())
}

// get reads obj from the API server as unstructured: what kstatus, Flux and
// Argo CD see.
func get(obj client.Object) *unstructured.Unstructured {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	ExpectWithOffset(1, k8sClient.Get(bg, client.ObjectKeyFromObject(obj), u)).To(Succeed())
	return u
}

// waitFor polls obj until cond holds, and returns it as read then.
func waitFor(obj client.Object, what string, cond func(u *unstructured.Unstructured) bool) *unstructured.Unstructured {
	var u *unstructured.Unstructured
	EventuallyWithOffset(1, func(g Gomega) {
		u = get(obj)
		g.Expect(cond(u)).To(BeTrue(), "%s: waiting until %s; status is %s", describe(u), what, statusJSON(u))
	}).Should(Succeed())
	return u
}

// waitReady waits until the operator has observed obj's generation and its
// Ready condition has this status and reason.
func waitReady(obj client.Object, status metav1.ConditionStatus, reason string) *unstructured.Unstructured {
	return waitFor(obj, fmt.Sprintf("observed and Ready=%s/%s", status, reason), func(u *unstructured.Unstructured) bool {
		c := readyOf(u)
		return observed(u) && c != nil && c["status"] == string(status) && c["reason"] == reason
	})
}

// waitPhase waits until an activation's current generation is observed and
// it is in phase.
func waitPhase(act *v1alpha1.BenefitActivation, phase v1alpha1.ActivationPhase) *unstructured.Unstructured {
	return waitFor(act, "phase "+string(phase), func(u *unstructured.Unstructured) bool {
		p, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		return observed(u) && p == string(phase)
	})
}

// observed: status.observedGeneration is metadata.generation.
func observed(u *unstructured.Unstructured) bool {
	og, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return found && og == u.GetGeneration()
}

// readyOf returns the Ready condition, nil when there is none.
func readyOf(u *unstructured.Unstructured) map[string]interface{} {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]interface{}); ok && m["type"] == v1alpha1.ConditionReady {
			return m
		}
	}
	return nil
}

func describe(u *unstructured.Unstructured) string {
	name := u.GetName()
	if u.GetNamespace() != "" {
		name = u.GetNamespace() + "/" + name
	}
	return fmt.Sprintf("%s %s (generation %d)", u.GetKind(), name, u.GetGeneration())
}

func statusJSON(u *unstructured.Unstructured) string {
	st, found := u.Object["status"]
	if !found {
		return "absent"
	}
	b, _ := json.Marshal(st)
	return string(b)
}

// readyReasons are the reasons of Ready=True of a world's objects once
// reconciled.
var readyReasons = map[string]string{
	"RewardsProgram":    "Valid",
	"Publisher":         "TierComputed",
	"Offer":             "Live",
	"SalesRecord":       "Counted",
	"BenefitActivation": "Active",
}

// waitWorldReady waits until every object of w is observed and Ready, and
// returns them as read then, keyed by kind.
func waitWorldReady(w world) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, k := range kinds {
		out[k] = waitReady(w.byKind()[k], metav1.ConditionTrue, readyReasons[k])
	}
	return out
}

// failingCase is an object whose Ready condition is False because something
// it depends on is missing or invalid: what admission cannot check.
type failingCase struct {
	name   string
	obj    client.Object
	reason string
	// argo is the Argo CD health the shipped script gives it.
	argo string
	// refusedAtAdmission: obj is stored as if before admission's rules
	// existed.
	refusedAtAdmission bool
}

// createCase creates a failing case's object.
func createCase(c failingCase) {
	if c.refusedAtAdmission {
		ExpectWithOffset(1, testenv.CreateWithoutValidation(bg, k8sClient, c.obj)).To(Succeed(), c.name)
		return
	}
	create(c.obj)
}

// newFailing returns the failing cases in namespace ns, and the objects
// they need (created first). program is a valid program's name.
func newFailing(ns, program string, now time.Time) (deps []client.Object, cases []failingCase) {
	noContact := build.Publisher(ns, "nocontact", build.Following(program))
	noContactOffer := build.Offer(ns, "nocontact-saas", noContact.Name, v1alpha1.ListingTypeTransact, now.Add(-time.Hour))
	deps = []client.Object{noContact, noContactOffer}
	cases = []failingCase{
		{"RewardsProgram whose tier names a benefit missing from the catalog", newInvalidProgram(), "UnknownBenefit", "Degraded", true},
		{"Publisher following a missing program", build.Publisher(ns, "orphan", build.Following("missing-"+rand.String(6))), "ProgramNotFound", "Degraded", false},
		{"Offer of a missing publisher", build.Offer(ns, "lost", "nobody", v1alpha1.ListingTypeTransact, now.Add(-time.Hour)), "PublisherNotFound", "Degraded", false},
		{"SalesRecord of a missing offer", build.SalesRecord(ns, "stray", "nothing", "5", v1alpha1.DefaultCurrency, now.Add(-time.Minute)), "OfferNotFound", "Degraded", false},
		{"BenefitActivation pending on a missing marketing contact", build.Activation(ns, "nocontact-badge", noContactOffer.Name, "listing-badge"), "MarketingContactMissing", "Progressing", false},
		{"BenefitActivation of a missing offer", build.Activation(ns, "ghost", "nothing", "listing-badge"), "OfferNotFound", "Degraded", false},
	}
	return deps, cases
}

// revokeActivation makes an activation Active in namespace ns, then records
// a violation on its publisher, which revokes it (R1). It returns the
// activation as read once Revoked.
func revokeActivation(ns, program string, now time.Time) *unstructured.Unstructured {
	pub := build.Publisher(ns, "fabrikam", build.Following(program), build.WithContact())
	offer := build.Offer(ns, "fabrikam-saas", pub.Name, v1alpha1.ListingTypeTransact, now.Add(-time.Hour))
	act := build.Activation(ns, "fabrikam-badge", offer.Name, "listing-badge")
	create(pub, offer, act)
	waitPhase(act, v1alpha1.ActivationActive)
	update(pub, func(p *v1alpha1.Publisher) {
		p.Spec.Violations = []v1alpha1.Violation{{
			Type: v1alpha1.ViolationSponsorshipPolicy,
			Time: metav1.NewTime(now.Add(-time.Minute)),
			Note: "Azure sponsorship used for bitcoin mining",
		}}
	})
	return waitPhase(act, v1alpha1.ActivationRevoked)
}

// expireActivation makes a Technical benefit of a Trial offer Active in
// namespace ns, then moves the fake clock to its expiresAt (O4). It returns
// the activation as read once Expired. It moves the shared clock forward by
// about a week.
func expireActivation(ns, program string) *unstructured.Unstructured {
	now := fakeClock.Now()
	pub := build.Publisher(ns, "adatum", build.Following(program))
	offer := build.Offer(ns, "adatum-trial", pub.Name, v1alpha1.ListingTypeTrial, now.AddDate(0, -3, 7))
	act := build.Activation(ns, "adatum-consult", offer.Name, "presales-consult")
	create(pub, offer, act)
	u := waitPhase(act, v1alpha1.ActivationActive)
	s, found, err := unstructured.NestedString(u.Object, "status", "expiresAt")
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(BeTrue(), "an active Trial benefit has status.expiresAt")
	expiresAt, err := time.Parse(time.RFC3339, s)
	Expect(err).NotTo(HaveOccurred())
	Expect(expiresAt).To(BeTemporally(">", now))
	fakeClock.SetTime(expiresAt)
	return waitPhase(act, v1alpha1.ActivationExpired)
}

// touchSpecs changes a mutable spec field of each of w's objects, which
// raises its generation; with no manager running, the change stays
// unobserved.
func touchSpecs(w world) {
	update(w.program, func(p *v1alpha1.RewardsProgram) { p.Spec.Description = "touched" })
	update(w.publisher, func(p *v1alpha1.Publisher) { p.Spec.DisplayName = "Contoso (touched)" })
	update(w.offer, func(o *v1alpha1.Offer) { o.Spec.DisplayName = "Contoso SaaS (touched)" })
	update(w.sale, func(s *v1alpha1.SalesRecord) { s.Spec.Seats = 1 })
	update(w.activation, func(a *v1alpha1.BenefitActivation) {
		t := metav1.NewTime(fakeClock.Now().Truncate(time.Second))
		a.Spec.ContactedAt = &t
	})
}
