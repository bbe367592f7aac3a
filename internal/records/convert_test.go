package records

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Upgrade: a grant written by a version before R8 (owned by its
// activation, unlabelled) is converted once: its activation's
// ownerReference goes, its labels come; someone else's are kept; the
// record itself never changes.
func TestConvertGrant(t *testing.T) {
	isController := true
	activationOwner := metav1.OwnerReference{APIVersion: "rewards.marketplace.io/v1alpha1", Kind: "BenefitActivation", Name: "blog", UID: "uid-old",
		Controller: &isController, BlockOwnerDeletion: &isController}
	foreign := metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Retention", Name: "keep-7y", UID: "uid-r"}
	labelled := grant("blog", "trial", "go-live-blog")
	labelled.Labels = Labels(&labelled.Spec)

	old := grant("blog", "trial", "go-live-blog")
	old.OwnerReferences = []metav1.OwnerReference{activationOwner, foreign}
	old.Labels = map[string]string{"team": "emea"}

	got := ConvertGrant(&old)
	if got == nil {
		t.Fatal("a grant owned by its activation is not converted")
	}
	if diff := cmp.Diff([]metav1.OwnerReference{foreign}, got.OwnerReferences); diff != "" {
		t.Errorf("ownerReferences after conversion: -want +got:\n%s", diff)
	}
	wantLabels := Labels(&old.Spec)
	wantLabels["team"] = "emea"
	if diff := cmp.Diff(wantLabels, got.Labels); diff != "" {
		t.Errorf("labels after conversion: -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(old.Spec, got.Spec); diff != "" {
		t.Errorf("the record changed: -before +after:\n%s", diff)
	}
	if owner := ActivationOwner(&old); owner == nil || owner.UID != "uid-old" {
		t.Errorf("ActivationOwner = %+v, want the activation's ownerReference", owner)
	}

	unlabelled := grant("blog", "trial", "go-live-blog")
	if c := ConvertGrant(&unlabelled); c == nil || len(c.Labels) != 3 {
		t.Errorf("an unlabelled grant converted to %+v, want its labels added", c)
	}
	if c := ConvertGrant(&labelled); c != nil {
		t.Errorf("a converted grant converted again to %+v: conversion is done once", c)
	}
	if ActivationOwner(&labelled) != nil {
		t.Errorf("ActivationOwner of a grant without ownerReferences is not nil")
	}
}

// Kinds of other groups named BenefitActivation are not the operator's.
func TestActivationOwnerIsOfThisGroup(t *testing.T) {
	g := grant("blog", "trial", "go-live-blog")
	g.OwnerReferences = []metav1.OwnerReference{{APIVersion: "other.example.com/v1", Kind: "BenefitActivation", Name: "blog", UID: "u"}}
	g.Labels = Labels(&g.Spec)
	if ActivationOwner(&g) != nil || ConvertGrant(&g) != nil {
		t.Errorf("an ownerReference to another group's BenefitActivation was taken for the operator's")
	}
}
