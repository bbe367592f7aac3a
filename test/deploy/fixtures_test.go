package deploy

import (
	"os"
	"path/filepath"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// shippedProgram is config/programs/default.yaml under a unique name, so
// that each test follows a program of its own.
func shippedProgram() *v1alpha1.RewardsProgram {
	data, err := os.ReadFile(filepath.Join(root, "config", "programs", "default.yaml"))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var p v1alpha1.RewardsProgram
	ExpectWithOffset(1, yaml.UnmarshalStrict(data, &p)).To(Succeed())
	p.Name = "deploy-test-" + rand.String(6)
	return &p
}

func newNamespace(prefix string) string {
	ns, err := testenv.NewNamespace(bg, admin, prefix+"-")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return ns
}

// newPublisher is an enrolled publisher with a marketing contact (P2, P4).
func newPublisher(ns, name, program string) *v1alpha1.Publisher {
	return build.Publisher(ns, name, build.Following(program), build.WithContact())
}

// create creates objects as the admin (the platform team, billing and
// partners of the story).
func create(objs ...client.Object) {
	ExpectWithOffset(1, testenv.Create(bg, admin, objs...)).To(Succeed())
}

// fetch returns a function reading obj fresh from the API server.
func fetch[T client.Object](obj T) func() T {
	return func() T {
		ExpectWithOffset(1, admin.Get(bg, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		return obj
	}
}

// ready returns "<status>/<reason>" of the Ready condition, "" if none.
func ready(conds []metav1.Condition) string {
	c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
	if c == nil {
		return ""
	}
	return string(c.Status) + "/" + c.Reason
}

// eventReasons lists the reasons of the events.k8s.io Events regarding
// obj (of kind kind), as the operator reported them.
func eventReasons(kind string, obj client.Object) func() []string {
	return func() []string {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault // events about cluster-scoped objects
		}
		var list eventsv1.EventList
		ExpectWithOffset(1, admin.List(bg, &list, client.InNamespace(ns))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Kind == kind && e.Regarding.Name == obj.GetName() && e.ReportingController == "rewards-operator" {
				out = append(out, e.Reason)
			}
		}
		return out
	}
}
