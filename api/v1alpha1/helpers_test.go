package v1alpha1_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	rewardsv1alpha1 "github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// Valid base objects. Each table entry starts from one of these and changes
// only what it wants to prove wrong (or right).

var (
	liveAt   = metav1.NewTime(time.Date(2024, time.January, 15, 9, 0, 0, 0, time.UTC))
	billedAt = metav1.NewTime(time.Date(2024, time.March, 1, 0, 0, 0, 0, time.UTC))
)

// The namespaced objects are built by the shared builders; a namespace is
// given when an entry creates them (apply).

func validPublisher() *rewardsv1alpha1.Publisher {
	return build.Publisher("", "contoso", build.Following("default"), build.Contact("Jane Doe", "marketing@contoso.com"),
		func(p *rewardsv1alpha1.Publisher) { p.Spec.DisplayName = "Contoso Ltd" })
}

func validOffer() *rewardsv1alpha1.Offer {
	return build.Offer("", "contoso-crm", "contoso", rewardsv1alpha1.ListingTypeTransact, liveAt.Time, build.Microsoft365("Teams"),
		func(o *rewardsv1alpha1.Offer) { o.Spec.DisplayName = "Contoso CRM" })
}

func validSalesRecord() *rewardsv1alpha1.SalesRecord {
	return build.SalesRecord("", "contoso-crm-2024-03", "contoso-crm", "1234.56", "USD", billedAt.Time,
		build.Seats(10), build.Fraud(rewardsv1alpha1.FraudNone),
		func(r *rewardsv1alpha1.SalesRecord) { r.Spec.TransactionID = "txn-2024-03-0001" })
}

func validActivation() *rewardsv1alpha1.BenefitActivation {
	return build.Activation("", "contoso-crm-campaign", "contoso-crm", "marketing-campaign")
}

// validGrant is a grant as the operator writes it, revoked: every field
// of the record set.
func validGrant() *rewardsv1alpha1.BenefitGrant {
	activatedAt := time.Date(2024, time.February, 1, 9, 0, 0, 0, time.UTC)
	return build.Grant("", "contoso-analytics-webinar", "contoso-analytics", "webinar", "contoso", activatedAt,
		build.ActivationUID("0b6f4c1e-2d52-4b8e-9d0a-3f0c7f2d9a11"),
		build.ExpiresAt(activatedAt.AddDate(0, 3, 0)),
		func(g *rewardsv1alpha1.BenefitGrant) {
			g.Spec.Program = &rewardsv1alpha1.GrantedUnder{Name: "default", Revision: "default-3f2a9c0d1e"}
		},
		build.Revoked(rewardsv1alpha1.GrantRevocation{
			Reason: rewardsv1alpha1.RevocationViolation, Message: "publisher \"contoso\" has an IllegalActivity violation (R1)",
			CausedBy:   &rewardsv1alpha1.ObjectReference{Kind: "Publisher", Name: "contoso"},
			CauseTime:  &metav1.Time{Time: activatedAt.Add(-time.Hour)},
			RecordedAt: metav1.NewTime(activatedAt.Add(24 * time.Hour)),
		}))
}

// validRevision is a program revision as the operator writes it.
func validRevision() *rewardsv1alpha1.RewardsProgramRevision {
	return &rewardsv1alpha1.RewardsProgramRevision{
		Spec: rewardsv1alpha1.RewardsProgramRevisionSpec{Program: "default", Revision: 2, ProgramGeneration: 3, Rules: validProgram().Spec},
	}
}

func validProgram() *rewardsv1alpha1.RewardsProgram {
	return &rewardsv1alpha1.RewardsProgram{
		// The name is replaced by a unique one when the object is created:
		// programs are cluster-scoped and the tests share one API server.
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec: rewardsv1alpha1.RewardsProgramSpec{
			Description:   "Marketplace Rewards",
			Currency:      "USD",
			ExchangeRates: []rewardsv1alpha1.ExchangeRate{{Currency: "EUR", Rate: "1.08"}, {Currency: "JPY", Rate: "0.0067"}},
			SalesWindow:   rewardsv1alpha1.SalesWindowLifetime,
			Tiers: []rewardsv1alpha1.Tier{
				{Level: 1, Name: "Tier 1", MinBilledSales: "0", Benefits: []string{"azure-credits"}},
				{Level: 2, Name: "Tier 2", MinBilledSales: "25000", MinSeats: int64Ptr(1000), Benefits: []string{"marketing-campaign"}},
				{Level: 3, Name: "Tier 3", MinBilledSales: "100000", MinSeats: int64Ptr(5000)},
				{Level: 4, Name: "Tier 4", MinBilledSales: "1000000"},
			},
			Benefits: []rewardsv1alpha1.Benefit{
				{Name: "marketing-campaign", Category: rewardsv1alpha1.BenefitCategoryMarketing, ListingTypes: rewardsv1alpha1.AllListingTypes},
				{Name: "azure-credits", Category: rewardsv1alpha1.BenefitCategoryTechnical, ListingTypes: []rewardsv1alpha1.ListingType{rewardsv1alpha1.ListingTypeTransact}},
			},
		},
	}
}

