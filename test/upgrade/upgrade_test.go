package upgrade

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// The names both versions give the operator's objects (config/default's
// prefix; the chart's for a release called rewards-operator).
const (
	operatorNS     = "rewards-operator-system"
	serviceAccount = "rewards-operator-controller-manager"
	releaseName    = "rewards-operator"
)

// The publishers whose benefit the workload revokes, one revocation each.
var revokedPublishers = []string{"contoso", "violator", "fraudster", "canceller"}

var _ = Describe("Upgrading from the previous version", func() {
	Describe("with kubectl apply --server-side of dist/install.yaml", Ordered, func() {
		u := &upgrade{}

		BeforeAll(func() {
			u.c = newCluster()
		})

		It("installs the previous version as its README said, and its manager decides a workload", func() {
			u.c.mustKubectl(previous.installManifest(), "apply", "--server-side", "-f", "-")
			u.c.mustKubectl("", "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s")
			u.c.mustKubectl("", "apply", "--server-side", "-f", previous.path("config", "programs", "default.yaml"))
			u.runPrevious(previous)
		})

		It("upgrades CRDs, RBAC and Deployment with one kubectl apply, as docs/upgrade.md says, while the previous manager runs", func() {
			out := u.c.mustKubectl("", "apply", "--server-side", "-f", filepath.Join(root, "dist", "install.yaml"))
			Expect(out).To(ContainSubstring("customresourcedefinition.apiextensions.k8s.io/benefitgrants.rewards.marketplace.io serverside-applied"))
			u.c.mustKubectl("", "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s")
			u.crdsUpgraded()
		})

		It("keeps every phase, instant, revocation, history and grant once this version's manager runs", func() {
			u.runCurrent()
		})

		It("uninstalls as docs/upgrade.md says, and every record stays", func() {
			u.c.mustKubectl("", "delete", "-f", filepath.Join(root, "dist", "install.yaml"), "-l", "app.kubernetes.io/name=rewards-operator", "--wait=false")
			u.recordsKept()
		})
	})

	Describe("with helm upgrade", Ordered, func() {
		u := &upgrade{}

		BeforeAll(func() {
			u.c = newCluster()
		})

		It("installs the previous chart with helm install, and its manager decides a workload", func() {
			u.c.mustKubectl("", "create", "namespace", operatorNS)
			u.c.mustHelm("install", releaseName, previousChart.path("charts", "rewards-operator"), "--namespace", operatorNS)
			u.runPrevious(previousChart)
		})

		It("upgrades CRDs, RBAC and Deployment with helm upgrade, as docs/upgrade.md says", func() {
			args := []string{"upgrade", releaseName, filepath.Join(root, "charts", "rewards-operator"), "--namespace", operatorNS}
			if _, err := os.Stat(previousChart.path("charts", "rewards-operator", "crds")); err == nil {
				By("the previous chart installed its CRDs from crds/, outside the release: helm takes them over once (README, \"Upgrading\")")
				args = append(args, "--take-ownership")
			}
			u.c.mustHelm(args...)
			u.c.mustKubectl("", "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s")
			Expect(u.c.mustKubectl("", "get", "crd", "benefitgrants.rewards.marketplace.io",
				"-o", `jsonpath={.metadata.annotations.helm\.sh/resource-policy}`)).To(Equal("keep"), "the CRDs are the release's now, and kept")
			u.crdsUpgraded()
		})

		It("keeps every phase, instant, revocation, history and grant once this version's manager runs", func() {
			u.runCurrent()
		})

		It("uninstalls with helm uninstall, and every record stays", func() {
			u.c.mustHelm("uninstall", releaseName, "--namespace", operatorNS)
			u.recordsKept()
		})
	})
})

// upgrade is one install path's upgrade, spec by spec.
type upgrade struct {
	c        *cluster
	old      *manager
	want     map[string]string
	before   snapshot
	programs map[string]any
}

// runPrevious runs v's manager as the operator's ServiceAccount, creates
// the workload and records what the previous version shows.
func (u *upgrade) runPrevious(v *version) {
	u.old = startManager("previous "+v.ref, v.manager, u.c.serviceAccountKubeconfig(operatorNS, serviceAccount))
	u.want = createWorkload(u.c)
	u.old.converged(u.objectCounts())
	Eventually(func(g Gomega) {
		u.before = takeSnapshot(g, u.c)
		u.programs = programSpecs(g, u.c)
	}).Should(Succeed())

	By("checking that the snapshot holds what the workload made")
	Expect(u.before.Activations).To(HaveLen(len(u.want)))
	granted := 0
	for name, phase := range u.want {
		Expect(phaseOf(&unstructured.Unstructured{Object: map[string]any{"status": u.before.Activations[name]}})).To(Equal(phase), name)
		if phase != "Pending" {
			granted++
			Expect(u.before.Grants).To(HaveKey(name))
			Expect(u.before.ActivatedEvents).To(HaveKeyWithValue(name, 1), "one Activated Event for %s", name)
		}
	}
	Expect(u.before.Grants).To(HaveLen(granted))
	for _, p := range revokedPublishers {
		Expect(u.before.Publishers[p]).To(HaveKeyWithValue("revocationCount", BeNumerically("==", 1)), "publisher %s", p)
		Expect(u.before.Publishers[p]["revocations"]).To(HaveLen(1), "publisher %s", p)
	}
	Expect(u.programs).To(HaveKey("default"))
}

