package plugin_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// fieldOwners maps each spec field of a SalesRecord (by its managed-fields
// key, "f:fraud") to the managers that own it.
func fieldOwners(r v1alpha1.SalesRecord) map[string][]string {
	out := map[string][]string{}
	for _, e := range r.ManagedFields {
		raw := e.FieldsV1.GetRawString()
		for _, f := range []string{"f:fraud", "f:cancellation", "f:billedAt", "f:seats"} {
			if strings.Contains(raw, `"`+f+`"`) {
				out[f] = append(out[f], e.Manager)
			}
		}
	}
	return out
}

var _ = Describe("import sales and what others recorded", func() {
	var (
		ns     string
		billed string
	)

	// csvFile writes a CSV of the header and lines, each line formatted
	// with the billing instant.
	csvFile := func(header string, lines ...string) string {
		var b strings.Builder
		b.WriteString(header + "\n")
		for _, l := range lines {
			b.WriteString(strings.ReplaceAll(l, "BILLED", billed) + "\n")
		}
		return writeFile("sales.csv", []byte(b.String()))
	}

	BeforeEach(func() {
		ns = newNamespace()
		at := fakeClock.Now().Add(-time.Hour).Truncate(time.Second)
		billed = at.Format(time.RFC3339)
		create(build.Offer(ns, "saas", "not-here", v1alpha1.ListingTypeTransact, at.AddDate(-1, 0, 0)))
	})

	It("S3: never clears a fraud or cancellation finding someone else recorded; the file's own columns set them; a conflicting value is refused", func() {
		billing := csvFile("offer,transactionId,amount,currency,billedAt",
			"saas,INV-1,100.00,USD,BILLED", "saas,INV-2,200.00,USD,BILLED", "saas,INV-3,300.00,USD,BILLED")
		r := kubectlRewards("import", "sales", billing, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring("created 3, unchanged 0, updated 0, refused 0"))

		By("the fraud team applies a finding with a field manager of its own; billing operations edit a cancellation in")
		finding := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": v1alpha1.GroupVersion.String(), "kind": "SalesRecord",
			"metadata": map[string]any{"namespace": ns, "name": plugin.SalesRecordName("INV-1")},
			"spec":     map[string]any{"fraud": "Proven"},
		}}
		Expect(k8sClient.Apply(bg, client.ApplyConfigurationFromUnstructured(finding), client.FieldOwner("fraud-team"))).To(Succeed())
		cancelledAt := metav1.NewTime(fakeClock.Now().Truncate(time.Second))
		cancellation := &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase, Time: &cancelledAt}
		Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
			inv2 := salesRecords(ns)[plugin.SalesRecordName("INV-2")]
			inv2.Spec.Cancellation = cancellation
			return k8sClient.Update(bg, &inv2, client.FieldOwner("billing-ops"))
		})).To(Succeed())
		findingsKept := func() {
			GinkgoHelper()
			records := salesRecords(ns)
			Expect(records[plugin.SalesRecordName("INV-1")].Spec.Fraud).To(Equal(v1alpha1.FraudProven))
			Expect(fieldOwners(records[plugin.SalesRecordName("INV-1")])["f:fraud"]).To(Equal([]string{"fraud-team"}))
			kept := records[plugin.SalesRecordName("INV-2")].Spec.Cancellation
			Expect(kept).NotTo(BeNil())
			Expect(kept.Reason).To(Equal(cancellation.Reason))
			// Compared as instants: one decoded from the API server is in
			// the local zone, the fixture's in UTC.
			Expect(kept.Time.Time).To(BeTemporally("==", cancellation.Time.Time))
			Expect(fieldOwners(records[plugin.SalesRecordName("INV-2")])["f:cancellation"]).To(Equal([]string{"billing-ops"}))
		}

		By("the billing export imported again finds every line unchanged, writes nothing, and both findings stay")
		writes := writesDuring(func() { r = kubectlRewards("import", "sales", billing, "-n", ns) })
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring("created 0, unchanged 3, updated 0, refused 0"))
		Expect(writes).To(BeZero())
		findingsKept()

		By("so does a file with the finding columns and empty cells")
		withColumns := csvFile("offer,transactionId,amount,currency,billedAt,fraud,cancellationReason,cancellationTime",
			"saas,INV-1,100.00,USD,BILLED,,,", "saas,INV-2,200.00,USD,BILLED,,,", "saas,INV-3,300.00,USD,BILLED,,,")
		writes = writesDuring(func() { r = kubectlRewards("import", "sales", withColumns, "-n", ns) })
		Expect(r.out).To(ContainSubstring("created 0, unchanged 3, updated 0, refused 0"))
		Expect(writes).To(BeZero())
		findingsKept()

		By("the file's own finding is set, and a later billing export keeps it: an import never removes a value")
		own := csvFile("offer,transactionId,amount,currency,billedAt,fraud", "saas,INV-3,300.00,USD,BILLED,Suspected")
		r = kubectlRewards("import", "sales", own, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring("updated: line 2 (transaction INV-3): fraud (none) -> Suspected\n"))
		Expect(r.out).To(ContainSubstring("created 0, unchanged 0, updated 1, refused 0"))
		writes = writesDuring(func() { r = kubectlRewards("import", "sales", billing, "-n", ns) })
		Expect(r.out).To(ContainSubstring("created 0, unchanged 3, updated 0, refused 0"))
		Expect(writes).To(BeZero())
		Expect(salesRecords(ns)[plugin.SalesRecordName("INV-3")].Spec.Fraud).To(Equal(v1alpha1.FraudSuspected))
		findingsKept()

		By("a file clearing the fraud team's finding (fraud None) conflicts: the line is refused and the finding stays")
		clearing := csvFile("offer,transactionId,amount,currency,billedAt,fraud", "saas,INV-1,100.00,USD,BILLED,None")
		r = kubectlRewards("import", "sales", clearing, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitDifferences))
		Expect(r.errOut).To(ContainSubstring(`refused: line 2 (transaction INV-1): fraud Proven -> None: refused by the API server: ` +
			`spec.fraud was set by another field manager (conflict with "fraud-team"`))
		Expect(r.errOut).To(ContainSubstring("--force-conflicts overwrites it"))
		Expect(r.out).To(ContainSubstring("created 0, unchanged 0, updated 0, refused 1"))
		findingsKept()

		By("--force-conflicts overwrites it, and the import owns the field from then on")
		r = kubectlRewards("import", "sales", clearing, "-n", ns, "--force-conflicts")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring("updated: line 2 (transaction INV-1): fraud Proven -> None\n"))
		inv1 := salesRecords(ns)[plugin.SalesRecordName("INV-1")]
		Expect(inv1.Spec.Fraud).To(Equal(v1alpha1.FraudNone))
		Expect(fieldOwners(inv1)["f:fraud"]).To(Equal([]string{plugin.FieldManager}))
	})

	It("names the fields a line changes when its billedAt moves an existing transaction", func() {
		r := kubectlRewards("import", "sales", csvFile("offer,transactionId,amount,currency,billedAt,seats",
			"saas,INV-1,100.00,USD,BILLED,", "saas,INV-2,200.00,USD,BILLED,"), "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		earlier := fakeClock.Now().Add(-48 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
		r = kubectlRewards("import", "sales", csvFile("offer,transactionId,amount,currency,billedAt,seats",
			"saas,INV-1,100.00,USD,"+earlier+",12", "saas,INV-2,200.00,USD,BILLED,"), "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring(fmt.Sprintf("updated: line 2 (transaction INV-1): billedAt %s -> %s, seats 0 -> 12\n", billed, earlier)))
		Expect(r.out).To(ContainSubstring("created 0, unchanged 1, updated 1, refused 0"))
		inv1 := salesRecords(ns)[plugin.SalesRecordName("INV-1")]
		Expect(inv1.Spec.BilledAt.UTC().Format(time.RFC3339)).To(Equal(earlier))
		Expect(inv1.Spec.Seats).To(Equal(int64(12)))
	})

	It("refuses a line that is not UTF-8, naming the line and the column, and imports the others", func() {
		file := writeFile("latin1.csv", []byte("offer,transactionId,amount,currency,billedAt\n"+
			"saas,INV-1,100.00,USD,"+billed+"\n"+
			"saas,INV-caf\xe9,200.00,USD,"+billed+"\n"))
		r := kubectlRewards("import", "sales", file, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitDifferences))
		Expect(r.errOut).To(ContainSubstring(`refused: line 3: column transactionId: "INV-caf\xe9" is not valid UTF-8 (byte 0xE9 at byte 8); export the file as UTF-8`))
		Expect(r.out).To(ContainSubstring("created 1, unchanged 0, updated 0, refused 1"))
		Expect(salesRecords(ns)).To(HaveLen(1))

		r = kubectlRewards("import", "sales", writeFile("header.csv", []byte("offer,transacti\xf3nId\n")), "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.errOut).To(ContainSubstring("header (line 1): "))
		Expect(r.errOut).To(ContainSubstring("is not valid UTF-8"))
	})

	It("warns about the lines of an offer that does not exist, and refuses them with --strict", func() {
		file := csvFile("offer,transactionId,amount,currency,billedAt",
			"saas,INV-1,100.00,USD,BILLED", "sass,INV-2,200.00,USD,BILLED", "sass,INV-3,300.00,USD,BILLED")

		By("--strict: refused, one line each, nothing of them stored")
		r := kubectlRewards("import", "sales", file, "-n", ns, "--strict")
		Expect(r.code).To(Equal(plugin.ExitDifferences))
		Expect(r.errOut).To(ContainSubstring(fmt.Sprintf(`refused: line 3 (transaction INV-2): offer "sass" does not exist in namespace %s (--strict)`, ns)))
		Expect(r.errOut).To(ContainSubstring("refused: line 4 (transaction INV-3)"))
		Expect(r.out).To(ContainSubstring("created 1, unchanged 0, updated 0, refused 2"))
		Expect(salesRecords(ns)).To(HaveLen(1))

		By("without: imported, with one warning for the offer")
		r = kubectlRewards("import", "sales", file, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.errOut).To(ContainSubstring(fmt.Sprintf(`warning: offer "sass" does not exist in namespace %s: 2 lines (3, 4) are imported for it`, ns)))
		Expect(r.out).To(ContainSubstring("created 2, unchanged 1, updated 0, refused 0"))
		Expect(salesRecords(ns)).To(HaveLen(3))
	})

	It("imports as a billing identity allowed SalesRecords only, without checking offers; --strict says it cannot", func() {
		user, err := testEnv.AddUser(envtest.User{Name: "billing-" + ns}, nil)
		Expect(err).NotTo(HaveOccurred())
		kc, err := user.KubeConfig()
		Expect(err).NotTo(HaveOccurred())
		billing := pluginRun{kubeconfig: writeFile("billing-kubeconfig", kc)}
		create(&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "billing"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"salesrecords"},
				Verbs: []string{"get", "list", "create", "patch", "update"}}},
		}, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "billing"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "billing"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "billing-" + ns}},
		})
		file := csvFile("offer,transactionId,amount,currency,billedAt", "saas,INV-1,100.00,USD,BILLED", "sass,INV-2,200.00,USD,BILLED")
		var r result
		Eventually(func() string {
			r = billing.run("import", "sales", file, "-n", ns)
			return r.out
		}).Should(ContainSubstring("created 2, unchanged 0, updated 0, refused 0"), "once the RoleBinding is in force")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.errOut).To(ContainSubstring(fmt.Sprintf("note: you may not list the Offers of namespace %s, so the lines are imported without checking that their offer exists", ns)))

		r = billing.run("import", "sales", file, "-n", ns, "--strict")
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.errOut).To(ContainSubstring(fmt.Sprintf("--strict checks that each line's offer exists, and you may not list the Offers of namespace %s", ns)))
	})

	It("draws a progress bar on a terminal, and exits 2 with one error for a namespace that does not exist", func() {
		file := csvFile("offer,transactionId,amount,currency,billedAt", "saas,INV-1,100.00,USD,BILLED", "saas,INV-2,200.00,USD,BILLED")
		r := pluginRun{kubeconfig: kubeconfig, terminal: true}.run("import", "sales", file, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.errOut).To(HaveSuffix("\r[" + strings.Repeat("#", 40) + "] 100% 2/2 rows\n"))

		writes := writesDuring(func() { r = kubectlRewards("import", "sales", file, "-n", ns+"-typo") })
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.errOut).To(Equal(fmt.Sprintf("error: namespace %q not found (check -n, or the namespace of the current context)\n", ns+"-typo")))
		Expect(writes).To(BeZero())
	})
})