// with returns obj after applying mutate to it.
func with[T any](obj T, mutate func(T)) T {
	mutate(obj)
	return obj
}

// asUnstructured converts a typed object of this API into an unstructured
// one, so that a test can write what the Go types cannot express (a missing
// required field, a number where a string belongs).
func asUnstructured(obj client.Object, mutate func(u map[string]any)) *unstructured.Unstructured {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{Object: content}
	kind := kindOf(obj)
	u.SetGroupVersionKind(rewardsv1alpha1.GroupVersion.WithKind(kind))
	mutate(u.Object)
	return u
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *rewardsv1alpha1.BenefitGrant:
		return "BenefitGrant"
	case *rewardsv1alpha1.RewardsProgramRevision:
		return "RewardsProgramRevision"
	case *rewardsv1alpha1.Publisher:
		return "Publisher"
	case *rewardsv1alpha1.Offer:
		return "Offer"
	case *rewardsv1alpha1.SalesRecord:
		return "SalesRecord"
	case *rewardsv1alpha1.BenefitActivation:
		return "BenefitActivation"
	case *rewardsv1alpha1.RewardsProgram:
		return "RewardsProgram"
	}
	panic(fmt.Sprintf("unknown kind %T", obj))
}

// change is what a table entry does to the API server: create an object, or
// create a valid one and then update it.
type change struct {
	obj    client.Object
	mutate func(client.Object) // nil: create obj and report the outcome
}

// onCreate creates obj as it is.
func onCreate(obj client.Object) change { return change{obj: obj} }

// onUpdate creates the valid base object, then applies mutate to the stored
// object and updates it.
func onUpdate[T client.Object](base T, mutate func(T)) change {
	return change{obj: base, mutate: func(o client.Object) { mutate(o.(T)) }}
}

// apply runs c in namespace ns and returns the error of the create or update
// under test. Cluster-scoped objects get a unique name (ns's) and are deleted
// when the spec ends.
func apply(c change, ns string) error {
	GinkgoHelper()
	obj := c.obj.DeepCopyObject().(client.Object)
	place(obj, ns)
	err := k8sClient.Create(ctx, obj)
	if err == nil {
		cleanupClusterScoped(obj)
	}
	if c.mutate == nil {
		return err
	}
	Expect(err).NotTo(HaveOccurred(), "the base object of an update must be valid")
	c.mutate(obj)
	return k8sClient.Update(ctx, obj)
}

func place(obj client.Object, ns string) {
	GinkgoHelper()
	namespaced, err := k8sClient.IsObjectNamespaced(obj)
	Expect(err).NotTo(HaveOccurred())
	if namespaced {
		obj.SetNamespace(ns)
	} else {
		obj.SetNamespace("")
		obj.SetName(ns)
	}
}

func cleanupClusterScoped(obj client.Object) {
	if obj.GetNamespace() != "" {
		return // its namespace is thrown away with the test
	}
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, obj))).To(Succeed())
	})
}

// freshNamespace creates a namespace for one spec.
func freshNamespace() string {
	GinkgoHelper()
	// Unstructured, so that the tests need no module beyond those go.mod
	// already requires directly.
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetGenerateName("admission-")
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	// envtest runs no namespace controller, so a deleted namespace stays
	// Terminating; it is deleted anyway so that nothing lingers on purpose.
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, ns))).To(Succeed())
	})
	return ns.GetName()
}

func int64Ptr(v int64) *int64 { return &v }

var listIndex = regexp.MustCompile(`\[[0-9]+\]`)

// normalizeIndexes turns spec.tiers[3].level into spec.tiers[].level.
func normalizeIndexes(s string) string { return listIndex.ReplaceAllString(s, "[]") }

// notChecked is the cause the API server adds when it skipped CEL rules
// because the object already failed its OpenAPI schema.
const notChecked = "some validation rules were not checked"

// expectInvalid asserts that err is an Invalid error whose message names
// field, and that every cause it gives is about that field, so that the
// rejection is the one the entry means and not an accident of the base
// object.
func expectInvalid(err error, field string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "expected the API server to reject the object, naming %s", field)
	GinkgoWriter.Printf("rejected as expected: %v\n", err)
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected an Invalid error, got %v (reason %q)", err, apierrors.ReasonForError(err))
	Expect(err.Error()).To(ContainSubstring(field))

	var status apierrors.APIStatus
	Expect(errors.As(err, &status)).To(BeTrue())
	details := status.Status().Details
	Expect(details).NotTo(BeNil())
	Expect(details.Causes).NotTo(BeEmpty())
	want := normalizeIndexes(field)
	for _, cause := range details.Causes {
		if strings.Contains(cause.Message, notChecked) {
			continue
		}
		Expect(normalizeIndexes(cause.Field+": "+cause.Message)).To(ContainSubstring(want),
			"every cause of the rejection should concern %s; full error: %v", field, err)
	}
}
