package plugin_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// grantOf reads the BenefitGrant of the activation name in ns.
func grantOf(ns, name string) *v1alpha1.BenefitGrant {
	var g v1alpha1.BenefitGrant
	ExpectWithOffset(1, k8sClient.Get(bg, client.ObjectKey{Namespace: ns, Name: name}, &g)).To(Succeed())
	return &g
}

func waitForPhase(act *v1alpha1.BenefitActivation, phase v1alpha1.ActivationPhase) {
	EventuallyWithOffset(1, func() v1alpha1.ActivationPhase { return fetch(act)().Status.Phase }).Should(Equal(phase), "activation %s", act.Name)
}

var _ = Describe("report", func() {
	It("lists the grants issued, expired and revoked in a period, from the grants, including those whose activation was deleted", func() {
		ns := newNamespace()
		now := fakeClock.Now().Truncate(time.Second)
		prog := build.Program()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		// The Trial offer went live three months ago less an hour: its
		// benefits expire (O4) an hour from now.
		trialLive := now.AddDate(0, -3, 0).Add(time.Hour)
		badge := build.Activation(ns, "saas-badge", "saas", "listing-badge")
		caseStudy := build.Activation(ns, "saas-case-study", "saas", "case-study")
		consult := build.Activation(ns, "trial-consult", "trial", "presales-consult")
		create(prog, pub,
			build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.AddDate(-1, 0, 0)),
			build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, trialLive),
			build.SalesRecord(ns, "line", "saas", "30000", "USD", now.Add(-time.Hour)),
			badge, caseStudy, consult)
		for _, a := range []*v1alpha1.BenefitActivation{badge, caseStudy, consult} {
			waitForPhase(a, v1alpha1.ActivationActive)
		}
		issuedAt := grantOf(ns, consult.Name).Spec.ActivatedAt.Time
		expiresAt := grantOf(ns, consult.Name).Spec.ExpiresAt.Time

		By("O4: the Trial benefit expires at its instant")
		fakeClock.SetTime(expiresAt.Add(time.Minute))
		waitForPhase(consult, v1alpha1.ActivationExpired)

		By("R1: a violation revokes the Transact benefits")
		violationAt := metav1.NewTime(fakeClock.Now().Add(-time.Hour).Truncate(time.Second))
		Expect(testenv.UpdateWithRetry(bg, k8sClient, pub, func(p *v1alpha1.Publisher) {
			p.Spec.Violations = []v1alpha1.Violation{{Type: v1alpha1.ViolationIllegalActivity, Time: violationAt, Note: "found by trust and safety"}}
		})).To(Succeed())
		waitForPhase(badge, v1alpha1.ActivationRevoked)
		waitForPhase(caseStudy, v1alpha1.ActivationRevoked)
		revokedAt := grantOf(ns, badge.Name).Spec.Revocation.RecordedAt.Time

		By("R8: deleting an activation leaves its grant, which the report still lists")
		Expect(k8sClient.Delete(bg, badge)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(bg, client.ObjectKeyFromObject(badge), &v1alpha1.BenefitActivation{})
		}).ShouldNot(Succeed())

		r := kubectlRewards("report", "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(HavePrefix(fmt.Sprintf("Grants in namespace %s, from the first grant up to now, %s: 3 issued, 1 expired, 2 revoked.\n",
			ns, fakeClock.Now().UTC().Format(time.RFC3339))))
		at := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
		Expect(r.out).To(MatchRegexp(row(at(issuedAt), "Issued", "contoso", "trial", "presales-consult", "trial-consult",
			"Technical; contact due "+at(issuedAt.AddDate(0, 0, 7))+"; expires "+at(expiresAt)).String()))
		Expect(r.out).To(MatchRegexp(row(at(expiresAt), "Expired", "contoso", "trial", "presales-consult", "trial-consult", "issued "+at(issuedAt)).String()))
		Expect(r.out).To(MatchRegexp(row(at(revokedAt), "Revoked", "contoso", "saas", "listing-badge", "saas-badge (deleted)",
			"Violation by Publisher/contoso (cause at "+at(violationAt.Time)+`): publisher "contoso" has a IllegalActivity violation`).String()))
		Expect(r.out).To(MatchRegexp(row(at(revokedAt), "Revoked", "contoso", "saas", "case-study", "saas-case-study", "Violation").String()))

		By("a period after the grants were issued holds only the expiry and the revocations")
		since := issuedAt.Add(time.Second).Format(time.RFC3339)
		r = kubectlRewards("report", "-n", ns, "--since", since, "-o", "json")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		var report plugin.GrantReport
		Expect(json.Unmarshal([]byte(r.out), &report)).To(Succeed())
		Expect([]int{report.Issued, report.Expired, report.Revoked}).To(Equal([]int{0, 1, 2}))
		events := map[string]string{}
		for _, e := range report.Events {
			events[e.Activation] += e.Event
		}
		Expect(events).To(Equal(map[string]string{"trial-consult": "Expired", "saas-badge": "Revoked", "saas-case-study": "Revoked"}))
		for _, e := range report.Events {
			if e.Activation == "saas-badge" {
				Expect(e.ActivationDeleted).To(BeTrue())
				Expect(e.Revocation.Reason).To(Equal("Violation"))
				Expect(e.Revocation.CausedBy).To(Equal("Publisher/contoso"))
				Expect(e.Revocation.CauseTime.Equal(violationAt.Time)).To(BeTrue())
				Expect(e.Revocation.RecordedAt.Equal(revokedAt)).To(BeTrue())
			}
		}

		By("a period that ends before the expiry holds the issues only; another publisher's holds nothing")
		r = kubectlRewards("report", "-n", ns, "--until", expiresAt.Format(time.RFC3339), "-o", "csv")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		lines, err := csv.NewReader(strings.NewReader(r.out)).ReadAll()
		Expect(err).NotTo(HaveOccurred())
		Expect(lines[0]).To(Equal([]string{"event", "at", "namespace", "publisher", "offer", "benefit", "category", "activation", "activationDeleted",
			"grant", "activatedAt", "contactDueBy", "expiresAt", "revocationReason", "causedBy", "causeTime", "recordedAt", "message"}))
		Expect(lines).To(HaveLen(4), "the header and three issues")
		for _, l := range lines[1:] {
			Expect(l[0]).To(Equal("Issued"))
			Expect(l[2]).To(Equal(ns))
		}
		// A name no other spec gives a publisher: -A reads every spec's namespace.
		r = kubectlRewards("report", "-A", "--publisher", "report-nobody", "--since", now.Format(time.DateOnly))
		Expect(r.out).To(ContainSubstring("Grants of publisher report-nobody in all namespaces, from " + now.Format(time.DateOnly) + "T00:00:00Z up to now, "))
		Expect(r.out).To(ContainSubstring(": 0 issued, 0 expired, 0 revoked.\n"))
	})
})

