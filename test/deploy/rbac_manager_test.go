package deploy

import (
	"crypto/tls"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// The operator's own RBAC, as config/default installs it, is enough for
// every controller, for leader election, for its Events and for the
// authenticated metrics endpoint — and grants nothing else.
var _ = Describe("The operator's RBAC (config/rbac), exercised by the real manager as its ServiceAccount", Ordered, func() {
	var (
		op          *runningManager
		clk         *clocktesting.FakeClock
		now         time.Time
		logMark     int
		metricsAddr string
		ns          string
	)

	BeforeAll(func() {
		logMark = logs.mark()
		now = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
		clk = clocktesting.NewFakeClock(now)
		metricsAddr = testenv.FreeAddr()
		// The metrics endpoint as cmd/main.go serves it by default (HTTPS,
		// self-signed certificate in memory, authentication and
		// authorization through the API server).
		op = startManager("operator", configAs(operatorUser), clk, metricsserver.Options{
			BindAddress:    metricsAddr,
			SecureServing:  true,
			FilterProvider: filters.WithAuthenticationAndAuthorization,
			TLSOpts:        []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
		})
		Eventually(op.mgr.Elected(), waitLong).Should(BeClosed(), "the manager never became leader")
		ns = newNamespace("rbac")
	})

	AfterAll(func() {
		op.stop()
	})

	It("acts as the ServiceAccount: the API server sees that identity and nothing more", func() {
		review := &authenticationv1.SelfSubjectReview{}
		Expect(clientAs(operatorUser).Create(bg, review)).To(Succeed())
		Expect(review.Status.UserInfo.Username).To(Equal(operatorUser))
		Expect(review.Status.UserInfo.Groups).NotTo(ContainElement("system:masters"))
		Expect(review.Status.UserInfo.Groups).To(ContainElement("system:serviceaccounts:" + operatorNS))
	})

	It("holds the leader election Lease in its namespace and records the LeaderElection Event there (leader-election-role)", func() {
		lease := &coordinationv1.Lease{}
		Expect(admin.Get(bg, client.ObjectKey{Namespace: operatorNS, Name: leaseID}, lease)).To(Succeed())
		Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
		holder := *lease.Spec.HolderIdentity
		Expect(holder).NotTo(BeEmpty())
		// The lease keeps being renewed by the ServiceAccount.
		renewed := lease.Spec.RenewTime.Time
		Eventually(func() time.Time {
			Expect(admin.Get(bg, client.ObjectKeyFromObject(lease), lease)).To(Succeed())
			return lease.Spec.RenewTime.Time
		}, waitLong, poll).Should(BeTemporally(">", renewed))
		Expect(*lease.Spec.HolderIdentity).To(Equal(holder))

		// client-go records leader election as a core/v1 Event.
		Eventually(func() []string {
			var list corev1.EventList
			Expect(admin.List(bg, &list, client.InNamespace(operatorNS))).To(Succeed())
			var out []string
			for _, e := range list.Items {
				if e.Reason == "LeaderElection" && strings.Contains(e.Message, holder) {
					out = append(out, e.Message)
				}
			}
			return out
		}, waitLong, poll).Should(ContainElement(ContainSubstring("became leader")))
	})

	It("reconciles every kind and records Events (manager-role)", func() {
		prog := shippedProgram()
		// A program naming a benefit missing from its catalog is refused
		// at admission; one stored before that rule existed reaches the
		// operator, which reports it (condition and Event).
		bad := shippedProgram()
		bad.Spec.Tiers[0].Benefits = append(bad.Spec.Tiers[0].Benefits, "no-such-benefit")
		pub := newPublisher(ns, "contoso", prog.Name)
		saas := build.Offer(ns, "saas", pub.Name, v1alpha1.ListingTypeTransact, now.AddDate(0, -2, 0))
		trial := build.Offer(ns, "trial", pub.Name, v1alpha1.ListingTypeTrial, now.Add(time.Hour))
		usd := build.SalesRecord(ns, "usd-line", saas.Name, "20000", "USD", now.AddDate(0, -1, 0))
		eur := build.SalesRecord(ns, "eur-line", saas.Name, "5000", "EUR", now.AddDate(0, -1, 0))
		jpy := build.SalesRecord(ns, "jpy-line", saas.Name, "1000000", "JPY", now.AddDate(0, -1, 0))
		badge := build.Activation(ns, "saas-badge", saas.Name, "marketplace-listing-badge")
		typo := build.Activation(ns, "saas-typo", saas.Name, "no-such-benefit")
		// The publisher first: TierChanged is recorded on a change of a
		// tier already computed.
		create(prog)
		Expect(testenv.CreateWithoutValidation(bg, admin, bad)).To(Succeed())
		create(pub)
		Eventually(func() string { return ready(fetch(pub)().Status.Conditions) }, waitLong, poll).Should(Equal("True/TierComputed"))
		Expect(pub.Status.Tier).To(BeZero())
		create(saas, trial, usd, eur, jpy, badge, typo)

		By("RewardsProgram")
		Eventually(func() string { return ready(fetch(prog)().Status.Conditions) }, waitLong, poll).Should(Equal("True/Valid"))
		Expect(prog.Status.RulesGeneration).To(Equal(prog.Generation))
		Eventually(func() string { return ready(fetch(bad)().Status.Conditions) }, waitLong, poll).Should(Equal("False/UnknownBenefit"))
		Eventually(eventReasons("RewardsProgram", bad), waitLong, poll).Should(ContainElement("UnknownBenefit"))

		By("SalesRecord (S2: exact money, a rate for EUR, none for JPY)")
		Eventually(func() string { return ready(fetch(usd)().Status.Conditions) }, waitLong, poll).Should(Equal("True/Counted"))
		Expect(usd.Status.Counted).To(BeTrue())
		Expect(usd.Status.Publisher).To(Equal(pub.Name))
		Eventually(func() v1alpha1.DerivedMoney { return fetch(eur)().Status.ProgramAmount }, waitLong, poll).Should(Equal(v1alpha1.DerivedMoney("5400.00")))
		Expect(eur.Status.Counted).To(BeTrue())
		Eventually(func() string { return fetch(jpy)().Status.Reason }, waitLong, poll).Should(Equal(v1alpha1.SalesNoExchangeRate))
		Expect(jpy.Status.Counted).To(BeFalse())
		Eventually(eventReasons("SalesRecord", jpy), waitLong, poll).Should(ContainElement(v1alpha1.SalesNoExchangeRate))

		By("Publisher (S6: tier 2 from 25,400 USD)")
		Eventually(func() int32 { return fetch(pub)().Status.Tier }, waitLong, poll).Should(Equal(int32(2)))
		Expect(pub.Status.BilledSales).To(Equal(v1alpha1.DerivedMoney("25400.00")))
		Expect(ready(pub.Status.Conditions)).To(HavePrefix("True/"))
		Eventually(eventReasons("Publisher", pub), waitLong, poll).Should(ContainElement("TierChanged"))

		By("Offer (O2: Scheduled, then Live at its instant on the fake clock)")
		Eventually(func() v1alpha1.OfferPhase { return fetch(saas)().Status.Phase }, waitLong, poll).Should(Equal(v1alpha1.OfferLive))
		Expect(ready(saas.Status.Conditions)).To(Equal("True/Live"))
		Eventually(func() v1alpha1.OfferPhase { return fetch(trial)().Status.Phase }, waitLong, poll).Should(Equal(v1alpha1.OfferScheduled))
		clk.Step(2 * time.Hour)
		Eventually(func() v1alpha1.OfferPhase { return fetch(trial)().Status.Phase }, waitLong, poll).Should(Equal(v1alpha1.OfferLive))
		Eventually(eventReasons("Offer", trial), waitLong, poll).Should(ContainElement("Live"))

		By("BenefitActivation (B2, B4: Active with its instants; an unknown benefit Pending with an Event)")
		Eventually(func() v1alpha1.ActivationPhase { return fetch(badge)().Status.Phase }, waitLong, poll).Should(Equal(v1alpha1.ActivationActive))
		Expect(ready(badge.Status.Conditions)).To(Equal("True/Active"))
		Expect(badge.Status.ActivatedAt).NotTo(BeNil())
		Expect(badge.Status.ContactDueBy).NotTo(BeNil())
		Eventually(eventReasons("BenefitActivation", badge), waitLong, poll).Should(ContainElement("Activated"))
		Eventually(func() string { return ready(fetch(typo)().Status.Conditions) }, waitLong, poll).Should(Equal("False/UnknownBenefit"))
		Eventually(eventReasons("BenefitActivation", typo), waitLong, poll).Should(ContainElement("UnknownBenefit"))

		Expect(op.writes.Load()).To(BeNumerically(">", 0))
	})

	It("serves /metrics only to callers allowed by metrics-reader (metrics-auth-role)", func() {
		cs, err := kubernetes.NewForConfig(adminCfg)
		Expect(err).NotTo(HaveOccurred())
		mon := newNamespace("monitoring")
		for _, name := range []string{"prometheus", "stranger"} {
			Expect(admin.Create(bg, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: mon, Name: name}})).To(Succeed())
		}
		Expect(admin.Create(bg, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "prometheus-" + mon},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "rewards-operator-metrics-reader"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: mon, Name: "prometheus"}},
		})).To(Succeed())
		token := func(sa string) string {
			tr, err := cs.CoreV1().ServiceAccounts(mon).CreateToken(bg, sa, &authenticationv1.TokenRequest{
				Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)},
			}, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			return tr.Status.Token
		}
		httpc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the endpoint's certificate is self-signed
		}}
		scrape := func(tok string) (int, string) {
			req, err := http.NewRequest(http.MethodGet, "https://"+metricsAddr+"/metrics", nil)
			Expect(err).NotTo(HaveOccurred())
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := httpc.Do(req)
			if err != nil {
				return 0, err.Error()
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}

		prom := token("prometheus")
		Eventually(func() int { code, _ := scrape(prom); return code }, waitLong, poll).Should(Equal(http.StatusOK))
		_, body := scrape(prom)
		Expect(body).To(ContainSubstring(`controller_runtime_reconcile_total{controller="publisher"`))
		code, _ := scrape(token("stranger"))
		Expect(code).To(Equal(http.StatusForbidden), "a ServiceAccount without metrics-reader")
		code, _ = scrape("")
		Expect(code).To(Equal(http.StatusUnauthorized), "no token")
	})

	It("logged no refused request while doing all this", func() {
		Expect(logs.since(logMark, "forbidden", "is not allowed", "cannot get", "cannot list", "cannot watch", "cannot create", "cannot patch", "cannot update")).To(BeEmpty())
	})

	It("may do nothing else: real requests as the ServiceAccount are refused", func() {
		sa := clientAs(operatorUser)
		pub := newPublisher(ns, "fabrikam", "default")
		create(pub)

		forbidden := func(what string, err error) {
			GinkgoHelper()
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: want Forbidden, got %v", what, err)
		}
		forbidden("create a Publisher", sa.Create(bg, newPublisher(ns, "other", "default")))
		forbidden("create an Offer", sa.Create(bg, build.Offer(ns, "o", pub.Name, v1alpha1.ListingTypeList, time.Now())))
		forbidden("create a SalesRecord", sa.Create(bg, build.SalesRecord(ns, "s", "o", "1", "USD", time.Now())))
		forbidden("create a BenefitActivation", sa.Create(bg, build.Activation(ns, "a", "o", "b")))
		forbidden("create a RewardsProgram", sa.Create(bg, shippedProgram()))
		p := fetch(pub)()
		p.Spec.Enrolled = false
		forbidden("update a Publisher's spec", sa.Update(bg, p))
		forbidden("patch a Publisher's spec", sa.Patch(bg, p, client.MergeFrom(fetch(pub)())))
		forbidden("delete a Publisher", sa.Delete(bg, fetch(pub)()))
		forbidden("list Secrets", sa.List(bg, &corev1.SecretList{}))
		forbidden("get a Secret", sa.Get(bg, client.ObjectKey{Namespace: operatorNS, Name: "any"}, &corev1.Secret{}))
		forbidden("list ConfigMaps", sa.List(bg, &corev1.ConfigMapList{}, client.InNamespace(operatorNS)))
		forbidden("list Pods", sa.List(bg, &corev1.PodList{}))
		forbidden("create a Lease outside its namespace", sa.Create(bg, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"}}))
		forbidden("create a core Event outside its namespace", sa.Create(bg, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: "x"},
			InvolvedObject: corev1.ObjectReference{Kind: "Publisher", Namespace: ns, Name: pub.Name},
		}))
		forbidden("bind a role", sa.Create(bg, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "x"}},
		}))
	})

	It("is minimal on paper: manager-role reads the kinds, writes only their status, Events and BenefitGrants (never deletes one), no wildcards, no Secrets", func() {
		role := typed[rbacv1.ClusterRole](renderedObject("ClusterRole", "rewards-operator-manager-role"))
		type grant struct{ group, resource string }
		got := map[grant][]string{}
		for _, r := range role.Rules {
			Expect(r.NonResourceURLs).To(BeEmpty())
			Expect(r.ResourceNames).To(BeEmpty())
			for _, g := range r.APIGroups {
				Expect(g).NotTo(Equal("*"))
				for _, res := range r.Resources {
					Expect(res).NotTo(ContainSubstring("*"))
					Expect(res).NotTo(Equal("secrets"))
					for _, v := range r.Verbs {
						Expect(v).NotTo(Equal("*"))
						k := grant{g, res}
						if !slices.Contains(got[k], v) {
							got[k] = append(got[k], v)
						}
					}
				}
			}
		}
		for k := range got {
			sort.Strings(got[k])
		}
		kinds := []string{"rewardsprograms", "publishers", "offers", "salesrecords", "benefitactivations"}
		want := map[grant][]string{{"events.k8s.io", "events"}: {"create", "patch"}}
		for _, k := range kinds {
			want[grant{v1alpha1.GroupVersion.Group, k}] = []string{"get", "list", "watch"}
		}
		// The durable records: created, revoked or converted (a patch),
		// renumbered (a revision), never deleted (R8: only an administrator
		// removes a record).
		want[grant{v1alpha1.GroupVersion.Group, "benefitgrants"}] = []string{"create", "get", "list", "patch", "watch"}
		want[grant{v1alpha1.GroupVersion.Group, "rewardsprogramrevisions"}] = []string{"create", "get", "list", "patch", "watch"}
		for k, verbs := range got {
			if strings.HasSuffix(k.resource, "/status") {
				Expect(verbs).NotTo(ContainElements("create", "delete", "deletecollection"))
				Expect([]string{"get", "patch", "update"}).To(ContainElements(verbs), "status of %s", k.resource)
				Expect(verbs).To(ContainElement("patch"), "the controllers write status with a merge patch")
				want[k] = verbs
			}
		}
		Expect(got).To(Equal(want), "every (group, resource) manager-role grants, with its verbs")
		for _, k := range kinds {
			Expect(got).To(HaveKey(grant{v1alpha1.GroupVersion.Group, k + "/status"}))
		}

		// Leader election is a namespaced Role in the operator's namespace,
		// with what client-go's Lease lock and event recorder use (the
		// leader election specs here run with exactly this).
		le := typed[rbacv1.Role](renderedObject("Role", "rewards-operator-leader-election-role"))
		Expect(le.Namespace).To(Equal(operatorNS))
		leGrants := map[string][]string{}
		for _, r := range le.Rules {
			Expect(r.ResourceNames).To(BeEmpty())
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					leGrants[g+"/"+res] = append(leGrants[g+"/"+res], r.Verbs...)
				}
			}
		}
		for k := range leGrants {
			sort.Strings(leGrants[k])
		}
		Expect(leGrants).To(Equal(map[string][]string{
			"coordination.k8s.io/leases": {"create", "get", "update"},
			"/events":                    {"create", "patch"},
		}))

		// The ServiceAccount is bound to exactly these roles.
		var bound []string
		for _, o := range rendered {
			if o.GetKind() != "RoleBinding" && o.GetKind() != "ClusterRoleBinding" {
				continue
			}
			b := typed[rbacv1.ClusterRoleBinding](o)
			for _, s := range b.Subjects {
				if s.Kind == rbacv1.ServiceAccountKind {
					Expect(s.Namespace).To(Equal(operatorNS), "%s %s", o.GetKind(), o.GetName())
					Expect(s.Name).To(Equal(operatorSA), "%s %s", o.GetKind(), o.GetName())
					bound = append(bound, o.GetKind()+"/"+b.RoleRef.Name)
				}
			}
		}
		Expect(bound).To(ConsistOf(
			"ClusterRoleBinding/rewards-operator-manager-role",
			"ClusterRoleBinding/rewards-operator-metrics-auth-role",
			"RoleBinding/rewards-operator-leader-election-role",
		))
	})
})
