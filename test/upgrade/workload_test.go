package upgrade

import (
	"fmt"
	"maps"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The workload lives in this namespace, with the previous version's
// default program. Objects are written as YAML of v1alpha1 as the
// previous version defined it: the API both versions serve.
const workloadNS = "upgrade"

// The activations of the workload and the phase (and revocation reason)
// the previous version must show for each before the upgrade.
var phases = map[string]string{
	"active-trial":    "Active",
	"active-transact": "Active",
	"expired-trial":   "Expired",
	"violation":       "Revoked/Violation",
	"delisted":        "Revoked/OfferDelisted",
	"fraud":           "Revoked/Fraud",
	"cancellation":    "Revoked/Cancellation",
	"pending-tier":    "Pending",
	"pending-enroll":  "Pending",
}

// createWorkload creates the workload on c, where the previous version's
// manager runs, and drives each activation to its phase of phases (Active
// first, then the change that expires or revokes it); it returns the
// phases it drove them to.
func createWorkload(c *cluster) map[string]string {
	wantBefore := maps.Clone(phases)
	now := time.Now().UTC().Truncate(time.Second)
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	c.mustKubectl("", "create", "namespace", workloadNS)

	// A Trial benefit expires three calendar months after the offer went
	// live (O4): an offer live since three months less 90 seconds ago has
	// one that is Active now and Expired 90 seconds later.
	expiresAt := now.Add(90 * time.Second)
	expiringLiveAt, expiring := liveAtExpiringAt(expiresAt)
	if !expiring {
		By(fmt.Sprintf("no instant three calendar months before %s: no benefit can expire within minutes today, the workload has none Expired", ts(expiresAt)))
		delete(wantBefore, "expired-trial")
	}
	liveAt := now.Add(-time.Hour)
	saasLiveAt := now.AddDate(0, 0, -30)

	var objs []string
	publisher := func(name string, enrolled bool, contact bool) {
		p := fmt.Sprintf(`apiVersion: rewards.marketplace.io/v1alpha1
kind: Publisher
metadata:
  name: %s
spec:
  mpnId: "%d"
  displayName: %s
  accountEmail: partners@%s.example.com
  enrolled: %t
`, name, 4000000+len(objs), name, name, enrolled)
		if contact {
			p += fmt.Sprintf(`  marketingContact:
    user: Avery Howard
    email: avery@%s.example.com
    phone: "+14255550100"
    preferredLanguage: en-US
`, name)
		}
		objs = append(objs, p)
	}
	offer := func(name, publisher, listingType string, liveAt time.Time) {
		objs = append(objs, fmt.Sprintf(`apiVersion: rewards.marketplace.io/v1alpha1
kind: Offer
metadata:
  name: %s
spec:
  publisherRef: {name: %s}
  displayName: %s
  storefront: AzureMarketplace
  listingType: %s
  productFamily: SaaS
  liveAt: %q
`, name, publisher, name, listingType, ts(liveAt)))
	}
	sale := func(name, offer, amount string, billedAt time.Time) string {
		return fmt.Sprintf(`apiVersion: rewards.marketplace.io/v1alpha1
kind: SalesRecord
metadata:
  name: %s
spec:
  offerRef: {name: %s}
  transactionId: %s
  amount: %q
  currency: USD
  billedAt: %q
`, name, offer, strings.ToUpper(name), amount, ts(billedAt))
	}
	activation := func(name, offer, benefit string) {
		objs = append(objs, fmt.Sprintf(`apiVersion: rewards.marketplace.io/v1alpha1
kind: BenefitActivation
metadata:
  name: %s
spec:
  offerRef: {name: %s}
  benefit: %s
`, name, offer, benefit))
	}

	publisher("contoso", true, true)
	publisher("fabrikam", false, false)
	publisher("violator", true, true)
	publisher("fraudster", true, true)
	publisher("canceller", true, true)
	if expiring {
		offer("expiring-trial", "contoso", "Trial", expiringLiveAt)
		activation("expired-trial", "expiring-trial", "customer-case-study")
	}
	offer("contoso-trial", "contoso", "Trial", liveAt)
	offer("contoso-saas", "contoso", "Transact", saasLiveAt)
	offer("delisted-trial", "contoso", "Trial", liveAt)
	offer("fabrikam-trial", "fabrikam", "Trial", liveAt)
	offer("violator-trial", "violator", "Trial", liveAt)
	offer("fraudster-saas", "fraudster", "Transact", saasLiveAt)
	offer("canceller-saas", "canceller", "Transact", saasLiveAt)
	// Tier 2 (25,000 USD) for the canceller from one purchase alone.
	objs = append(objs, sale("canceller-big-sale", "canceller-saas", "30000.00", now.AddDate(0, 0, -2)))
	activation("active-trial", "contoso-trial", "customer-case-study")
	activation("active-transact", "contoso-saas", "marketplace-listing-badge")
	activation("delisted", "delisted-trial", "listing-optimization-review")
	activation("violation", "violator-trial", "customer-case-study")
	activation("fraud", "fraudster-saas", "technical-deployment-consultation")
	activation("cancellation", "canceller-saas", "sales-enablement-training")
	activation("pending-tier", "contoso-saas", "digital-marketing-campaign") // Tier 3
	activation("pending-enroll", "fabrikam-trial", "customer-case-study")
	c.mustKubectl(strings.Join(objs, "---\n"), "apply", "--server-side", "-n", workloadNS, "-f", "-")

	By("waiting for every benefit that can become Active to be Active")
	for name, want := range wantBefore {
		if want != "Pending" {
			waitForPhase(c, name, "Active")
		}
	}

	// The causes are dated after every grant (R6 makes an earlier date
	// revoke too, but the previous version need not have judged it so):
	// each revocation is then what every version decides.
	var granted time.Time
	Eventually(func(g Gomega) {
		for _, name := range []string{"delisted", "violation", "fraud", "cancellation"} {
			at, _, _ := unstructured.NestedString(get(g, c, "BenefitActivation", name).Object, "status", "activatedAt")
			t, err := time.Parse(time.RFC3339, at)
			g.Expect(err).NotTo(HaveOccurred(), "activation %s has activatedAt", name)
			if t.After(granted) {
				granted = t
			}
		}
	}).Should(Succeed())
	causeAt := granted.Add(time.Second)
	Eventually(time.Now).Should(BeTemporally(">", causeAt), "the cause's instant is past")

	By("delisting, finding a violation, suspecting fraud, cancelling the purchase that unlocked Tier 2")
	c.mustKubectl("", "patch", "-n", workloadNS, "offer", "delisted-trial", "--type=merge",
		"-p", fmt.Sprintf(`{"spec":{"delistedAt":%q}}`, ts(causeAt)))
	c.mustKubectl("", "patch", "-n", workloadNS, "publisher", "violator", "--type=merge",
		"-p", fmt.Sprintf(`{"spec":{"violations":[{"type":"SponsorshipPolicy","time":%q,"note":"upgrade test"}]}}`, ts(causeAt)))
	c.mustKubectl(sale("fraudster-suspected", "fraudster-saas", "100.00", now.AddDate(0, 0, -1))+"  fraud: Suspected\n",
		"apply", "--server-side", "-n", workloadNS, "-f", "-")
	c.mustKubectl("", "patch", "-n", workloadNS, "salesrecord", "canceller-big-sale", "--type=merge",
		"-p", fmt.Sprintf(`{"spec":{"cancellation":{"reason":"CancelledBeforeUse","time":%q}}}`, ts(causeAt)))

	By("waiting for every activation to reach its phase")
	for name, want := range wantBefore {
		waitForPhase(c, name, want)
	}
	return wantBefore
}

// liveAtExpiringAt returns a go-live instant whose Trial benefits expire
// exactly at expiresAt, three calendar months later, and false when there
// is none (expiresAt on the 31st of a month whose third month before has
// 30 days, say): with a day of the month that both months have, adding
// three calendar months is the same whichever way it is computed.
func liveAtExpiringAt(expiresAt time.Time) (time.Time, bool) {
	liveAt := expiresAt.AddDate(0, -3, 0)
	return liveAt, liveAt.AddDate(0, 3, 0).Equal(expiresAt) && liveAt.Day() == expiresAt.Day()
}

// waitForPhase waits until the activation shows phase, or
// "Revoked/<reason>".
func waitForPhase(c *cluster, name, want string) {
	EventuallyWithOffset(1, func(g Gomega) {
		a := get(g, c, "BenefitActivation", name)
		g.Expect(phaseOf(a)).To(Equal(want), "activation %s: %v", name, a.Object["status"])
	}).WithTimeout(4*time.Minute).Should(Succeed(), "activation %s becomes %s", name, want)
}

func phaseOf(a *unstructured.Unstructured) string {
	phase, _, _ := unstructured.NestedString(a.Object, "status", "phase")
	if reason, found, _ := unstructured.NestedString(a.Object, "status", "revocation", "reason"); found && phase == "Revoked" {
		return phase + "/" + reason
	}
	return phase
}

var group = "rewards.marketplace.io"

func gvk(kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: "v1alpha1", Kind: kind}
}

