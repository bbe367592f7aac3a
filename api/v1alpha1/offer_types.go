package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProductFamily is the kind of product an offer sells. It decides seat
// counting (Microsoft 365 apps, rule S5) and ISV Connect (rule O7).
// +kubebuilder:validation:Enum=SaaS;AzureApplication;VirtualMachine;Container;ConsultingService;Dynamics365;PowerPlatform;Other
type ProductFamily string

// The product families.
const (
	ProductFamilySaaS              ProductFamily = "SaaS"
	ProductFamilyAzureApplication  ProductFamily = "AzureApplication"
	ProductFamilyVirtualMachine    ProductFamily = "VirtualMachine"
	ProductFamilyContainer         ProductFamily = "Container"
	ProductFamilyConsultingService ProductFamily = "ConsultingService"
	ProductFamilyDynamics365       ProductFamily = "Dynamics365"
	ProductFamilyPowerPlatform     ProductFamily = "PowerPlatform"
	ProductFamilyOther             ProductFamily = "Other"
)

// Microsoft365Integration is a Microsoft 365 product a SaaS offer integrates
// with; any one of them makes the offer a Microsoft 365 app (rule S5).
// +kubebuilder:validation:Enum=Teams;Office;Outlook;SharePoint
type Microsoft365Integration string

// OfferSpec describes one publication of an offer.
// +kubebuilder:validation:XValidation:rule="!has(self.delistedAt) || self.delistedAt > self.liveAt",message="spec.delistedAt must be after spec.liveAt",fieldPath=".delistedAt"
// +kubebuilder:validation:XValidation:rule="!has(self.microsoft365Integrations) || size(self.microsoft365Integrations) == 0 || (has(self.productFamily) && self.productFamily == 'SaaS')",message="spec.microsoft365Integrations requires spec.productFamily SaaS",fieldPath=".microsoft365Integrations"
type OfferSpec struct {
	// publisherRef names the Publisher of this offer, in the same namespace.
	// Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.publisherRef is immutable"
	PublisherRef LocalObjectReference `json:"publisherRef"`

	// displayName of the offer.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`

	// storefront where the offer is published: AzureMarketplace or AppSource
	// (rule O1).
	// +required
	Storefront Storefront `json:"storefront"`

	// listingType: List, Trial, Consulting or Transact (rule O1). Only
	// Transact offers' sales count towards tiers (rule S1).
	// +required
	ListingType ListingType `json:"listingType"`

	// productFamily of the offer. Dynamics365 on AppSource is eligible for
	// ISV Connect (rule O7).
	// +optional
	ProductFamily ProductFamily `json:"productFamily,omitempty"`

	// microsoft365Integrations of a SaaS offer (Teams, Office, Outlook,
	// SharePoint). Any one makes it a Microsoft 365 app, whose seats sold
	// count towards seats thresholds (rule S5).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	Microsoft365Integrations []Microsoft365Integration `json:"microsoft365Integrations,omitempty"`

	// liveAt is when the offer went, or will go, live. A future liveAt means
	// Scheduled; the offer turns Live at that instant (rule O2). Must be
	// before 9000-01-01T00:00:00Z: the operator derives instants up to 120
	// months after it (engagement end, benefit expiry), and every derived
	// instant must fit the API's four-digit years.
	// +required
	// +kubebuilder:validation:XValidation:rule=`self < timestamp('9000-01-01T00:00:00Z')`,message=`spec.liveAt must be before 9000-01-01T00:00:00Z`
	LiveAt metav1.Time `json:"liveAt"`

	// delistedAt ends the publication (rule O2); its activations are revoked
	// (rule R2). Must be after liveAt.
	// +optional
	DelistedAt *metav1.Time `json:"delistedAt,omitempty"`

	// optOut opts this publication out of all program activities; clearing
	// it opts back in (rule O6).
	// +optional
	OptOut bool `json:"optOut,omitempty"`
}

// OfferPhase is where an offer is in its life (rule O2).
// +kubebuilder:validation:Enum=Scheduled;Live;Delisted
type OfferPhase string

// The offer phases: before liveAt, live, after delistedAt (rule O2).
const (
	OfferScheduled OfferPhase = "Scheduled"
	OfferLive      OfferPhase = "Live"
	OfferDelisted  OfferPhase = "Delisted"
)

// OfferStatus is what the operator derives about an offer.
type OfferStatus struct {
	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True once the offer is evaluated against its
	// publisher and program (PublisherNotFound otherwise); FollowUpNeeded
	// carries the follow-up hint (rule O5).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// phase: Scheduled, Live or Delisted (rule O2).
	// +optional
	Phase OfferPhase `json:"phase,omitempty"`

	// engagementEndsAt is when the engagement manager's work with a List,
	// Trial or Consulting offer ends (rule O3). Absent for Transact offers,
	// whose engagement is evergreen.
	// +optional
	EngagementEndsAt *metav1.Time `json:"engagementEndsAt,omitempty"`

	// engagementEvergreen is true for Transact offers (rule O4).
	// +optional
	EngagementEvergreen bool `json:"engagementEvergreen,omitempty"`

	// benefitsExpireAt is when this offer's benefits expire (rule O4).
	// Absent when they do not expire.
	// +optional
	BenefitsExpireAt *metav1.Time `json:"benefitsExpireAt,omitempty"`

	// isvConnectEligible is true for Dynamics 365 offers on AppSource
	// (rule O7).
	// +optional
	ISVConnectEligible bool `json:"isvConnectEligible,omitempty"`

	// microsoft365App is true when the offer is a SaaS app integrated with
	// Microsoft 365, whose seats count (rule S5).
	// +optional
	Microsoft365App bool `json:"microsoft365App,omitempty"`

	// followUpHint is shown when the offer has been live for longer than the
	// program's follow-up period and none of its activations has been
	// contacted (rule O5).
	// +optional
	FollowUpHint string `json:"followUpHint,omitempty"`
}

// Offer is one publication of an offer in Azure Marketplace or AppSource.
// Its listing type decides the benefits it gets; for Transact offers, its
// sales count towards the publisher's tier.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ofr,categories=rewards
// +kubebuilder:selectablefield:JSONPath=`.spec.publisherRef.name`
// +kubebuilder:printcolumn:name="Publisher",type=string,JSONPath=`.spec.publisherRef.name`
// +kubebuilder:printcolumn:name="Listing Type",type=string,JSONPath=`.spec.listingType`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Live At",type=string,JSONPath=`.spec.liveAt`
// +kubebuilder:printcolumn:name="Storefront",type=string,JSONPath=`.spec.storefront`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Offer struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec describes the publication.
	// +required
	Spec OfferSpec `json:"spec"`

	// status is written by the operator.
	// +optional
	// A schema default makes a new object read as "not yet observed"
	// (observedGeneration 0 < generation) instead of looking reconciled
	// to kstatus, Flux and Helm before the operator has seen it.
	// +kubebuilder:default={observedGeneration: 0}
	Status OfferStatus `json:"status,omitempty,omitzero"`
}

// +kubebuilder:object:root=true

// OfferList is a list of Offers.
type OfferList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Offer `json:"items"`
}
