package plugin_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var _ = Describe("command line errors", func() {
	DescribeTable("exit 1 with what is wrong and where to look",
		func(args []string, want ...string) {
			r := kubectlRewards(args...)
			Expect(r.code).To(Equal(plugin.ExitUsage))
			Expect(r.out).To(BeEmpty())
			for _, w := range want {
				Expect(r.errOut).To(ContainSubstring(w))
			}
		},
		Entry("an unknown command, with the one meant", []string{"explian", "publisher", "x"},
			`error: unknown command "explian" for "kubectl rewards"`, "Did you mean explain?", "See 'kubectl rewards --help' for usage."),
		Entry("an unknown kind to explain, with the one meant", []string{"explain", "pub", "contoso"},
			`error: unknown kind "pub" for "kubectl rewards explain"; the kinds are activation, publisher. Did you mean publisher?`,
			"See 'kubectl rewards explain --help' for usage."),
		Entry("an unknown kind to import, with the one meant", []string{"import", "sale", "billing.csv"},
			`unknown kind "sale" for "kubectl rewards import"`, "Did you mean sales?"),
		Entry("explain without a kind", []string{"explain"}, "kubectl rewards explain needs a kind: activation or publisher"),
		Entry("a missing name", []string{"explain", "publisher"}, "kubectl rewards explain publisher needs NAME (0 arguments given)",
			"See 'kubectl rewards explain publisher --help' for usage."),
		Entry("an unknown flag", []string{"report", "--from", "2026-11-01"}, "unknown flag: --from", "See 'kubectl rewards report --help'"),
		Entry("an unknown output format", []string{"contacts", "-o", "xml"}, `--output "xml": use csv or json`),
		Entry("an unknown shell", []string{"completion", "tcsh"}, `unknown shell "tcsh": use bash, zsh, fish, powershell`),
		Entry("a period that is empty", []string{"report", "--since", "2026-12-01", "--until", "2026-11-01"},
			"--since 2026-12-01T00:00:00Z is not before --until 2026-11-01T00:00:00Z"),
		Entry("a time that is not one", []string{"report", "--until", "November"}, `--until "November" is neither a date like 2026-11-01`),
	)

	It("lists the commands with no argument, exit 0", func() {
		r := kubectlRewards()
		Expect(r.code).To(Equal(plugin.ExitOK))
		Expect(r.out).To(ContainSubstring("Available Commands:"))
	})
})

var _ = Describe("a namespace that does not exist", func() {
	It("is one error, exit 2, for every command that reads a namespace", func() {
		ns := newNamespace() + "-typo"
		program := programFile(build.Program())
		sales := writeFile("sales.csv", []byte("offer,transactionId,amount,currency,billedAt\nsaas,INV-1,1.00,USD,2026-11-01T00:00:00Z\n"))
		for _, args := range [][]string{
			{"explain", "publisher", "contoso"},
			{"explain", "activation", "contoso-case-study"},
			{"simulate", "--program", program},
			{"import", "sales", sales},
			{"report"},
			{"contacts"},
		} {
			r := kubectlRewards(append(args, "-n", ns)...)
			Expect(r.code).To(Equal(plugin.ExitError), "%v", args)
			Expect(r.errOut).To(Equal(fmt.Sprintf("error: namespace %q not found (check -n, or the namespace of the current context)\n", ns)), "%v", args)
			Expect(r.out).To(BeEmpty(), "%v", args)
		}
	})
})

var _ = Describe("a cluster without the rewards CRDs", Ordered, func() {
	var bare pluginRun

	BeforeAll(func() {
		env := testenv.NewEnvironment()
		_, err := env.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(env.Stop()).To(Succeed()) })
		kc, err := testenv.AdminKubeconfig(env, "bare-user", GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		bare = pluginRun{kubeconfig: kc}
	})

	It("is one error, exit 2, for every command that reads the rewards kinds", func() {
		program := programFile(build.Program())
		sales := writeFile("sales.csv", []byte("offer,transactionId,amount,currency,billedAt\nsaas,INV-1,1.00,USD,2026-11-01T00:00:00Z\n"))
		for _, args := range [][]string{
			{"explain", "publisher", "contoso", "-n", "default"},
			{"explain", "activation", "contoso-case-study", "-n", "default"},
			{"simulate", "--program", program, "-A"},
			{"import", "sales", sales, "-n", "default"},
			{"report", "-A"},
			{"contacts", "-n", "default"},
		} {
			r := bare.run(args...)
			Expect(r.code).To(Equal(plugin.ExitError), "%v", args)
			Expect(r.errOut).To(HavePrefix("error: the rewards CRDs are not installed in this cluster"), "%v", args)
			Expect(r.errOut).To(ContainSubstring("install the operator"), "%v", args)
		}
	})

	It("still prints the plugin's version, and says no operator was found", func() {
		r := pluginRun{kubeconfig: bare.kubeconfig, version: "v0.1.0"}.run("version")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(MatchRegexp(`(?m)^kubectl-rewards:\s+v0\.1\.0$`))
		Expect(r.out).To(MatchRegexp(`(?m)^operator:\s+unknown: no Deployment labelled app.kubernetes.io/name=rewards-operator in any namespace$`))
	})
})
