package plugin_test

import (
	"encoding/json"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/internal/plugin"
)

// operatorDeployment is the operator's Deployment as the installer and the
// chart label it, running image.
func operatorDeployment(ns, name, image string, labels map[string]string) *appsv1.Deployment {
	selector := map[string]string{"app.kubernetes.io/name": "rewards-operator", "control-plane": "controller-manager"}
	all := map[string]string{}
	for k, v := range selector {
		all[k] = v
	}
	for k, v := range labels {
		all[k] = v
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: all},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: selector},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "kube-rbac-proxy", Image: "quay.io/brancz/kube-rbac-proxy:v0.19.0"},
					{Name: "manager", Image: image},
				}},
			},
		},
	}
}

var _ = Describe("version", Ordered, func() {
	var ns string

	BeforeAll(func() {
		ns = newNamespace()
		create(operatorDeployment(ns, "rewards-operator-controller-manager", "ghcr.io/marketplace-rewards/rewards-operator:v0.1.0", nil))
	})

	It("prints both versions, from the manager container's image tag, and no warning when they agree", func() {
		r := pluginRun{kubeconfig: kubeconfig, version: "v0.1.0"}.run("version", "--operator-namespace", ns)
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(MatchRegexp(`(?m)^kubectl-rewards:\s+v0\.1\.0$`))
		Expect(r.out).To(MatchRegexp(`(?m)^operator:\s+v0\.1\.0 \(Deployment %s/rewards-operator-controller-manager, `+
			`image ghcr.io/marketplace-rewards/rewards-operator:v0.1.0, 0/1 ready\)$`, ns))
		Expect(r.errOut).To(BeEmpty())

		By("searching every namespace finds it too")
		r = pluginRun{kubeconfig: kubeconfig, version: "v0.1.0"}.run("version")
		Expect(r.out).To(ContainSubstring("Deployment " + ns + "/rewards-operator-controller-manager"))
	})

	It("warns when the plugin and the operator differ, and still exits 0", func() {
		r := pluginRun{kubeconfig: kubeconfig, version: "v0.2.0"}.run("version", "--operator-namespace", ns)
		Expect(r.code).To(Equal(plugin.ExitOK))
		Expect(r.errOut).To(Equal(fmt.Sprintf("warning: kubectl-rewards v0.2.0 and the operator v0.1.0 (Deployment %s/rewards-operator-controller-manager) differ: "+
			"the plugin decides with its own copy of the operator's rules, so explain and simulate may disagree with the operator; "+
			"install kubectl-rewards v0.1.0\n", ns)))
	})

	It("reads a digest-pinned image's version from the Helm chart's label, and prints JSON", func() {
		other := newNamespace()
		create(operatorDeployment(other, "rewards", "ghcr.io/marketplace-rewards/rewards-operator@sha256:"+fmt.Sprintf("%064d", 0),
			map[string]string{"app.kubernetes.io/version": "v0.1.0"}))
		r := pluginRun{kubeconfig: kubeconfig, version: "v0.1.0"}.run("version", "--operator-namespace", other, "-o", "json")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		var info plugin.VersionInfo
		Expect(json.Unmarshal([]byte(r.out), &info)).To(Succeed())
		Expect(info.Plugin).To(Equal("v0.1.0"))
		Expect(info.Operators).To(HaveLen(1))
		Expect(info.Operators[0].Version).To(Equal("v0.1.0"))
		Expect(info.Operators[0].Deployment).To(Equal("rewards"))
		Expect(r.errOut).To(BeEmpty())
	})

	It("says why the operator's version is unknown, and --client reads no cluster", func() {
		r := kubectlRewards("version", "--operator-namespace", newNamespace())
		Expect(r.code).To(Equal(plugin.ExitOK))
		Expect(r.out).To(MatchRegexp(`(?m)^operator:\s+unknown: no Deployment labelled app.kubernetes.io/name=rewards-operator in namespace plugin-test-`))

		r = pluginRun{kubeconfig: "/nonexistent/kubeconfig", version: "v0.1.0"}.run("version", "--client")
		Expect(r.code).To(Equal(plugin.ExitOK), r.errOut)
		Expect(r.out).To(Equal("kubectl-rewards:   v0.1.0\n"))
	})
})
