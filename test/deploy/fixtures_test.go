package deploy

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
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
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	ExpectWithOffset(1, admin.Create(bg, ns)).To(Succeed())
	return ns.Name
}

// newPublisher is an enrolled publisher with a marketing contact (P2, P4).
func newPublisher(ns, name, program string) *v1alpha1.Publisher {
	return &v1alpha1.Publisher{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.PublisherSpec{
			MPNID:        "4839210",
			AccountEmail: "partnercenter@" + name + ".example.com",
			Enrolled:     true,
			ProgramRef:   &v1alpha1.ProgramReference{Name: program},
			MarketingContact: &v1alpha1.MarketingContact{
				User:              "Avery Howard",
				Email:             "avery@" + name + ".example.com",
				Phone:             "+14255550100",
				PreferredLanguage: "en-US",
			},
		},
	}
}

func newOffer(ns, name, publisher string, lt v1alpha1.ListingType, liveAt time.Time) *v1alpha1.Offer {
	return &v1alpha1.Offer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.OfferSpec{
			PublisherRef: v1alpha1.LocalObjectReference{Name: publisher},
			Storefront:   v1alpha1.StorefrontAzureMarketplace,
			ListingType:  lt,
			LiveAt:       metav1.NewTime(liveAt),
		},
	}
}

func newSale(ns, name, offer, amount string, currency v1alpha1.CurrencyCode, billedAt time.Time) *v1alpha1.SalesRecord {
	return &v1alpha1.SalesRecord{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.SalesRecordSpec{
			OfferRef:      v1alpha1.LocalObjectReference{Name: offer},
			TransactionID: "tx-" + name,
			Amount:        v1alpha1.Money(amount),
			Currency:      currency,
			BilledAt:      metav1.NewTime(billedAt),
		},
	}
}

func newActivation(ns, name, offer, benefit string) *v1alpha1.BenefitActivation {
	return &v1alpha1.BenefitActivation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.BenefitActivationSpec{
			OfferRef: v1alpha1.LocalObjectReference{Name: offer},
			Benefit:  benefit,
		},
	}
}

// create creates objects as the admin (the platform team, billing and
// partners of the story).
func create(objs ...client.Object) {
	for _, o := range objs {
		ExpectWithOffset(1, admin.Create(bg, o)).To(Succeed(), "%T %s", o, o.GetName())
	}
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