// runCurrent stops the previous manager, as the Deployment's rollout does,
// runs this tree's, waits until it has acted on everything it found, and
// compares. Meanwhile it watches every activation: none may show another
// phase, even for a moment.
func (u *upgrade) runCurrent() {
	w := u.watchPhases()
	u.old.stop()
	current := startManager("current", current.manager, u.c.serviceAccountKubeconfig(operatorNS, serviceAccount))
	current.converged(u.objectCounts())

	var after snapshot
	var programs map[string]any
	Eventually(func(g Gomega) {
		after = takeSnapshot(g, u.c)
		programs = programSpecs(g, u.c)
	}).Should(Succeed())
	Expect(cmp.Diff(u.before, after)).To(BeEmpty(), "what the previous version showed (-) and this one shows (+)")
	Expect(cmp.Diff(u.programs, programs)).To(BeEmpty(), "the programs' specs")
	Expect(w.stop()).To(BeEmpty(), "phases an activation showed during the upgrade that it did not show before")
}

// crdsUpgraded checks that the cluster serves this tree's CRDs: each
// version's schema as config/crd/bases has it.
func (u *upgrade) crdsUpgraded() {
	bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(bases).NotTo(BeEmpty())
	for _, base := range bases {
		data, err := os.ReadFile(base)
		Expect(err).NotTo(HaveOccurred())
		objs, err := testenv.DecodeObjects(string(data))
		Expect(err).NotTo(HaveOccurred())
		want := objs[0]
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(want.GroupVersionKind())
		Expect(u.c.api().Get(bg, client.ObjectKey{Name: want.GetName()}, got)).To(Succeed())
		wantVersions, _, _ := unstructured.NestedSlice(want.Object, "spec", "versions")
		gotVersions, _, _ := unstructured.NestedSlice(got.Object, "spec", "versions")
		Expect(gotVersions).To(HaveLen(len(wantVersions)), want.GetName())
		for i := range wantVersions {
			// As JSON: the file's numbers decode as floats, the server's as integers.
			wantSchema, err := json.Marshal(wantVersions[i].(map[string]any)["schema"])
			Expect(err).NotTo(HaveOccurred())
			gotSchema, err := json.Marshal(gotVersions[i].(map[string]any)["schema"])
			Expect(err).NotTo(HaveOccurred())
			Expect(gotSchema).To(MatchJSON(wantSchema), want.GetName())
		}
	}
}

// recordsKept checks, after an uninstall, that the CRDs and every grant
// and activation are still there, as they were.
func (u *upgrade) recordsKept() {
	for _, crd := range []string{"benefitgrants", "benefitactivations", "publishers", "offers", "salesrecords", "rewardsprograms"} {
		u.c.mustKubectl("", "get", "crd", crd+".rewards.marketplace.io")
	}
	var after snapshot
	Eventually(func(g Gomega) { after = takeSnapshot(g, u.c) }).Should(Succeed())
	Expect(cmp.Diff(u.before.Grants, after.Grants)).To(BeEmpty())
	Expect(cmp.Diff(u.before.Activations, after.Activations)).To(BeEmpty())
}

// objectCounts is how many objects of each kind the managers reconcile,
// by controller name.
func (u *upgrade) objectCounts() map[string]int {
	counts := map[string]int{}
	Eventually(func(g Gomega) {
		for _, kind := range []string{"Publisher", "Offer", "SalesRecord", "BenefitActivation"} {
			counts[strings.ToLower(kind)] = len(list(g, u.c, kind))
		}
		programs := &unstructured.UnstructuredList{}
		programs.SetGroupVersionKind(gvk("RewardsProgramList"))
		g.Expect(u.c.api().List(bg, programs)).To(Succeed())
		counts["rewardsprogram"] = len(programs.Items)
	}).Should(Succeed())
	return counts
}

func programSpecs(g Gomega, c *cluster) map[string]any {
	programs := &unstructured.UnstructuredList{}
	programs.SetGroupVersionKind(gvk("RewardsProgramList"))
	g.Expect(c.api().List(bg, programs)).To(Succeed())
	out := map[string]any{}
	for _, p := range programs.Items {
		out[p.GetName()] = p.Object["spec"]
	}
	return out
}

// phaseWatch records every phase an activation shows that differs from
// the one it showed before the upgrade.
type phaseWatch struct {
	w      watch.Interface
	done   chan struct{}
	mu     sync.Mutex
	others []string
}

func (u *upgrade) watchPhases() *phaseWatch {
	wc, err := client.NewWithWatch(u.c.cfg, client.Options{Scheme: testenv.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk("BenefitActivationList"))
	w, err := wc.Watch(bg, l, client.InNamespace(workloadNS))
	Expect(err).NotTo(HaveOccurred())
	pw := &phaseWatch{w: w, done: make(chan struct{})}
	go func() {
		defer close(pw.done)
		for ev := range w.ResultChan() {
			a, ok := ev.Object.(*unstructured.Unstructured)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			if phase, want := phaseOf(a), u.want[a.GetName()]; phase != want {
				pw.mu.Lock()
				pw.others = append(pw.others, fmt.Sprintf("%s: %s (was %s)", a.GetName(), phase, want))
				pw.mu.Unlock()
			}
		}
	}()
	return pw
}

func (pw *phaseWatch) stop() []string {
	pw.w.Stop()
	<-pw.done
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.others
}
