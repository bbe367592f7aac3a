// Package v1alpha1 contains the API of the Marketplace Rewards operator:
// RewardsProgram (cluster-scoped rules), Publisher, Offer, SalesRecord and
// BenefitActivation.
//
// +kubebuilder:object:generate=true
// +groupName=rewards.marketplace.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "rewards.marketplace.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
