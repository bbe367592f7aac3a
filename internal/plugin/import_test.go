package plugin_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// salesRecords lists the SalesRecords of a namespace.
func salesRecords(ns string) map[string]v1alpha1.SalesRecord {
	var list v1alpha1.SalesRecordList
	ExpectWithOffset(1, k8sClient.List(bg, &list, client.InNamespace(ns))).To(Succeed())
	out := make(map[string]v1alpha1.SalesRecord, len(list.Items))
	for _, r := range list.Items {
		out[r.Name] = r
	}
	return out
}

var _ = Describe("import sales", func() {
	var (
		ns     string
		billed time.Time
	)

	BeforeEach(func() {
		ns = newNamespace()
		billed = fakeClock.Now().Add(-time.Hour).Truncate(time.Second)
		// The lines' offer exists, so the operator decides them without a
		// warning each; its publisher does not, so the operator does not
		// recompute a tier over thousands of lines at each one: the
		// import, not the operator, is under test.
		create(build.Offer(ns, "saas", "not-here", v1alpha1.ListingTypeTransact, billed.AddDate(-1, 0, 0)))
	})

	It("imports a 10,000-line CSV, refusing a malformed row with its line number, and a second import writes nothing", func() {
		var csv strings.Builder
		csv.WriteString("offer,transactionId,amount,currency,billedAt,seats,fraud\n")
		for i := 1; i <= 10_000; i++ {
			amount := fmt.Sprintf("%d.%02d", 100+i%900, i%100)
			if i == 5000 { // line 5001 of the file: a comma decimal
				amount = `"12,50"`
			}
			fmt.Fprintf(&csv, "saas,INV-%06d,%s,USD,%s,,\n", i, amount, billed.Format(time.RFC3339))
		}
		file := writeFile("sales.csv", []byte(csv.String()))

		var r result
		writes := writesDuring(func() { r = kubectlRewards("import", "sales", file, "-n", ns) })
		Expect(r.code).To(Equal(plugin.ExitDifferences), "some rows were refused")
		Expect(r.out).To(ContainSubstring("created 9999, unchanged 0, updated 0, refused 1"))
		Expect(r.errOut).To(ContainSubstring(`refused: line 5001 (transaction INV-005000): amount "12,50" is not a decimal amount`))
		Expect(r.errOut).To(ContainSubstring("10000/10000 rows"), "progress on stderr, which is not a terminal")
		Expect(writes).To(Equal(int64(9999)), "one apply per new row")

		records := salesRecords(ns)
		Expect(records).To(HaveLen(9999), "every other row landed")
		Expect(records).NotTo(HaveKey(plugin.SalesRecordName("INV-005000")), "nothing of the refused row")
		first := records[plugin.SalesRecordName("INV-000001")]
		Expect(first.Spec).To(Equal(v1alpha1.SalesRecordSpec{
			OfferRef: v1alpha1.LocalObjectReference{Name: "saas"}, TransactionID: "INV-000001",
			Amount: "101.01", Currency: "USD", BilledAt: first.Spec.BilledAt,
		}))
		Expect(first.Spec.BilledAt.Time).To(BeTemporally("==", billed))
		Expect(first.ManagedFields).To(ContainElement(HaveField("Manager", plugin.FieldManager)), "server-side apply by kubectl-rewards")

		// The operator decides every imported line. Waiting for it also
		// keeps its backlog of thousands of lines from slowing the tests
		// that run next. Generous: one status write per line, on a loaded
		// machine.
		Eventually(func() int {
			decided := 0
			for _, r := range salesRecords(ns) {
				if r.Status.Reason == v1alpha1.SalesCounted {
					decided++
				}
			}
			return decided
		}).WithTimeout(5*time.Minute).WithPolling(3*time.Second).Should(Equal(9999), "every imported line counted")

		By("a second import of the same file finds every row unchanged and writes nothing")
		writes = writesDuring(func() { r = kubectlRewards("import", "sales", file, "-n", ns) })
		Expect(r.out).To(ContainSubstring("created 0, unchanged 9999, updated 0, refused 1"))
		Expect(r.errOut).To(ContainSubstring("refused: line 5001"))
		Expect(writes).To(BeZero())
		Expect(salesRecords(ns)).To(HaveLen(9999))
	})

	It("updates a changed row naming what changes, refuses what the API server refuses with its line number, and stores nothing with --dry-run=server", func() {
		at := billed.Format(time.RFC3339)
		file := writeFile("sales.csv", []byte("offer,transactionId,amount,currency,billedAt,fraud\n"+
			"saas,INV-1,100.00,USD,"+at+",\n"+
			"saas,INV-2,200.00,USD,"+at+",\n"))
		r := kubectlRewards("import", "sales", file, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring("created 2, unchanged 0, updated 0, refused 0"))

		// INV-1 is found fraudulent (fraud may change); INV-2's amount is
		// changed, which the API refuses (immutable); INV-3 is new.
		changed := writeFile("sales.csv", []byte("offer,transactionId,amount,currency,billedAt,fraud\n"+
			"saas,INV-1,100.00,USD,"+at+",Proven\n"+
			"saas,INV-2,999.00,USD,"+at+",\n"+
			"saas,INV-3,300.00,USD,"+at+",\n"))

		By("--dry-run=server: validated by the API server, nothing stored")
		writes := writesDuring(func() { r = kubectlRewards("import", "sales", changed, "-n", ns, "--dry-run=server") })
		Expect(r.code).To(Equal(plugin.ExitDifferences))
		Expect(r.out).To(ContainSubstring("created 1, unchanged 0, updated 1, refused 1 (dry run: server; nothing was stored)"))
		Expect(r.out).To(ContainSubstring("updated: line 2 (transaction INV-1): fraud (none) -> Proven\n"))
		Expect(r.errOut).To(ContainSubstring("refused: line 3 (transaction INV-2): amount 200.00 -> 999.00: refused by the API server: spec.amount: Invalid value"))
		Expect(writes).To(Equal(int64(3)), "three dry-run requests")
		records := salesRecords(ns)
		Expect(records).To(HaveLen(2))
		Expect(records[plugin.SalesRecordName("INV-1")].Spec.Fraud).To(BeEmpty())

		By("applied: INV-1 updated, INV-2 refused and left as it was, INV-3 created")
		r = kubectlRewards("import", "sales", changed, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitDifferences))
		Expect(r.out).To(ContainSubstring("created 1, unchanged 0, updated 1, refused 1"))
		Expect(r.errOut).To(ContainSubstring("refused: line 3 (transaction INV-2)"))
		Expect(r.errOut).To(ContainSubstring("spec.amount is immutable"))
		records = salesRecords(ns)
		Expect(records).To(HaveLen(3))
		Expect(records[plugin.SalesRecordName("INV-1")].Spec.Fraud).To(Equal(v1alpha1.FraudProven))
		Expect(records[plugin.SalesRecordName("INV-2")].Spec.Amount).To(Equal(v1alpha1.Money("200.00")))

		By("the first file again, whose fraud cells are empty, leaves INV-1's fraud as the second file set it")
		writes = writesDuring(func() { r = kubectlRewards("import", "sales", file, "-n", ns) })
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring("created 0, unchanged 2, updated 0, refused 0"))
		Expect(writes).To(BeZero())
		Expect(salesRecords(ns)[plugin.SalesRecordName("INV-1")].Spec.Fraud).To(Equal(v1alpha1.FraudProven))
	})

	It("exits 2 for a file without the required columns, writing nothing", func() {
		file := writeFile("sales.csv", []byte("offer,amount\nsaas,5\n"))
		var r result
		writes := writesDuring(func() { r = kubectlRewards("import", "sales", file, "-n", ns) })
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.errOut).To(ContainSubstring(`the required column "transactionId" is missing`))
		Expect(writes).To(BeZero())
	})
})
