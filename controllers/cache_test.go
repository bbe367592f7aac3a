package controllers

import (
	"testing"

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
	}}
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
	if _, err := StripUnread("not an object"); err != nil {
		t.Errorf("a value that is not an object: %v, want it passed through", err)
	}
}
