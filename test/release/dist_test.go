package release

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var _ = Describe("dist/install.yaml", func() {
	var dist []*unstructured.Unstructured

	BeforeEach(func() {
		dist = readObjects("dist/install.yaml")
	})

	It("is config/default as the pinned kubectl renders it (make verify keeps it current)", func() {
		kust := kustomize("config/default")
		Expect(dist).To(HaveLen(len(kust)))
		for i := range kust {
			Expect(dist[i].Object).To(Equal(kust[i].Object), "%s %s", kust[i].GetKind(), kust[i].GetName())
		}
	})

	It("labels every object but the CRDs app.kubernetes.io/name=rewards-operator, which the documented uninstall (docs/upgrade.md) deletes by", func() {
		for _, o := range dist {
			if o.GetKind() == "CustomResourceDefinition" {
				Expect(o.GetLabels()).NotTo(HaveKey("app.kubernetes.io/name"), o.GetName())
			} else {
				Expect(o.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/name", "rewards-operator"), "%s %s", o.GetKind(), o.GetName())
			}
		}
	})

	It("ships the CRDs apart in dist/crds.yaml, which no GitOps tool prunes", func() {
		crds := readObjects("dist/crds.yaml")
		kust := kustomize("config/crd")
		Expect(crds).To(HaveLen(len(kust)))
		for i := range kust {
			Expect(crds[i].Object).To(Equal(kust[i].Object), kust[i].GetName())
		}
		Expect(crds).To(HaveLen(len(ofKind(dist, "CustomResourceDefinition"))))
		for _, crd := range crds {
			Expect(crd.GetKind()).To(Equal("CustomResourceDefinition"))
			Expect(mustFind(dist, "CustomResourceDefinition", crd.GetName()).Object).To(Equal(crd.Object), "install.yaml holds the same CRD")
			Expect(crd.GetAnnotations()).To(HaveKeyWithValue("kustomize.toolkit.fluxcd.io/prune", "disabled"), crd.GetName())
			Expect(crd.GetAnnotations()).To(HaveKeyWithValue("argocd.argoproj.io/sync-options", "Delete=false,Prune=false"), crd.GetName())
		}
	})

	It("deletes the CRDs only when asked to in so many words (make delete-crds)", func() {
		out, err := exec.Command("make", "-C", root, "--no-print-directory", "delete-crds").CombinedOutput()
		Expect(err).To(HaveOccurred())
		Expect(string(out)).To(ContainSubstring("make delete-crds CONFIRM=delete-every-record"))
		Expect(string(out)).NotTo(ContainSubstring("delete --ignore-not-found"), "nothing was deleted")
	})

	It("pins the image to the Makefile's version, and nothing runs :latest", func() {
		deploy := typed[appsv1.Deployment](mustFind(dist, "Deployment", "rewards-operator-controller-manager"))
		Expect(deploy.Spec.Template.Spec.Containers[0].Image).To(Equal(image))
		Expect(image).To(MatchRegexp(`:v\d+\.\d+\.\d+$`))
	})

	It("holds every CRD of config/crd/bases", func() {
		bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ofKind(dist, "CustomResourceDefinition")).To(HaveLen(len(bases)))
		for _, path := range bases {
			rel, _ := filepath.Rel(root, path)
			want := readObjects(rel)[0]
			got := mustFind(dist, "CustomResourceDefinition", want.GetName())
			Expect(got.Object["spec"]).To(Equal(want.Object["spec"]), want.GetName())
		}
	})

	It("passes kube-score's checks but the documented exceptions, as does the chart", func() {
		Expect(kubeScoreFindings(dist)).To(BeEmpty())
		Expect(kubeScoreFindings(helmTemplate())).To(BeEmpty())
		Expect(kubeScoreFindings(helmTemplate("--values", everyOption))).To(BeEmpty())
	})

	Describe("applied with kubectl as docs/install.md says", Ordered, func() {
		var c *cluster

		BeforeAll(func() {
			By("starting an empty API server: no CRDs, no namespace")
			c = newCluster()
		})

		It("installs in one kubectl apply --server-side, then the default program", func() {
			out := c.mustKubectl("apply", "--server-side", "-f", filepath.Join(root, "dist", "install.yaml"))
			Expect(strings.Split(strings.TrimSpace(out), "\n")).To(HaveLen(len(dist)), "one line per object")
			for _, o := range dist {
				Expect(out).To(ContainSubstring("/" + o.GetName() + " serverside-applied"))
			}
			c.mustKubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
			c.mustKubectl("apply", "--server-side", "-f", filepath.Join(root, "config", "programs", "default.yaml"))
			Expect(c.mustKubectl("get", "rewardsprogram", "default", "-o", "jsonpath={.spec.currency}")).To(Equal("USD"))
			Expect(c.mustKubectl("-n", operatorNS, "get", "deployment", "rewards-operator-controller-manager",
				"-o", "jsonpath={.spec.template.spec.containers[0].image}")).To(Equal(image))
			Expect(c.mustKubectl("get", "namespace", operatorNS,
				"-o", `jsonpath={.metadata.labels.pod-security\.kubernetes\.io/enforce}`)).To(Equal("restricted"))
		})

		It("applies again without a change (what Flux and Argo CD do at every sync)", func() {
			out := c.mustKubectl("apply", "--server-side", "-f", filepath.Join(root, "dist", "install.yaml"))
			Expect(out).NotTo(ContainSubstring("conflict"))
			diff, _, err := c.kubectl("", "diff", "--server-side", "-f", filepath.Join(root, "dist", "install.yaml"))
			Expect(err).NotTo(HaveOccurred(), "kubectl diff exits 1 when there is a difference:\n%s", diff)
			Expect(diff).To(BeEmpty())
		})

		It("uninstalls with kubectl delete -l as docs/upgrade.md says, keeping the CRDs and every rewards object", func() {
			c.mustKubectl("create", "namespace", "partner")
			c.mustKubectl("apply", "--server-side", "-n", "partner", "-f", filepath.Join(root, "config", "samples", "rewards_v1alpha1_publisher.yaml"))
			out := c.mustKubectl("delete", "-f", filepath.Join(root, "dist", "install.yaml"), "-l", "app.kubernetes.io/name=rewards-operator", "--wait=false")
			Expect(out).To(ContainSubstring(`deployment.apps "rewards-operator-controller-manager" deleted`))
			Expect(out).To(ContainSubstring(`clusterrole.rbac.authorization.k8s.io "rewards-operator-manager-role" deleted`))
			Expect(out).NotTo(ContainSubstring("customresourcedefinition"))
			Expect(c.mustKubectl("get", "clusterroles", "-l", "app.kubernetes.io/name=rewards-operator", "-o", "name")).To(BeEmpty())
			Expect(strings.Fields(c.mustKubectl("get", "crd", "-o", "name"))).To(HaveLen(len(ofKind(dist, "CustomResourceDefinition"))))
			Expect(c.mustKubectl("get", "rewardsprogram", "default", "-o", "name")).To(Equal("rewardsprogram.rewards.marketplace.io/default\n"))
			Expect(c.mustKubectl("-n", "partner", "get", "publishers", "-o", "name")).To(ContainSubstring("publisher.rewards.marketplace.io/contoso"))
		})
	})
})

