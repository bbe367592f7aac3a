package plugin_test

import (
	"encoding/json"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// programFile writes prog as a YAML manifest, as a GitOps repository
// holds it.
func programFile(prog *v1alpha1.RewardsProgram) string {
	manifest := &v1alpha1.RewardsProgram{Spec: *prog.Spec.DeepCopy()}
	manifest.APIVersion, manifest.Kind = v1alpha1.GroupVersion.String(), "RewardsProgram"
	manifest.Name = prog.Name
	data, err := yaml.Marshal(manifest)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return writeFile("program.yaml", data)
}

var _ = Describe("simulate", func() {
	var (
		prog *v1alpha1.RewardsProgram
		ns   string
	)

	// Four publishers of one program: at 30000 (tier 2), 60000 (tier 2),
	// 150000 (tier 3) and 1000 (tier 1); the first has its tier-2 benefit
	// Active.
	BeforeEach(func() {
		ns = newNamespace()
		now := fakeClock.Now()
		prog = build.Program()
		create(prog)
		for name, amount := range map[string]string{"drops": "30000", "stays": "60000", "higher": "150000", "lower": "1000"} {
			pub := build.Publisher(ns, name, build.Following(prog.Name), build.WithContact())
			create(pub,
				build.Offer(ns, name+"-saas", name, v1alpha1.ListingTypeTransact, now.AddDate(-1, 0, 0)),
				build.SalesRecord(ns, name+"-line", name+"-saas", amount, "USD", now.Add(-time.Hour)))
		}
		create(build.Activation(ns, "drops-case-study", "drops-saas", "case-study"))
		act := build.Activation(ns, "drops-case-study", "", "")
		Eventually(func() v1alpha1.ActivationPhase { return fetch(act)().Status.Phase }).Should(Equal(v1alpha1.ActivationActive))
	})

	It("reports no difference and exits 0 for the program in force", func() {
		r := kubectlRewards("simulate", "--program", programFile(prog), "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(ContainSubstring("No differences"))
		Expect(r.out).To(ContainSubstring("the 4 publishers following it"))

		r = kubectlRewards("simulate", "--program", programFile(prog), "-A", "-o", "json")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		var report plugin.SimulationReport
		Expect(json.Unmarshal([]byte(r.out), &report)).To(Succeed())
		Expect(report.Publishers).To(Equal(4))
		Expect(report.Differences).To(BeEmpty())
	})

	It("S6: reports exactly the publishers a raised Tier 2 threshold drops, and exits 1", func() {
		raised := prog.DeepCopy()
		raised.Spec.Tiers[1].MinBilledSales = "50000"
		file := programFile(raised)

		r := kubectlRewards("simulate", "--program", file, "-A", "-o", "json")
		Expect(r.code).To(Equal(plugin.ExitDifferences), r.errOut)
		var report plugin.SimulationReport
		Expect(json.Unmarshal([]byte(r.out), &report)).To(Succeed())
		Expect(report.Publishers).To(Equal(4))
		tierChanges := map[string][2]int32{}
		nextTierOnly := []string{}
		for _, d := range report.Differences {
			Expect(d.Namespace).To(Equal(ns))
			if d.TierChanged {
				tierChanges[d.Publisher] = [2]int32{d.Current.Tier, d.Candidate.Tier}
			} else if d.NextTierChanged {
				nextTierOnly = append(nextTierOnly, d.Publisher)
			}
		}
		Expect(tierChanges).To(Equal(map[string][2]int32{"drops": {2, 1}}), "only the publisher at 30000 drops")
		Expect(nextTierOnly).To(Equal([]string{"lower"}), "S7: the tier-1 publisher now needs more for tier 2; tiers 2 at 60000 and 3 are untouched")
		var drops plugin.PublisherDifference
		for _, d := range report.Differences {
			if d.Publisher == "drops" {
				drops = d
			}
		}
		Expect(drops.NoLongerUnlocked).To(Equal([]string{"case-study"}))
		Expect(drops.Activations).To(Equal([]plugin.ActivationRef{{Name: "drops-case-study", Benefit: "case-study", Phase: "Active"}}))
		Expect(drops.Candidate.NextTier.BilledSalesMissing).To(Equal(v1alpha1.DerivedMoney("20000.00")))

		By("the table says the same, aligned")
		r = kubectlRewards("simulate", "--program", file, "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitDifferences))
		Expect(r.out).To(ContainSubstring("changes 2 of the 4 publishers"))
		Expect(r.out).To(MatchRegexp(row(ns, "drops", "2 -> 1", "3 (70000.00 more) -> 2 (20000.00 more)", "30000.00 USD", "-1", "0").String()))
		Expect(r.out).To(MatchRegexp(row(ns, "lower", "1", "2 (24000.00 more) -> 2 (49000.00 more)", "1000.00 USD", "-", "0").String()))
		Expect(r.out).To(ContainSubstring("no longer unlocked: case-study"))
		Expect(r.out).NotTo(MatchRegexp(`(?m)^\S+\s+stays\s`))
		Expect(r.out).NotTo(MatchRegexp(`(?m)^\S+\s+higher\s`))

		By("-o yaml")
		r = kubectlRewards("simulate", "--program", file, "-n", ns, "-o", "yaml")
		Expect(r.code).To(Equal(plugin.ExitDifferences))
		var fromYAML plugin.SimulationReport
		Expect(yaml.Unmarshal([]byte(r.out), &fromYAML)).To(Succeed())
		Expect(fromYAML.Differences).To(HaveLen(2))
	})

	It("exits 2, writing nothing, for a candidate that is not valid", func() {
		bad := prog.DeepCopy()
		bad.Spec.Tiers[1].Benefits = append(bad.Spec.Tiers[1].Benefits, "no-such-benefit")
		r := kubectlRewards("simulate", "--program", programFile(bad), "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.errOut).To(ContainSubstring(`"no-such-benefit" is not in spec.benefits`))

		r = kubectlRewards("simulate", "--program", writeFile("offer.yaml", []byte("apiVersion: rewards.marketplace.io/v1alpha1\nkind: Offer\nmetadata: {name: x}\n")), "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.errOut).To(ContainSubstring("want a RewardsProgram"))
	})

	It("exits 2 with the API server's own message for a candidate that admission refuses, and writes nothing", func() {
		bad := prog.DeepCopy()
		bad.Spec.Currency = "usd"
		var r result
		writes := writesDuring(func() { r = kubectlRewards("simulate", "--program", programFile(bad), "-n", ns) })
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.out).To(BeEmpty())
		Expect(r.errOut).To(ContainSubstring(fmt.Sprintf("error: the candidate RewardsProgram %q is invalid:\n  the API server refuses it:\n    spec.currency: ", prog.Name)))
		Expect(r.errOut).To(ContainSubstring("spec.currency must be an ISO 4217 currency code"))
		Expect(writes).To(Equal(int64(1)), "one dry-run update")
		Expect(fetch(prog)().Spec.Currency).NotTo(Equal(v1alpha1.CurrencyCode("usd")), "nothing stored")

		By("a program of a new name is checked by a dry-run create, and not created")
		bad.Name = prog.Name + "-new"
		r = kubectlRewards("simulate", "--program", programFile(bad), "-n", ns)
		Expect(r.code).To(Equal(plugin.ExitError))
		Expect(r.errOut).To(ContainSubstring("the API server refuses it:\n    spec.currency: "))
		var programs v1alpha1.RewardsProgramList
		Expect(k8sClient.List(bg, &programs)).To(Succeed())
		for _, p := range programs.Items {
			Expect(p.Name).NotTo(Equal(bad.Name))
		}
	})
})