func get(g Gomega, c *cluster, kind, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk(kind))
	g.ExpectWithOffset(1, c.api().Get(bg, client.ObjectKey{Namespace: workloadNS, Name: name}, u)).To(Succeed())
	return u
}

func list(g Gomega, c *cluster, kind string) []unstructured.Unstructured {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk(kind + "List"))
	g.ExpectWithOffset(1, c.api().List(bg, l, client.InNamespace(workloadNS))).To(Succeed())
	return l.Items
}

// snapshot is what a platform team relies on surviving an upgrade: each
// activation's phase, instants and revocation, each publisher's revocation
// history and count, each grant's record, and how many Activated Events
// each activation has had.
type snapshot struct {
	Activations     map[string]map[string]any
	Publishers      map[string]map[string]any
	Grants          map[string]map[string]any // by the name of their activation
	ActivatedEvents map[string]int
}

func takeSnapshot(g Gomega, c *cluster) snapshot {
	s := snapshot{Activations: map[string]map[string]any{}, Publishers: map[string]map[string]any{},
		Grants: map[string]map[string]any{}, ActivatedEvents: map[string]int{}}
	for _, a := range list(g, c, "BenefitActivation") {
		s.Activations[a.GetName()] = pick(a.Object, "status",
			"phase", "activatedAt", "contactDueBy", "expiresAt", "expiredAt", "revocation")
	}
	for _, p := range list(g, c, "Publisher") {
		s.Publishers[p.GetName()] = pick(p.Object, "status", "revocations", "revocationCount")
	}
	for _, gr := range list(g, c, "BenefitGrant") {
		activation, _, _ := unstructured.NestedString(gr.Object, "spec", "activation", "name")
		g.Expect(s.Grants).NotTo(HaveKey(activation), "one grant per activation")
		// The activation's UID is recorded for information only; nothing
		// decides on it (DESIGN, "The durable record").
		record := pick(gr.Object, "spec", "benefit", "category", "offer", "publisher", "activatedAt", "contactDueBy", "expiresAt", "revocation")
		s.Grants[activation] = record
	}
	events := &corev1.EventList{}
	g.Expect(c.api().List(bg, events, client.InNamespace(workloadNS))).To(Succeed())
	for _, e := range events.Items {
		if e.Reason == "Activated" && e.InvolvedObject.Kind == "BenefitActivation" {
			s.ActivatedEvents[e.InvolvedObject.Name] += max(int(e.Count), 1)
		}
	}
	return s
}

// pick returns the named fields of obj's field at, leaving out those it
// does not have.
func pick(obj map[string]any, at string, fields ...string) map[string]any {
	out := map[string]any{}
	m, _, _ := unstructured.NestedMap(obj, at)
	for _, f := range fields {
		if v, ok := m[f]; ok {
			out[f] = v
		}
	}
	return out
}
