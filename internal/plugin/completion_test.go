package plugin_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// completions runs cobra's completion request, as kubectl_complete-rewards
// and the shell scripts make it, and returns the candidates (descriptions
// cut off) and the directive line.
func completions(args ...string) ([]string, string) {
	r := kubectlRewards(append([]string{"__complete"}, args...)...)
	ExpectWithOffset(1, r.code).To(Equal(plugin.ExitOK), r.errOut)
	lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
	names := make([]string, 0, len(lines)-1)
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		names = append(names, name)
	}
	return names, lines[len(lines)-1]
}

var _ = Describe("completion", func() {
	It("completes commands, kinds, flag values and the names of objects in the namespace", func() {
		ns := newNamespace()
		create(build.Publisher(ns, "contoso"), build.Publisher(ns, "fabrikam"),
			build.Activation(ns, "contoso-case-study", "saas", "case-study"),
			build.Activation(ns, "contoso-badge", "saas", "listing-badge"),
			build.Activation(ns, "fabrikam-badge", "vm", "listing-badge"))

		names, directive := completions("")
		Expect(names).To(ContainElements("explain", "simulate", "import", "report", "contacts", "version", "completion"))
		Expect(directive).To(Equal(":4"), "no file completion")

		names, _ = completions("explain", "")
		Expect(names).To(Equal([]string{"activation", "publisher"}))

		names, _ = completions("explain", "publisher", "-n", ns, "")
		Expect(names).To(Equal([]string{"contoso", "fabrikam"}))

		names, _ = completions("explain", "activation", "-n", ns, "contoso-")
		Expect(names).To(Equal([]string{"contoso-badge", "contoso-case-study"}))

		names, _ = completions("explain", "publisher", "-n", ns[:len(ns)-2])
		Expect(names).To(ContainElement(ns), "namespaces for -n")

		names, _ = completions("report", "-o", "")
		Expect(names).To(Equal([]string{"csv", "json"}))

		names, directive = completions("simulate", "--program", "")
		Expect(names).To(Equal([]string{"yaml", "yml", "json"}))
		Expect(directive).To(Equal(":8"), "files of those extensions")

		names, _ = completions("completion", "")
		Expect(names).To(Equal([]string{"bash", "zsh", "fish", "powershell"}))
	})

	DescribeTable("prints a completion script for kubectl-rewards",
		func(shell, want string) {
			r := kubectlRewards("completion", shell)
			Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
			Expect(r.out).To(ContainSubstring(want))
			Expect(r.out).To(ContainSubstring("__complete"), "the script asks the binary for completions")
		},
		Entry("bash", "bash", "complete -o default -F __start_kubectl-rewards kubectl-rewards"),
		Entry("zsh", "zsh", "#compdef kubectl-rewards"),
		Entry("fish", "fish", "complete -c kubectl-rewards"),
		Entry("powershell", "powershell", "Register-ArgumentCompleter -CommandName 'kubectl-rewards'"),
	)
})