// kubeScoreFindings checks objects the way kube-score's default checks do
// (kube-score itself is not installable here): every container with CPU,
// memory and ephemeral-storage requests and limits, a pinned image and an
// explicit pull policy, a read-only root filesystem, no privilege
// escalation, a user and group above 10000; liveness and readiness probes
// that differ; every pod selected by a NetworkPolicy for ingress; every
// Service targeting a port of the pods it selects; only stable API
// versions. The documented exceptions (README, "kube-score"): a single
// replica (no PodDisruptionBudget, no anti-affinity) and unrestricted
// egress, as the API server's address differs between clusters.
func kubeScoreFindings(objs []*unstructured.Unstructured) []string {
	var findings scoreFindings
	nps := ofKind(objs, "NetworkPolicy")
	policies := make([]*networkingv1.NetworkPolicy, 0, len(nps))
	for _, o := range nps {
		policies = append(policies, typed[networkingv1.NetworkPolicy](o))
	}
	var deployments []*appsv1.Deployment
	for _, o := range objs {
		if strings.Contains(o.GetAPIVersion(), "alpha") || strings.Contains(o.GetAPIVersion(), "beta") {
			if o.GetKind() != "RewardsProgram" { // the operator's own API, v1alpha1
				findings.add(o, "apiVersion %s is not stable", o.GetAPIVersion())
			}
		}
		if o.GetKind() != "Deployment" {
			continue
		}
		d := typed[appsv1.Deployment](o)
		deployments = append(deployments, d)
		findings.checkDeployment(o, d, policies)
	}
	for _, o := range ofKind(objs, "Service") {
		svc := typed[corev1.Service](o)
		for _, port := range svc.Spec.Ports {
			if !targetsAContainerPort(svc, port.TargetPort, deployments) {
				findings.add(o, "port %s targets no container port of the pods it selects", port.Name)
			}
		}
	}
	return findings
}

// scoreFindings collects kubeScoreFindings' findings. The checks follow the
// levels of a Deployment (the deployment, each of its containers, each
// container's security context), one method a level, each adding what it
// finds to the same list.
type scoreFindings []string

