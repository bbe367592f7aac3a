// Package v1alpha1 contains the API of the Marketplace Rewards operator:
// RewardsProgram (cluster-scoped rules), Publisher, Offer, SalesRecord and
// BenefitActivation, and the operator's durable record: BenefitGrant and
// RewardsProgramRevision (cluster-scoped). The program rules named in
// comments by their ids (P1, S3, R7...) are described in docs/rules.md.
//
// +kubebuilder:object:generate=true
// +groupName=rewards.marketplace.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The package depends on apimachinery only, as upstream Kubernetes API
// packages do: a client importing these types needs nothing else.
var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "rewards.marketplace.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes adds every kind of this package, and its list, to scheme.
func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion,
		&RewardsProgram{}, &RewardsProgramList{},
		&Publisher{}, &PublisherList{},
		&Offer{}, &OfferList{},
		&SalesRecord{}, &SalesRecordList{},
		&BenefitActivation{}, &BenefitActivationList{},
		&BenefitGrant{}, &BenefitGrantList{},
		&RewardsProgramRevision{}, &RewardsProgramRevisionList{},
	)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