var _ = Describe("contacts", func() {
	It("B4: lists the Active benefits whose contact is due, by due date, with the publisher's contact; --overdue those past due", func() {
		ns := newNamespace()
		prog := build.Program()
		pub := build.Publisher(ns, "contoso", build.Following(prog.Name), build.WithContact())
		technical := build.Publisher(ns, "northwind", build.Following(prog.Name))
		now := fakeClock.Now()
		first := build.Activation(ns, "saas-badge", "saas", "listing-badge")
		create(prog, pub, technical,
			build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.AddDate(-1, 0, 0)),
			build.Offer(ns, "workshop", technical.Name, v1alpha1.ListingTypeConsulting, now.Add(-time.Hour)),
			build.SalesRecord(ns, "line", "saas", "30000", "USD", now.Add(-time.Hour)),
			first, build.Activation(ns, "saas-campaign", "saas", "campaign"))
		waitForPhase(first, v1alpha1.ActivationActive)

		fakeClock.Step(24 * time.Hour)
		second := build.Activation(ns, "saas-case-study", "saas", "case-study")
		third := build.Activation(ns, "workshop-consult", "workshop", "presales-consult")
		create(second, third)
		waitForPhase(second, v1alpha1.ActivationActive)
		waitForPhase(third, v1alpha1.ActivationActive)
		firstDue := fetch(first)().Status.ContactDueBy.Time
		secondDue := fetch(second)().Status.ContactDueBy.Time

		By("half a day past the first one's due date")
		fakeClock.SetTime(firstDue.Add(12 * time.Hour))
		Eventually(func() bool {
			return readyReasonOf(fetch(first)().Status.Conditions, v1alpha1.ConditionContactOverdue) == v1alpha1.ReasonContactOverdue
		}).Should(BeTrue())
		r := kubectlRewards("contacts", "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		at := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
		Expect(r.out).To(HavePrefix(fmt.Sprintf("Marketing contacts to make in namespace %s at %s: 3, 1 of them overdue.\n", ns, at(fakeClock.Now()))))
		contact := "Avery Howard <avery@contoso.example.com> +14255550100 (en-US)"
		lines := strings.Split(r.out, "\n")
		Expect(lines[3]).To(MatchRegexp(row(at(firstDue), "overdue by 12h", "contoso", contact, "listing-badge", "saas-badge").String()))
		Expect(lines[4]).To(MatchRegexp(row(at(secondDue), "due in 12h", "contoso", contact, "case-study", "saas-case-study").String()))
		Expect(lines[5]).To(MatchRegexp(row(at(secondDue), "due in 12h", "northwind", "(no marketing contact)", "presales-consult", "workshop-consult").String()))
		Expect(r.out).NotTo(ContainSubstring("saas-campaign"), "Pending: no contact is due")

		r = kubectlRewards("contacts", "-n", ns, "--overdue", "-o", "json")
		var list plugin.ContactWorklist
		Expect(json.Unmarshal([]byte(r.out), &list)).To(Succeed())
		Expect(list.Contacts).To(HaveLen(1))
		Expect(list.Contacts[0].Activation).To(Equal("saas-badge"))
		Expect(list.Contacts[0].Overdue).To(BeTrue())
		Expect(list.Contacts[0].Contact.Email).To(Equal("avery@contoso.example.com"))

		By("recording contactedAt takes it off the list")
		Expect(testenv.UpdateWithRetry(bg, k8sClient, first, func(a *v1alpha1.BenefitActivation) {
			a.Spec.ContactedAt = &metav1.Time{Time: fakeClock.Now().Truncate(time.Second)}
		})).To(Succeed())
		r = kubectlRewards("contacts", "-n", ns, "--overdue")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(Equal(fmt.Sprintf("No marketing contact overdue in namespace %s at %s.\n", ns, at(fakeClock.Now()))))

		r = kubectlRewards("contacts", "-A", "-o", "csv")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring(fmt.Sprintf("%s,false,%s,contoso,Avery Howard,avery@contoso.example.com,+14255550100,en-US,case-study,Marketing,saas,saas-case-study,",
			at(secondDue), ns)))
	})
})

// readyReasonOf is the reason of the condition of type t.
func readyReasonOf(conds []metav1.Condition, t string) string {
	for _, c := range conds {
		if c.Type == t {
			return c.Reason
		}
	}
	return ""
}