// add records a finding about o, prefixed with o's kind and name.
func (f *scoreFindings) add(o *unstructured.Unstructured, format string, args ...any) {
	*f = append(*f, fmt.Sprintf("%s %s: ", o.GetKind(), o.GetName())+fmt.Sprintf(format, args...))
}

// checkDeployment checks deployment d (the object o) and its containers,
// and that one of policies selects its pods for ingress.
func (f *scoreFindings) checkDeployment(o *unstructured.Unstructured, d *appsv1.Deployment, policies []*networkingv1.NetworkPolicy) {
	pod := d.Spec.Template.Spec
	podSC := pod.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	for _, ctr := range pod.Containers {
		f.checkContainer(o, ctr, podSC)
	}
	if seccomp := podSC.SeccompProfile; seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		f.add(o, "pod has no RuntimeDefault seccomp profile")
	}
	selected := false
	for _, np := range policies {
		s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err == nil && np.Namespace == d.Namespace && s.Matches(labels.Set(d.Spec.Template.Labels)) {
			for _, t := range np.Spec.PolicyTypes {
				selected = selected || t == networkingv1.PolicyTypeIngress
			}
		}
	}
	if !selected {
		f.add(o, "no NetworkPolicy selects its pods for ingress")
	}
}

// checkContainer checks a container of the deployment o: resources, image,
// pull policy, security context (podSC is the pod's), probes. A container
// without a security context is reported once, its probes left unchecked.
func (f *scoreFindings) checkContainer(o *unstructured.Unstructured, ctr corev1.Container, podSC *corev1.PodSecurityContext) {
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		if _, ok := ctr.Resources.Requests[r]; !ok {
			f.add(o, "container %s has no %s request", ctr.Name, r)
		}
		if _, ok := ctr.Resources.Limits[r]; !ok {
			f.add(o, "container %s has no %s limit", ctr.Name, r)
		}
	}
	if !strings.Contains(ctr.Image, "@sha256:") && (!strings.Contains(ctr.Image[strings.LastIndex(ctr.Image, "/")+1:], ":") || strings.HasSuffix(ctr.Image, ":latest")) {
		f.add(o, "container %s image %s has no pinned tag", ctr.Name, ctr.Image)
	}
	if ctr.ImagePullPolicy == "" {
		f.add(o, "container %s has no imagePullPolicy", ctr.Name)
	}
	if ctr.SecurityContext == nil {
		f.add(o, "container %s has no securityContext", ctr.Name)
		return
	}
	f.checkSecurityContext(o, ctr.Name, ctr.SecurityContext, podSC)
	if ctr.LivenessProbe == nil || ctr.ReadinessProbe == nil {
		f.add(o, "container %s lacks a liveness or readiness probe", ctr.Name)
	} else if equalProbes(ctr.LivenessProbe, ctr.ReadinessProbe) {
		f.add(o, "container %s has identical liveness and readiness probes", ctr.Name)
	}
}

// checkSecurityContext checks the security context sc of container name of
// the deployment o: read-only root filesystem, no privilege escalation, not
// privileged, user and group (its own, else the pod's podSC) above 10000.
func (f *scoreFindings) checkSecurityContext(o *unstructured.Unstructured, name string, sc *corev1.SecurityContext, podSC *corev1.PodSecurityContext) {
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		f.add(o, "container %s root filesystem is writable", name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		f.add(o, "container %s may escalate privileges", name)
	}
	if sc.Privileged != nil && *sc.Privileged {
		f.add(o, "container %s is privileged", name)
	}
	user, group := sc.RunAsUser, sc.RunAsGroup
	if user == nil {
		user = podSC.RunAsUser
	}
	if group == nil {
		group = podSC.RunAsGroup
	}
	if user == nil || *user <= 10000 {
		f.add(o, "container %s runs as no user above 10000", name)
	}
	if group == nil || *group <= 10000 {
		f.add(o, "container %s runs as no group above 10000", name)
	}
}

func equalProbes(a, b *corev1.Probe) bool {
	return a.HTTPGet != nil && b.HTTPGet != nil && a.HTTPGet.Path == b.HTTPGet.Path && a.HTTPGet.Port == b.HTTPGet.Port
}

func targetsAContainerPort(svc *corev1.Service, target intstr.IntOrString, deployments []*appsv1.Deployment) bool {
	for _, d := range deployments {
		if d.Namespace != svc.Namespace || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		for _, ctr := range d.Spec.Template.Spec.Containers {
			for _, p := range ctr.Ports {
				if (target.Type == intstr.Int && p.ContainerPort == target.IntVal) || (target.Type == intstr.String && p.Name == target.StrVal) {
					return true
				}
			}
		}
	}
	return false
}
