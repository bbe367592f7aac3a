package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// config/default, rendered by the pinned kubectl, is accepted by a fresh API
// server as a whole, and its Deployment is the hardened one the README
// promises.
var _ = Describe("config/default", Ordered, func() {
	var (
		env        *envtest.Environment
		c          client.Client
		kubeconfig string
		deploy     *appsv1.Deployment
	)

	// kubectl runs the pinned kubectl against the fresh API server.
	kubectl := func(stdin string, args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Stdin = strings.NewReader(stdin)
		err := cmd.Run()
		fmt.Fprintf(GinkgoWriter, "$ kubectl %s\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
		return stdout.String(), stderr.String(), err
	}
	toYAML := func(objs []*unstructured.Unstructured) string {
		s, err := testenv.EncodeObjects(objs)
		Expect(err).NotTo(HaveOccurred())
		return s
	}

	BeforeAll(func() {
		By("starting a second, empty API server: no CRDs, no namespace")
		env = testenv.NewEnvironment()
		cfg, err := env.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		c, err = client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		kubeconfig, err = testenv.AdminKubeconfig(env, "admin", GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())

		deploy = typed[appsv1.Deployment](renderedObject("Deployment", "rewards-operator-controller-manager"))
	})

	It("is accepted as a whole by server-side apply in dry-run mode", func() {
		By("applying the Namespace and the CRDs for real, as a dry run cannot create what the rest depends on")
		var base []*unstructured.Unstructured
		for _, o := range rendered {
			if o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition" {
				base = append(base, o)
			}
		}
		Expect(base).To(HaveLen(8), "the Namespace and seven CRDs")
		_, errOut, err := kubectl(toYAML(base), "apply", "--server-side", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), errOut)
		_, errOut, err = kubectl("", "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
		Expect(err).NotTo(HaveOccurred(), errOut)

		By("dry-running all of config/default")
		out, errOut, err := kubectl(kustomize("config/default"), "apply", "--server-side", "--dry-run=server", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), errOut)
		Expect(errOut).To(BeEmpty(), "no warnings")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		Expect(lines).To(HaveLen(len(rendered)), "one line per object")
		for _, l := range lines {
			Expect(l).To(HaveSuffix("(server dry run)"))
		}
		for _, want := range []string{
			"deployment.apps/rewards-operator-controller-manager",
			"service/rewards-operator-controller-manager-metrics-service",
			"serviceaccount/rewards-operator-controller-manager",
			"clusterrole.rbac.authorization.k8s.io/rewards-operator-manager-role",
			"clusterrolebinding.rbac.authorization.k8s.io/rewards-operator-manager-rolebinding",
			"role.rbac.authorization.k8s.io/rewards-operator-leader-election-role",
			"rolebinding.rbac.authorization.k8s.io/rewards-operator-leader-election-rolebinding",
			"clusterrole.rbac.authorization.k8s.io/rewards-operator-rewards-partner-editor",
			"clusterrole.rbac.authorization.k8s.io/rewards-operator-rewards-viewer",
			"networkpolicy.networking.k8s.io/rewards-operator-allow-metrics-traffic",
		} {
			Expect(out).To(ContainSubstring(want + " serverside-applied (server dry run)"))
		}

		By("having created nothing but the Namespace and the CRDs")
		err = c.Get(bg, client.ObjectKey{Namespace: operatorNS, Name: deploy.Name}, &appsv1.Deployment{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
		err = c.Get(bg, client.ObjectKey{Namespace: operatorNS, Name: operatorSA}, &corev1.ServiceAccount{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
	})

	It("puts every namespaced object in the operator's namespace", func() {
		for _, o := range rendered {
			switch o.GetKind() {
			case "Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding":
				Expect(o.GetNamespace()).To(BeEmpty(), "%s %s", o.GetKind(), o.GetName())
			default:
				Expect(o.GetNamespace()).To(Equal(operatorNS), "%s %s", o.GetKind(), o.GetName())
			}
		}
		Expect(renderedObject("Namespace", operatorNS).GetLabels()).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	})

	It("runs the manager hardened: non-root, read-only, no privilege escalation, no capabilities, RuntimeDefault seccomp", func() {
		pod := deploy.Spec.Template.Spec
		Expect(pod.Containers).To(HaveLen(1))
		ctr := pod.Containers[0]
		Expect(ctr.Name).To(Equal("manager"))

		Expect(pod.SecurityContext).NotTo(BeNil())
		Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
		seccomp := pod.SecurityContext.SeccompProfile
		if ctr.SecurityContext != nil && ctr.SecurityContext.SeccompProfile != nil {
			seccomp = ctr.SecurityContext.SeccompProfile
		}
		Expect(seccomp).NotTo(BeNil())
		Expect(seccomp.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))

		Expect(ctr.SecurityContext).NotTo(BeNil())
		Expect(ctr.SecurityContext.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
		Expect(ctr.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		Expect(ctr.SecurityContext.Privileged).To(Or(BeNil(), HaveValue(BeFalse())))
		Expect(ctr.SecurityContext.Capabilities).NotTo(BeNil())
		Expect(ctr.SecurityContext.Capabilities.Drop).To(ContainElement(corev1.Capability("ALL")))
		Expect(ctr.SecurityContext.Capabilities.Add).To(BeEmpty())

		// The user and group are stated, not left to the image's metadata,
		// and are the image's own (the Dockerfile's USER, distroless
		// nonroot), above 10000 so that they match no host user.
		dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
		Expect(err).NotTo(HaveOccurred())
		m := regexp.MustCompile(`(?m)^USER\s+(\d+):(\d+)`).FindSubmatch(dockerfile)
		Expect(m).NotTo(BeNil(), "the image's USER is numeric uid:gid")
		Expect(pod.SecurityContext.RunAsUser).To(HaveValue(BeEquivalentTo(mustAtoi(string(m[1])))))
		Expect(pod.SecurityContext.RunAsGroup).To(HaveValue(BeEquivalentTo(mustAtoi(string(m[2])))))
		Expect(*pod.SecurityContext.RunAsUser).To(BeNumerically(">", 10000))
		Expect(*pod.SecurityContext.RunAsGroup).To(BeNumerically(">", 10000))
		Expect(pod.ServiceAccountName).To(Equal(operatorSA))
	})

	It("would be admitted under the restricted Pod Security Standard its namespace enforces", func() {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: operatorNS, Name: "manager", Labels: deploy.Spec.Template.Labels},
			Spec:       *deploy.Spec.Template.Spec.DeepCopy(),
		}
		Expect(c.Create(bg, pod.DeepCopy(), client.DryRunAll)).To(Succeed())

		// The admission check is real: the same pod without its container
		// securityContext is refused.
		bare := pod.DeepCopy()
		bare.Spec.Containers[0].SecurityContext = nil
		err := c.Create(bg, bare, client.DryRunAll)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring(`violates PodSecurity "restricted`))
	})

	It("pins the image to a release tag", func() {
		ctr := deploy.Spec.Template.Spec.Containers[0]
		Expect(ctr.Image).To(MatchRegexp(`:v\d+\.\d+\.\d+$`), "a vX.Y.Z tag, never :latest")
		Expect(ctr.ImagePullPolicy).To(Equal(corev1.PullIfNotPresent))
	})

	It("admits inbound traffic to the manager on the metrics port only", func() {
		np := typed[networkingv1.NetworkPolicy](renderedObject("NetworkPolicy", "rewards-operator-allow-metrics-traffic"))
		Expect(np.Namespace).To(Equal(operatorNS))
		selector, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		Expect(err).NotTo(HaveOccurred())
		Expect(selector.Empty()).To(BeFalse())
		Expect(selector.Matches(labels.Set(deploy.Spec.Template.Labels))).To(BeTrue(), "it selects the manager's pods")
		Expect(np.Spec.PolicyTypes).To(Equal([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}))
		Expect(np.Spec.Ingress).To(HaveLen(1))
		Expect(np.Spec.Ingress[0].Ports).To(HaveLen(1))
		port := np.Spec.Ingress[0].Ports[0]
		Expect(port.Protocol).To(HaveValue(Equal(corev1.ProtocolTCP)))
		Expect(port.Port).To(HaveValue(Equal(intstr.FromInt32(8443))))
		Expect(port.EndPort).To(BeNil())
		svc := typed[corev1.Service](renderedObject("Service", "rewards-operator-controller-manager-metrics-service"))
		Expect(svc.Spec.Ports[0].TargetPort).To(Equal(*port.Port), "the port the metrics Service targets")
	})

	It("sets requests and limits, liveness and readiness probes, and --leader-elect", func() {
		ctr := deploy.Spec.Template.Spec.Containers[0]
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
			Expect(ctr.Resources.Requests).To(HaveKey(name))
			Expect(ctr.Resources.Limits).To(HaveKey(name))
			req, limit := ctr.Resources.Requests[name], ctr.Resources.Limits[name]
			Expect(req.Cmp(limit)).To(BeNumerically("<=", 0), "%s request <= limit", name)
		}
		Expect(ctr.Args).To(ContainElement("--leader-elect"))
		Expect(ctr.Args).To(ContainElement("--health-probe-bind-address=:8081"))

		Expect(ctr.LivenessProbe).NotTo(BeNil())
		Expect(ctr.LivenessProbe.HTTPGet).NotTo(BeNil())
		Expect(ctr.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
		Expect(ctr.LivenessProbe.HTTPGet.Port).To(Equal(intstr.FromInt32(8081)))
		Expect(ctr.ReadinessProbe).NotTo(BeNil())
		Expect(ctr.ReadinessProbe.HTTPGet).NotTo(BeNil())
		Expect(ctr.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
		Expect(ctr.ReadinessProbe.HTTPGet.Port).To(Equal(intstr.FromInt32(8081)))
	})

	It("exposes the metrics endpoint through a Service that selects the manager's pods", func() {
		svc := typed[corev1.Service](renderedObject("Service", "rewards-operator-controller-manager-metrics-service"))
		Expect(svc.Namespace).To(Equal(operatorNS))
		Expect(svc.Spec.Selector).NotTo(BeEmpty())
		for k, v := range svc.Spec.Selector {
			Expect(deploy.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "the Service selects the manager's pods")
		}
		Expect(svc.Spec.Ports).To(HaveLen(1))
		Expect(svc.Spec.Ports[0].Port).To(Equal(int32(8443)))

		ctr := deploy.Spec.Template.Spec.Containers[0]
		Expect(ctr.Args).To(ContainElement("--metrics-bind-address=:8443"))
		containerPorts := make([]string, 0, 2*len(ctr.Ports))
		for _, p := range ctr.Ports {
			containerPorts = append(containerPorts, fmt.Sprint(p.ContainerPort), p.Name)
		}
		Expect(containerPorts).To(ContainElement(svc.Spec.Ports[0].TargetPort.String()), "the Service's targetPort is a port of the manager")
	})

	It("passes the manager only flags its binary defines", func() {
		bin := filepath.Join(GinkgoT().TempDir(), "manager")
		build := exec.Command("go", "build", "-o", bin, "./cmd")
		build.Dir = root
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		help, _ := exec.Command(bin, "--help").CombinedOutput()
		for _, arg := range deploy.Spec.Template.Spec.Containers[0].Args {
			name := strings.SplitN(strings.TrimLeft(arg, "-"), "=", 2)[0]
			Expect(string(help)).To(MatchRegexp(`(?m)^\s+-`+regexp.QuoteMeta(name)+`\b`), "flag of %q", arg)
		}
		// The image's entrypoint starts the manager, wherever the image
		// puts it (/manager in the Dockerfile's, /ko-app/cmd in ko's).
		Expect(deploy.Spec.Template.Spec.Containers[0].Command).To(BeEmpty())
	})
})

func mustAtoi(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return n
}
