package operator

import (
	"strings"
	"testing"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// The cache keeps objects without what the operator never reads.
func TestStripUnread(t *testing.T) {
	rec := &v1alpha1.SalesRecord{ObjectMeta: metav1.ObjectMeta{
		Name:          "line",
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "billing"}},
		Annotations:   map[string]string{lastApplied: `{"big":"copy"}`, "team": "billing"},
		Labels:        map[string]string{"app": "billing"},
	}, Spec: v1alpha1.SalesRecordSpec{TransactionID: "TX-2026-0001", Amount: "100", Currency: "USD", Seats: 3}}
	out, err := StripUnread(rec)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*v1alpha1.SalesRecord)
	if got.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", got.ManagedFields)
	}
	if _, ok := got.Annotations[lastApplied]; ok {
		t.Errorf("last-applied annotation kept")
	}
	if got.Annotations["team"] != "billing" || got.Labels["app"] != "billing" || got.Name != "line" {
		t.Errorf("something the operator may read was dropped: %+v", got.ObjectMeta)
	}
	if got.Spec.TransactionID != "" {
		t.Errorf("spec.transactionId kept: %q", got.Spec.TransactionID)
	}
	if got.Spec.Amount != "100" || got.Spec.Currency != "USD" || got.Spec.Seats != 3 {
		t.Errorf("a field the rules read was dropped: %+v", got.Spec)
	}
	if _, err := StripUnread("not an object"); err != nil {
		t.Errorf("a value that is not an object: %v, want it passed through", err)
	}
}

// Strings that many objects repeat share one copy in the cache, and keep
// their values.
func TestStripUnreadSharesRepeatedStrings(t *testing.T) {
	line := func() *v1alpha1.SalesRecord {
		// Each built from its own bytes, as decoding gives them.
		own := func(s string) string { return strings.Clone(s) }
		return &v1alpha1.SalesRecord{
			ObjectMeta: metav1.ObjectMeta{Namespace: own("billing-team"), Name: own("line")},
			Spec:       v1alpha1.SalesRecordSpec{OfferRef: v1alpha1.LocalObjectReference{Name: own("contoso-saas")}, Currency: "USD"},
			Status: v1alpha1.SalesRecordStatus{
				Reason: own("Counted"), Publisher: own("contoso"),
				Conditions: []metav1.Condition{{Type: own("Ready"), Status: metav1.ConditionTrue, Reason: own("Counted"), Message: own("counts 10 USD")}},
			},
		}
	}
	a, b := line(), line()
	for _, o := range []*v1alpha1.SalesRecord{a, b} {
		if _, err := StripUnread(o); err != nil {
			t.Fatal(err)
		}
	}
	if want := line(); a.Namespace != want.Namespace || a.Spec.OfferRef != want.Spec.OfferRef || a.Status.Publisher != want.Status.Publisher ||
		a.Status.Reason != want.Status.Reason || a.Status.Conditions[0] != want.Status.Conditions[0] {
		t.Fatalf("values changed: got %+v, want %+v", a, want)
	}
	same := func(what, x, y string) {
		if unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: two copies of %q, want one shared", what, x)
		}
	}
	same("namespace", a.Namespace, b.Namespace)
	same("offerRef.name", a.Spec.OfferRef.Name, b.Spec.OfferRef.Name)
	same("status.publisher", a.Status.Publisher, b.Status.Publisher)
	same("status.reason", a.Status.Reason, b.Status.Reason)
	same("condition type", a.Status.Conditions[0].Type, b.Status.Conditions[0].Type)
	same("condition reason", a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason)
}
