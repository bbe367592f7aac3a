package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// everyOption is a values file that turns on or changes every option of
// the chart.
const everyOption = "test/release/testdata/every-option.yaml"

var _ = Describe("The Helm chart", func() {
	It("passes helm lint --strict, with the default values and with every option set", func() {
		mustRun(helmBin, "lint", "--strict", chartDir)
		mustRun(helmBin, "lint", "--strict", chartDir, "--values", everyOption)
	})

	DescribeTable("refuses values a person got wrong, saying which",
		func(message string, args ...string) {
			_, errOut, err := command("", helmBin, append([]string{"template", releaseName, chartDir}, args...)...)
			Expect(err).To(HaveOccurred(), "helm template %v", args)
			Expect(errOut).To(ContainSubstring(message))
		},
		Entry("a misspelt key (values.schema.json)", "'resourcess'", "--set", "resourcess.limits.cpu=1"),
		Entry("a misspelt nested key", "'minAvaliable'", "--set", "podDisruptionBudget.minAvaliable=1"),
		Entry("a word for a number", "/replicaCount", "--set-string", "replicaCount=two"),
		Entry("a word for a boolean", "/crds/keep", "--set-string", "crds.keep=yes"),
		Entry("a resource quantity that is not one", "/resources/limits/memory", "--set", "resources.limits.memory=lots"),
		Entry("an extra argument that is not a flag", "/extraArgs/0", "--set", "extraArgs[0]=resync-period=1m"),
		Entry("an environment variable without a name", "/extraEnv/0", "--set", "extraEnv[0].value=400MiB"),
		Entry("more than one replica without leader election", "replicaCount above 1 needs leaderElection.enabled",
			"--set", "replicaCount=2", "--set", "leaderElection.enabled=false"),
		Entry("a PodDisruptionBudget that no eviction satisfies", "would block every node drain",
			"--set", "podDisruptionBudget.enabled=true"),
		Entry("minAvailable and maxUnavailable both", "give minAvailable or maxUnavailable, not both",
			"--set", "podDisruptionBudget.enabled=true", "--set", "replicaCount=3",
			"--set", "podDisruptionBudget.minAvailable=1", "--set", "podDisruptionBudget.maxUnavailable=1"),
		Entry("no ServiceAccount to run as", "set serviceAccount.name", "--set", "serviceAccount.create=false"),
		Entry("a cert-manager certificate without its Secret", "needs metrics.tls.secretName",
			"--set", "metrics.tls.certManager.enabled=true", "--set", "metrics.tls.certManager.issuerRef.name=ca"),
		Entry("a Kubernetes version older than the oldest tested", "incompatible with Kubernetes v1.32.0",
			"--kube-version", "1.32.0"),
	)

	It("states the oldest Kubernetes minor make test-k8s-matrix tests as its kubeVersion", func() {
		makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
		Expect(err).NotTo(HaveOccurred())
		m := regexp.MustCompile(`(?m)^K8S_MATRIX \?= (.+)$`).FindSubmatch(makefile)
		Expect(m).NotTo(BeNil(), "the Makefile sets K8S_MATRIX")
		oldest := ""
		for _, v := range strings.Fields(string(m[1])) {
			minor := regexp.MustCompile(`^v(1\.\d+)\.\d+$`).FindStringSubmatch(v)
			Expect(minor).NotTo(BeNil(), v)
			if oldest == "" || minorLess(minor[1], oldest) {
				oldest = minor[1]
			}
		}
		chart := map[string]any{}
		Expect(readYAML(filepath.Join(chartDir, "Chart.yaml"), &chart)).To(Succeed())
		Expect(chart).To(HaveKeyWithValue("kubeVersion", ">="+oldest+".0-0"))
		readme, err := os.ReadFile(filepath.Join(root, "README.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(readme)).To(MatchRegexp(`\| `+regexp.QuoteMeta(oldest)+` \(\d+\.\d+\.\d+\) \| [^|]+ \| yes \|`), "the README's table of supported versions")
		mustRun(helmBin, "template", releaseName, chartDir, "--kube-version", oldest+".0")
	})

	It("renders a PodDisruptionBudget of minAvailable 1 by default once there are standbys", func() {
		pdb := typed[policyv1.PodDisruptionBudget](mustFind(helmTemplate("--set", "podDisruptionBudget.enabled=true", "--set", "replicaCount=2"),
			"PodDisruptionBudget", "rewards-operator-controller-manager"))
		Expect(pdb.Spec.MinAvailable.IntValue()).To(Equal(1))
		Expect(pdb.Spec.MaxUnavailable).To(BeNil())
	})

	It("is versioned like the release: chart version and image tag from the Makefile's VERSION", func() {
		chart := map[string]any{}
		Expect(readYAML(filepath.Join(chartDir, "Chart.yaml"), &chart)).To(Succeed())
		Expect(chart).To(HaveKeyWithValue("version", version))
		Expect(chart).To(HaveKeyWithValue("appVersion", "v"+version))
		deploy := typed[appsv1.Deployment](mustFind(helmTemplate(), "Deployment", "rewards-operator-controller-manager"))
		Expect(deploy.Spec.Template.Spec.Containers[0].Image).To(Equal(image))
	})

	Describe("kept in step with config/default", Ordered, func() {
		var chart, kust []*unstructured.Unstructured

		BeforeAll(func() {
			chart = helmTemplate("--include-crds")
			kust = kustomize("config/default")
		})

		It("renders every object config/default renders, under the same kind and name", func() {
			for _, k := range kust {
				if k.GetKind() == "Namespace" {
					continue // helm install --create-namespace, or yours
				}
				c := find(chart, k.GetKind(), k.GetName())
				Expect(c).NotTo(BeNil(), "the chart renders no %s %q", k.GetKind(), k.GetName())
				Expect(c.GetNamespace()).To(Equal(k.GetNamespace()), "%s %s", k.GetKind(), k.GetName())
			}
		})

		It("grants exactly the rules of config/rbac, with the same aggregation labels and bindings", func() {
			roles := append(ofKind(kust, "ClusterRole"), ofKind(kust, "Role")...)
			Expect(len(roles)).To(BeNumerically(">=", 6))
			for _, k := range roles {
				c := mustFind(chart, k.GetKind(), k.GetName())
				Expect(typed[rbacv1.ClusterRole](c).Rules).To(Equal(typed[rbacv1.ClusterRole](k).Rules), "%s %s", k.GetKind(), k.GetName())
				Expect(aggregationLabels(c)).To(Equal(aggregationLabels(k)), "%s %s", k.GetKind(), k.GetName())
			}
			bindings := append(ofKind(kust, "ClusterRoleBinding"), ofKind(kust, "RoleBinding")...)
			Expect(len(bindings)).To(BeNumerically(">=", 3))
			for _, k := range bindings {
				c := typed[rbacv1.RoleBinding](mustFind(chart, k.GetKind(), k.GetName()))
				want := typed[rbacv1.RoleBinding](k)
				Expect(c.RoleRef).To(Equal(want.RoleRef), "%s %s", k.GetKind(), k.GetName())
				Expect(c.Subjects).To(Equal(want.Subjects), "%s %s", k.GetKind(), k.GetName())
			}
		})

		It("renders every CRD of config/crd/bases as generated, as templates that helm upgrade upgrades, kept on uninstall", func() {
			bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
			Expect(err).NotTo(HaveOccurred())
			Expect(bases).NotTo(BeEmpty())
			Expect(filepath.Join(root, chartDir, "crds")).NotTo(BeADirectory(), "a crds/ directory is never upgraded by helm")
			chartCRDs, err := filepath.Glob(filepath.Join(root, chartDir, "files", "crds", "*.yaml"))
			Expect(err).NotTo(HaveOccurred())
			Expect(chartCRDs).To(HaveLen(len(bases)))
			for _, base := range bases {
				want, err := os.ReadFile(base)
				Expect(err).NotTo(HaveOccurred())
				got, err := os.ReadFile(filepath.Join(root, chartDir, "files", "crds", filepath.Base(base)))
				Expect(err).NotTo(HaveOccurred(), "the chart lacks %s: run make manifests", filepath.Base(base))
				Expect(string(got)).To(Equal(string(want)), "%s: run make manifests", filepath.Base(base))

				crd := readObjects(strings.TrimPrefix(base, root+"/"))[0]
				rendered := mustFind(chart, "CustomResourceDefinition", crd.GetName())
				Expect(rendered.Object["spec"]).To(Equal(crd.Object["spec"]), crd.GetName())
				Expect(rendered.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"), crd.GetName())
				Expect(rendered.GetAnnotations()).To(HaveKeyWithValue("argocd.argoproj.io/sync-options", "Delete=false,Prune=false"), crd.GetName())
			}
			Expect(ofKind(chart, "CustomResourceDefinition")).To(HaveLen(len(bases)))
			Expect(ofKind(kust, "CustomResourceDefinition")).To(HaveLen(len(bases)), "config/crd/kustomization.yaml lists every base")

			By("crds.enabled=false leaving them out, crds.keep=false letting helm delete them")
			Expect(ofKind(helmTemplate("--set", "crds.enabled=false"), "CustomResourceDefinition")).To(BeEmpty())
			for _, crd := range ofKind(helmTemplate("--set", "crds.keep=false"), "CustomResourceDefinition") {
				Expect(crd.GetAnnotations()).NotTo(HaveKey("helm.sh/resource-policy"))
			}
		})

		It("runs the manager with the same image, security contexts, resources, probes and flags", func() {
			c := typed[appsv1.Deployment](mustFind(chart, "Deployment", "rewards-operator-controller-manager"))
			k := typed[appsv1.Deployment](mustFind(kust, "Deployment", "rewards-operator-controller-manager"))
			Expect(c.Spec.Replicas).To(Equal(k.Spec.Replicas))
			cp, kp := c.Spec.Template.Spec, k.Spec.Template.Spec
			Expect(cp.SecurityContext).To(Equal(kp.SecurityContext))
			Expect(cp.ServiceAccountName).To(Equal(kp.ServiceAccountName))
			Expect(cp.TerminationGracePeriodSeconds).To(Equal(kp.TerminationGracePeriodSeconds))
			Expect(cp.Containers).To(HaveLen(1))
			Expect(kp.Containers).To(HaveLen(1))
			cc, kc := cp.Containers[0], kp.Containers[0]
			Expect(cc.Name).To(Equal(kc.Name))
			Expect(cc.Image).To(Equal(kc.Image))
			Expect(cc.Image).To(Equal(image))
			Expect(cc.ImagePullPolicy).To(Equal(kc.ImagePullPolicy))
			Expect(cc.Command).To(Equal(kc.Command), "none: the image's entrypoint")
			Expect(cc.SecurityContext).To(Equal(kc.SecurityContext))
			Expect(cc.Resources).To(Equal(kc.Resources))
			Expect(cc.Ports).To(Equal(kc.Ports))
			Expect(cc.LivenessProbe).To(Equal(kc.LivenessProbe))
			Expect(cc.ReadinessProbe).To(Equal(kc.ReadinessProbe))
			// Every flag config/default passes, with the same value; the
			// chart passes the rest of its values as flags at the binary's
			// defaults.
			chartFlags := flags(cc.Args)
			for name, value := range flags(kc.Args) {
				Expect(chartFlags).To(HaveKeyWithValue(name, value))
			}
			Expect(chartFlags).To(Equal(map[string]string{
				"leader-elect": "true", "health-probe-bind-address": ":8081", "metrics-bind-address": ":8443",
				"max-concurrent-reconciles": "4", "kube-api-qps": "-1", "kube-api-burst": "30", "zap-log-level": "info",
			}))
		})

		It("exposes the metrics port and admits traffic to it the same way", func() {
			cd := typed[appsv1.Deployment](mustFind(chart, "Deployment", "rewards-operator-controller-manager"))
			cs := typed[corev1.Service](mustFind(chart, "Service", "rewards-operator-controller-manager-metrics-service"))
			ks := typed[corev1.Service](mustFind(kust, "Service", "rewards-operator-controller-manager-metrics-service"))
			Expect(cs.Spec.Ports).To(Equal(ks.Spec.Ports))
			Expect(labels.SelectorFromSet(cs.Spec.Selector).Matches(labels.Set(cd.Spec.Template.Labels))).To(BeTrue())

			cn := typed[networkingv1.NetworkPolicy](mustFind(chart, "NetworkPolicy", "rewards-operator-allow-metrics-traffic"))
			kn := typed[networkingv1.NetworkPolicy](mustFind(kust, "NetworkPolicy", "rewards-operator-allow-metrics-traffic"))
			Expect(cn.Spec.PolicyTypes).To(Equal(kn.Spec.PolicyTypes))
			Expect(cn.Spec.Ingress).To(Equal(kn.Spec.Ingress))
			selector, err := metav1.LabelSelectorAsSelector(&cn.Spec.PodSelector)
			Expect(err).NotTo(HaveOccurred())
			Expect(selector.Matches(labels.Set(cd.Spec.Template.Labels))).To(BeTrue())
		})

		It("ships the ServiceMonitor, alerts and dashboard of config/prometheus", func() {
			withMonitoring := helmTemplate("--set", "metrics.serviceMonitor.enabled=true",
				"--set", "prometheusRule.enabled=true", "--set", "grafanaDashboard.enabled=true")
			prom := kustomize("config/prometheus")
			Expect(prom).To(HaveLen(6))

			By("authenticating with the token of a ServiceAccount that may only read the metrics, from a Secret")
			Expect(mustFind(withMonitoring, "ServiceAccount", "rewards-operator-metrics-scraper").GetNamespace()).To(
				Equal(mustFind(prom, "ServiceAccount", "rewards-operator-metrics-scraper").GetNamespace()))
			token := mustFind(withMonitoring, "Secret", "rewards-operator-metrics-scraper-token")
			wantToken := mustFind(prom, "Secret", "rewards-operator-metrics-scraper-token")
			Expect(token.GetNamespace()).To(Equal(wantToken.GetNamespace()))
			Expect(token.Object["type"]).To(Equal("kubernetes.io/service-account-token"))
			Expect(wantToken.Object["type"]).To(Equal(token.Object["type"]))
			Expect(token.GetAnnotations()).To(HaveKeyWithValue("kubernetes.io/service-account.name", "rewards-operator-metrics-scraper"))
			Expect(wantToken.GetAnnotations()).To(Equal(token.GetAnnotations()))
			cb := typed[rbacv1.ClusterRoleBinding](mustFind(withMonitoring, "ClusterRoleBinding", "rewards-operator-metrics-scraper"))
			kb := typed[rbacv1.ClusterRoleBinding](mustFind(prom, "ClusterRoleBinding", "rewards-operator-metrics-scraper"))
			Expect(cb.RoleRef).To(Equal(kb.RoleRef))
			Expect(cb.Subjects).To(Equal(kb.Subjects))
			Expect(kb.RoleRef.Name).To(Equal("rewards-operator-metrics-reader"))
			Expect(find(kust, "ClusterRole", kb.RoleRef.Name)).NotTo(BeNil(), "config/default's metrics-reader")

			sm := mustFind(withMonitoring, "ServiceMonitor", "rewards-operator-controller-manager-metrics-monitor")
			want := mustFind(prom, "ServiceMonitor", "rewards-operator-controller-manager-metrics-monitor")
			Expect(sm.GetNamespace()).To(Equal(want.GetNamespace()))
			Expect(sm.Object["spec"].(map[string]any)["endpoints"]).To(Equal(want.Object["spec"].(map[string]any)["endpoints"]))
			endpoint := typed[serviceMonitorEndpoint](&unstructured.Unstructured{Object: sm.Object["spec"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)})
			Expect(endpoint.BearerTokenFile).To(BeEmpty(), "deprecated by prometheus-operator")
			Expect(endpoint.Authorization.Type).To(Equal("Bearer"))
			Expect(endpoint.Authorization.Credentials).To(Equal(corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "rewards-operator-metrics-scraper-token"}, Key: "token"}))
			svc := mustFind(withMonitoring, "Service", "rewards-operator-controller-manager-metrics-service")
			for _, selector := range []map[string]any{
				sm.Object["spec"].(map[string]any)["selector"].(map[string]any),
				want.Object["spec"].(map[string]any)["selector"].(map[string]any),
			} {
				s, err := metav1.LabelSelectorAsSelector(typedSelector(selector))
				Expect(err).NotTo(HaveOccurred())
				Expect(s.Matches(labels.Set(svc.GetLabels()))).To(BeTrue(), "the ServiceMonitor selects the metrics Service")
			}

			rule := mustFind(withMonitoring, "PrometheusRule", "rewards-operator-alerts")
			Expect(rule.Object["spec"]).To(Equal(mustFind(prom, "PrometheusRule", "rewards-operator-alerts").Object["spec"]))

			dashboard := mustFind(withMonitoring, "ConfigMap", "rewards-operator-grafana-dashboard")
			Expect(dashboard.Object["data"]).To(Equal(mustFind(prom, "ConfigMap", "rewards-operator-grafana-dashboard").Object["data"]))
			Expect(dashboard.GetLabels()).To(HaveKeyWithValue("grafana_dashboard", "1"))
		})

		It("creates the default program of config/programs once the API server serves its kind, and keeps it", func() {
			Expect(find(chart, "RewardsProgram", "default")).To(BeNil(), "no RewardsProgram API yet: the release creates its CRD")
			program := mustFind(helmTemplate("--api-versions", "rewards.marketplace.io/v1alpha1/RewardsProgram"), "RewardsProgram", "default")
			Expect(program.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))
			Expect(program.Object["spec"]).To(Equal(mustFind(readObjects("config/programs/default.yaml"), "RewardsProgram", "default").Object["spec"]))
		})
	})

	It("sets every option as the values file asks, with flags the manager defines", func() {
		objs := helmTemplate("--values", everyOption)
		deploy := typed[appsv1.Deployment](mustFind(objs, "Deployment", "rewards-operator-controller-manager"))
		Expect(deploy.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
		pod := deploy.Spec.Template.Spec
		ctr := pod.Containers[0]
		Expect(ctr.Image).To(Equal("registry.example.com/rewards-operator@sha256:" + strings.Repeat("ab", 32)))
		Expect(flags(ctr.Args)).To(Equal(map[string]string{
			"leader-elect": "true", "leader-election-namespace": "rewards-leases",
			"health-probe-bind-address": ":8081", "metrics-bind-address": ":8443",
			"max-concurrent-reconciles": "8", "resync-period": "30m", "kube-api-qps": "50", "kube-api-burst": "100",
			"zap-log-level": "4", "pprof-bind-address": "127.0.0.1:6060",
		}))
		Expect(ctr.Args[len(ctr.Args)-1]).To(Equal("--pprof-bind-address=127.0.0.1:6060"), "extraArgs come last, and so win")
		Expect(ctr.Env).To(ContainElements(
			corev1.EnvVar{Name: "GOMEMLIMIT", Value: "400MiB"},
			corev1.EnvVar{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		))
		Expect(pod.ImagePullSecrets).To(Equal([]corev1.LocalObjectReference{{Name: "registry"}}))
		Expect(pod.PriorityClassName).To(Equal("system-cluster-critical"))
		Expect(pod.NodeSelector).To(HaveKeyWithValue("kubernetes.io/os", "linux"))
		Expect(pod.Tolerations).To(HaveLen(1))
		Expect(pod.Affinity).NotTo(BeNil())
		Expect(deploy.Spec.Template.Annotations).To(HaveKeyWithValue("example.com/scrape-team", "rewards"))
		Expect(deploy.Spec.Template.Labels).To(HaveKeyWithValue("example.com/team", "rewards"))
		Expect(ctr.Resources.Limits.Memory().String()).To(Equal("512Mi"))

		By("running as the existing ServiceAccount named, bound to the operator's roles")
		Expect(ofKind(objs, "ServiceAccount")).To(BeEmpty(), "serviceAccount.create: false")
		Expect(pod.ServiceAccountName).To(Equal("rewards-operator-existing"))
		for _, b := range append(ofKind(objs, "ClusterRoleBinding"), ofKind(objs, "RoleBinding")...) {
			Expect(typed[rbacv1.RoleBinding](b).Subjects).To(ConsistOf(rbacv1.Subject{
				Kind: "ServiceAccount", Name: "rewards-operator-existing", Namespace: operatorNS}), b.GetName())
		}

		By("spreading the pods, a constraint without a selector selecting the operator's pods")
		Expect(pod.TopologySpreadConstraints).To(HaveLen(2))
		Expect(pod.TopologySpreadConstraints[0].LabelSelector.MatchLabels).To(Equal(deploy.Spec.Selector.MatchLabels))
		Expect(pod.TopologySpreadConstraints[1].LabelSelector.MatchLabels).To(Equal(map[string]string{"example.com/team": "rewards"}))
		pdb := typed[policyv1.PodDisruptionBudget](mustFind(objs, "PodDisruptionBudget", "rewards-operator-controller-manager"))
		Expect(pdb.Spec.MaxUnavailable.IntValue()).To(Equal(1))
		Expect(pdb.Spec.MinAvailable).To(BeNil())
		Expect(pdb.Spec.Selector.MatchLabels).To(Equal(deploy.Spec.Selector.MatchLabels))

		By("serving the metrics with cert-manager's certificate, which the ServiceMonitor verifies, and presenting the named token")
		cert := mustFind(objs, "Certificate", "rewards-operator-metrics-cert")
		Expect(cert.Object["spec"]).To(HaveKeyWithValue("secretName", "rewards-operator-metrics-cert"))
		Expect(cert.Object["spec"]).To(HaveKeyWithValue("dnsNames", ContainElement("rewards-operator-controller-manager-metrics-service."+operatorNS+".svc")))
		Expect(cert.Object["spec"]).To(HaveKeyWithValue("issuerRef", HaveKeyWithValue("kind", "ClusterIssuer")))
		Expect(ctr.VolumeMounts).To(ConsistOf(corev1.VolumeMount{Name: "metrics-certs", MountPath: "/tmp/k8s-metrics-server/serving-certs", ReadOnly: true}))
		Expect(pod.Volumes).To(HaveLen(1))
		Expect(pod.Volumes[0].Secret.SecretName).To(Equal("rewards-operator-metrics-cert"))
		sm := mustFind(objs, "ServiceMonitor", "rewards-operator-controller-manager-metrics-monitor")
		endpoint := typed[serviceMonitorEndpoint](&unstructured.Unstructured{Object: sm.Object["spec"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)})
		Expect(endpoint.TLSConfig.InsecureSkipVerify).To(BeFalse())
		Expect(endpoint.TLSConfig.CA.Secret).To(Equal(&corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "rewards-operator-metrics-cert"}, Key: "ca.crt"}))
		Expect(endpoint.TLSConfig.ServerName).To(Equal("rewards-operator-controller-manager-metrics-service." + operatorNS + ".svc"))
		Expect(endpoint.Authorization.Credentials).To(Equal(corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "prometheus-scrape-token"}, Key: "bearer"}))
		Expect(find(objs, "Secret", "rewards-operator-metrics-scraper-token")).To(BeNil(), "a Secret of one's own is named")

		By("rendering the CRDs without the keep policy (crds.keep: false)")
		Expect(ofKind(objs, "CustomResourceDefinition")).NotTo(BeEmpty())
		for _, crd := range ofKind(objs, "CustomResourceDefinition") {
			Expect(crd.GetAnnotations()).NotTo(HaveKey("helm.sh/resource-policy"))
		}
		lease := mustFind(objs, "Role", "rewards-operator-leader-election-role")
		Expect(lease.GetNamespace()).To(Equal("rewards-leases"))
		Expect(mustFind(objs, "RoleBinding", "rewards-operator-leader-election-rolebinding").GetNamespace()).To(Equal("rewards-leases"))
		Expect(find(objs, "ClusterRole", "rewards-operator-rewards-viewer")).To(BeNil(), "rbac.userRoles: false")
		Expect(find(objs, "RewardsProgram", "default")).To(BeNil(), "defaultProgram.enabled: false")
		np := typed[networkingv1.NetworkPolicy](mustFind(objs, "NetworkPolicy", "rewards-operator-allow-metrics-traffic"))
		Expect(np.Spec.Ingress[0].From).To(HaveLen(1))
		Expect(mustFind(objs, "ServiceMonitor", "rewards-operator-controller-manager-metrics-monitor").GetLabels()).To(HaveKeyWithValue("release", "prometheus"))
		Expect(mustFind(objs, "PrometheusRule", "rewards-operator-alerts").GetLabels()).To(HaveKeyWithValue("release", "prometheus"))
		Expect(find(objs, "ConfigMap", "rewards-operator-grafana-dashboard")).NotTo(BeNil())

		By("passing only flags the manager binary defines")
		bin := filepath.Join(GinkgoT().TempDir(), "manager")
		build := exec.Command("go", "build", "-o", bin, "./cmd")
		build.Dir = root
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		help, _ := exec.Command(bin, "--help").CombinedOutput()
		for name := range flags(ctr.Args) {
			Expect(string(help)).To(MatchRegexp(`(?m)^\s+-`+regexp.QuoteMeta(name)+`\b`), "flag --%s", name)
		}
	})

	Describe("on a cluster", Ordered, func() {
		var (
			c        *cluster
			chartTgz string
		)

		BeforeAll(func() {
			By("starting an empty API server: no CRDs, no namespace")
			c = newCluster()

			By("packaging the chart, as make release does")
			dir := GinkgoT().TempDir()
			mustRun(helmBin, "package", chartDir, "--destination", dir)
			chartTgz = filepath.Join(dir, "rewards-operator-"+version+".tgz")
			Expect(chartTgz).To(BeAnExistingFile())
		})

		It("dry-runs against the empty cluster: helm install --dry-run=server, and helm template | kubectl apply --dry-run=server", func() {
			c.mustKubectl("create", "namespace", operatorNS)
			c.mustKubectl("label", "namespace", operatorNS, "pod-security.kubernetes.io/enforce=restricted")
			out, errOut, err := c.helm("install", releaseName, chartTgz, "--namespace", operatorNS, "--dry-run=server")
			Expect(err).NotTo(HaveOccurred(), errOut)
			Expect(out).To(ContainSubstring("kind: CustomResourceDefinition"))
			Expect(out).NotTo(MatchRegexp(`(?m)^kind: RewardsProgram$`), "no object of a CRD the release creates")
			Expect(out).To(ContainSubstring(`The "default" RewardsProgram was not created`))

			rendered := mustRun(helmBin, "template", releaseName, chartTgz, "--namespace", operatorNS)
			_, errOut, err = c.kubectl(rendered, "apply", "--server-side", "--dry-run=server", "-f", "-")
			Expect(err).NotTo(HaveOccurred(), errOut)

			Expect(c.mustKubectl("get", "crd", "-o", "name")).To(BeEmpty(), "a dry run creates nothing")
			Expect(c.mustKubectl("-n", operatorNS, "get", "deployments", "-o", "name")).To(BeEmpty())
		})

		It("installs with helm install as docs/install.md says, then creates the default program with helm upgrade", func() {
			_, errOut, err := c.helm("install", releaseName, chartTgz, "--namespace", operatorNS)
			Expect(err).NotTo(HaveOccurred(), errOut)
			Expect(c.mustKubectl("get", "rewardsprograms", "-o", "name")).To(BeEmpty(), "the release created the CRD")
			_, errOut, err = c.helm("upgrade", releaseName, chartTgz, "--namespace", operatorNS, "--reuse-values")
			Expect(err).NotTo(HaveOccurred(), errOut)

			c.mustKubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
			crds := c.mustKubectl("get", "crd", "-o", "name")
			bases, _ := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
			Expect(strings.Fields(crds)).To(HaveLen(len(bases)))
			Expect(c.mustKubectl("-n", operatorNS, "get", "deployment", "rewards-operator-controller-manager",
				"-o", "jsonpath={.spec.template.spec.containers[0].image}")).To(Equal(image))
			Expect(c.mustKubectl("get", "rewardsprogram", "default", "-o", "jsonpath={.spec.currency}")).To(Equal("USD"))
			Expect(c.mustKubectl("-n", operatorNS, "get", "networkpolicy,service,serviceaccount,role,rolebinding", "-o", "name")).To(And(
				ContainSubstring("networkpolicy.networking.k8s.io/rewards-operator-allow-metrics-traffic"),
				ContainSubstring("service/rewards-operator-controller-manager-metrics-service"),
				ContainSubstring("serviceaccount/rewards-operator-controller-manager"),
				ContainSubstring("role.rbac.authorization.k8s.io/rewards-operator-leader-election-role"),
			))
		})

		It("upgrades with new values and leaves an edited default program alone", func() {
			c.mustKubectl("patch", "rewardsprogram", "default", "--type=merge", "-p", `{"spec":{"description":"edited by the platform team"}}`)
			_, errOut, err := c.helm("upgrade", releaseName, chartTgz, "--namespace", operatorNS, "--set", "logLevel=debug")
			Expect(err).NotTo(HaveOccurred(), errOut)
			Expect(c.mustKubectl("-n", operatorNS, "get", "deployment", "rewards-operator-controller-manager",
				"-o", "jsonpath={.spec.template.spec.containers[0].args}")).To(ContainSubstring("--zap-log-level=debug"))
			Expect(c.mustKubectl("get", "rewardsprogram", "default", "-o", "jsonpath={.spec.description}")).To(Equal("edited by the platform team"))
		})

		It("accepts a second release with every option set, in a server-side dry run", func() {
			const ns = "second"
			c.mustKubectl("create", "namespace", ns)
			c.mustKubectl("create", "namespace", "rewards-leases")
			// The first release owns the CRDs; the Prometheus Operator's and
			// cert-manager's are not installed.
			out := mustRun(helmBin, "template", "second", chartDir, "--namespace", ns, "--values", everyOption,
				"--set", "crds.enabled=false", "--set", "metrics.serviceMonitor.enabled=false",
				"--set", "prometheusRule.enabled=false", "--set", "metrics.tls.certManager.enabled=false")
			objs, err := testenv.DecodeObjects(out)
			Expect(err).NotTo(HaveOccurred())
			Expect(len(objs)).To(BeNumerically(">=", 12))
			applied, errOut, err := c.kubectl(toYAML(objs), "apply", "--server-side", "--dry-run=server", "-f", "-")
			Expect(err).NotTo(HaveOccurred(), errOut)
			Expect(errOut).To(BeEmpty(), "no warnings")
			lines := strings.Split(strings.TrimSpace(applied), "\n")
			Expect(lines).To(HaveLen(len(objs)), "one line per object")
			for _, l := range lines {
				Expect(l).To(HaveSuffix("serverside-applied (server dry run)"))
			}
			Expect(c.mustKubectl("-n", ns, "get", "deployments", "-o", "name")).To(BeEmpty(), "a dry run creates nothing")
		})

		It("upgrades its CRDs with helm upgrade, both ways", func() {
			crd := "benefitgrants.rewards.marketplace.io"
			description := "jsonpath={.spec.versions[0].schema.openAPIV3Schema.description}"
			want := c.mustKubectl("get", "crd", crd, "-o", description)
			Expect(want).NotTo(BeEmpty())

			By("upgrading to a chart whose CRD differs (another description)")
			other := filepath.Join(GinkgoT().TempDir(), "rewards-operator")
			Expect(os.CopyFS(other, os.DirFS(filepath.Join(root, chartDir)))).To(Succeed())
			file := filepath.Join(other, "files", "crds", "rewards.marketplace.io_benefitgrants.yaml")
			data, err := os.ReadFile(file)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(file, []byte(strings.Replace(string(data), "BenefitGrant is the operator's durable record",
				"BenefitGrant, as another version describes it, is the operator's durable record", 1)), 0o600)).To(Succeed())
			_, errOut, err := c.helm("upgrade", releaseName, other, "--namespace", operatorNS, "--reuse-values")
			Expect(err).NotTo(HaveOccurred(), errOut)
			Expect(c.mustKubectl("get", "crd", crd, "-o", description)).To(HavePrefix("BenefitGrant, as another version describes it"))

			By("upgrading back to the release's chart")
			_, errOut, err = c.helm("upgrade", releaseName, chartTgz, "--namespace", operatorNS, "--reuse-values")
			Expect(err).NotTo(HaveOccurred(), errOut)
			Expect(c.mustKubectl("get", "crd", crd, "-o", description)).To(Equal(want))
		})

		It("uninstalls, keeping the CRDs and the default program (and so every rewards object)", func() {
			_, errOut, err := c.helm("uninstall", releaseName, "--namespace", operatorNS)
			Expect(err).NotTo(HaveOccurred(), errOut)
			Expect(c.mustKubectl("-n", operatorNS, "get", "deployments", "-o", "name")).To(BeEmpty())
			bases, _ := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
			Expect(strings.Fields(c.mustKubectl("get", "crd", "-o", "name"))).To(HaveLen(len(bases)))
			Expect(c.mustKubectl("get", "rewardsprogram", "default", "-o", "jsonpath={.spec.description}")).To(Equal("edited by the platform team"))

			By("installing again next to the kept program, which stays as it is")
			_, errOut, err = c.helm("install", releaseName, chartTgz, "--namespace", operatorNS)
			Expect(err).NotTo(HaveOccurred(), errOut)
			Expect(c.mustKubectl("get", "rewardsprogram", "default", "-o", "jsonpath={.spec.description}")).To(Equal("edited by the platform team"))
		})
	})
})

