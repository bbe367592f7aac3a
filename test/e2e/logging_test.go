package e2e

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Issue 12: at --zap-log-level 8 and above client-go logged whole objects,
// Publishers' marketing contacts included. The manager runs at level 10
// here (e2e_test.go).
var _ = Describe("The manager's log at the highest verbosity", func() {
	const (
		email = "privacy.check@adventure-works.example"
		phone = "+14255550177"
	)

	It("never holds a marketing contact's email or phone", func() {
		const logNS = "e2e-log"
		kubectl("apply", "--server-side", "-f", "config/programs/default.yaml")
		kubectl("create", "namespace", logNS)
		_, errOut, err := run(`apiVersion: rewards.marketplace.io/v1alpha1
kind: Publisher
metadata:
  name: adventure-works
spec:
  mpnId: "6120457"
  accountEmail: partner-center@adventure-works.example
  enrolled: true
  marketingContact:
    user: Rowan Ellis
    email: `+email+`
    phone: "`+phone+`"
    preferredLanguage: en-US
`, "apply", "--server-side", "-n", logNS, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), errOut)
		kubectl("wait", "-n", logNS, "--for=condition=Ready", "--timeout=60s", "publisher/adventure-works")

		By("changing the publisher, so that the operator reads and writes it again")
		kubectl("patch", "-n", logNS, "publisher/adventure-works", "--type=merge",
			"-p", `{"spec":{"enrolled":false}}`)
		kubectl("wait", "-n", logNS, "--for=jsonpath={.status.observedGeneration}=2", "--timeout=60s", "publisher/adventure-works")

		log := managerLog.String()
		// The log is verbose: it holds debug lines (V(1) and above).
		Expect(log).To(MatchRegexp(`"level":"(debug|Level\(-\d+\))"`))
		for _, secret := range []string{email, phone, strings.TrimPrefix(phone, "+")} {
			Expect(log).NotTo(ContainSubstring(secret))
		}
	})
})