// serviceMonitorEndpoint is the part of a prometheus-operator ServiceMonitor
// endpoint these tests read.
type serviceMonitorEndpoint struct {
	BearerTokenFile string `json:"bearerTokenFile,omitempty"`
	Authorization   struct {
		Type        string                   `json:"type"`
		Credentials corev1.SecretKeySelector `json:"credentials"`
	} `json:"authorization"`
	TLSConfig struct {
		InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
		ServerName         string `json:"serverName,omitempty"`
		CA                 struct {
			Secret *corev1.SecretKeySelector `json:"secret,omitempty"`
		} `json:"ca"`
	} `json:"tlsConfig"`
}

// flags turns manager arguments into flag names and values; a bare
// boolean flag (--leader-elect) reads "true".
func flags(args []string) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		name, value, found := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !found {
			value = "true"
		}
		out[name] = value
	}
	return out
}

// aggregationLabels returns the rbac aggregate-to-* labels of a role.
func aggregationLabels(o *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for k, v := range o.GetLabels() {
		if strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") {
			out[k] = v
		}
	}
	return out
}

// typedSelector converts an unstructured label selector.
func typedSelector(m map[string]any) *metav1.LabelSelector {
	return typed[metav1.LabelSelector](&unstructured.Unstructured{Object: m})
}

// minorLess compares two "1.N" Kubernetes minors.
func minorLess(a, b string) bool {
	an, _ := strconv.Atoi(strings.TrimPrefix(a, "1."))
	bn, _ := strconv.Atoi(strings.TrimPrefix(b, "1."))
	return an < bn
}

// readYAML decodes a YAML file of the repository into out.
func readYAML(path string, out *map[string]any) error {
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		return err
	}
	objs, err := testenv.DecodeObjects(string(data))
	if err != nil {
		return err
	}
	if len(objs) != 1 {
		return os.ErrInvalid
	}
	*out = objs[0].Object
	return nil
}
