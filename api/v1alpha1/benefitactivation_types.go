package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenefitActivationSpec is a partner's request to use one benefit of the
// catalog for one offer.
type BenefitActivationSpec struct {
	// offerRef names the Offer the benefit is for, in the same namespace.
	// Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.offerRef is immutable"
	OfferRef LocalObjectReference `json:"offerRef"`

	// benefit names an entry of the program's catalog (rule B1). Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.benefit is immutable"
	Benefit string `json:"benefit"`

	// optOut opts out of this engagement, at any time; clearing it opts back
	// in (rule O6).
	// +optional
	OptOut bool `json:"optOut,omitempty"`

	// contactedAt is recorded by the Rewards team when it has contacted the
	// marketing contact; it closes the contact obligation (rule B4).
	// +optional
	ContactedAt *metav1.Time `json:"contactedAt,omitempty"`
}

// ActivationPhase is where a BenefitActivation is in its life (rule B5).
// +kubebuilder:validation:Enum=Pending;Active;Expired;Revoked;OptedOut
type ActivationPhase string

const (
	// ActivationPending means a prerequisite is missing; the Ready condition names
	// the first one.
	ActivationPending ActivationPhase = "Pending"
	// ActivationActive means the benefit is in use.
	ActivationActive ActivationPhase = "Active"
	// ActivationExpired means the benefit's time ran out (rule O4). Terminal.
	ActivationExpired ActivationPhase = "Expired"
	// ActivationRevoked means a violation, delisting, fraud or cancellation ended
	// it (rules R1–R4). Terminal.
	ActivationRevoked ActivationPhase = "Revoked"
	// ActivationOptedOut means spec.optOut, or the offer's, is set (rule O6).
	ActivationOptedOut ActivationPhase = "OptedOut"
)

// Revocation records why and when an activation was revoked (rules R1–R4,
// R6). For a granted benefit it is read back from the activation's
// BenefitGrant, so it never changes once recorded.
type Revocation struct {
	// reason of the revocation (rules R1–R4).
	Reason RevocationReason `json:"reason"`
	// message for people.
	// +optional
	Message string `json:"message,omitempty"`
	// causedBy is the object whose state caused the revocation.
	// +optional
	CausedBy *ObjectReference `json:"causedBy,omitempty"`
	// causeTime is the cause's own instant, from its spec: violation.time,
	// offer.delistedAt or cancellation.time. Absent when the cause has none.
	// +optional
	CauseTime *metav1.Time `json:"causeTime,omitempty"`
	// recordedAt is when the operator recorded the revocation in the
	// activation's BenefitGrant. Absent for an activation that was never
	// granted (a Pending activation of a delisted offer, rule R2): nothing
	// was taken away, and the revocation follows from the offer's spec.
	// +optional
	RecordedAt *metav1.Time `json:"recordedAt,omitempty"`
	// time is recordedAt, or causeTime when nothing was recorded.
	// Deprecated: kept for clients of earlier versions; read recordedAt
	// and causeTime instead.
	Time metav1.Time `json:"time"`
}

// BenefitActivationStatus is what the operator derives about an activation.
type BenefitActivationStatus struct {
	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True while the benefit is Active, and once it is
	// Expired (it ran its course: a normal end); otherwise its reason names
	// the first missing prerequisite, what is missing, or the revocation.
	// ContactOverdue is True while an Active benefit's contactDueBy passed
	// without contactedAt. Stalled is True once it is Revoked: final, and
	// needing a person (kstatus reads it as Failed).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// phase: Pending, Active, Expired, Revoked or OptedOut.
	// +optional
	Phase ActivationPhase `json:"phase,omitempty"`

	// publisher of the offer.
	// +optional
	Publisher string `json:"publisher,omitempty"`

	// category of the benefit, from the catalog.
	// +optional
	Category BenefitCategory `json:"category,omitempty"`

	// activatedAt is when the activation first became Active, read back
	// from its BenefitGrant.
	// +optional
	ActivatedAt *metav1.Time `json:"activatedAt,omitempty"`

	// contactDueBy is when the Rewards team must have contacted the
	// marketing contact (rule B4), read back from the BenefitGrant.
	// +optional
	ContactDueBy *metav1.Time `json:"contactDueBy,omitempty"`

	// expiresAt is when the benefit expires (rule O4): from the
	// BenefitGrant once granted, from the offer and the program before.
	// Absent when it does not expire.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// expiredAt is when the activation expired.
	// +optional
	ExpiredAt *metav1.Time `json:"expiredAt,omitempty"`

	// revocation is set once the activation is revoked; read back from the
	// BenefitGrant for a granted benefit.
	// +optional
	Revocation *Revocation `json:"revocation,omitempty"`
}

// BenefitActivation is a partner's activation of one benefit for one offer.
// The operator makes it Active once every prerequisite holds, schedules the
// contact and the expiry, and records revocations.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ba;activation,categories=rewards
// +kubebuilder:selectablefield:JSONPath=`.spec.offerRef.name`
// +kubebuilder:selectablefield:JSONPath=`.spec.benefit`
// +kubebuilder:printcolumn:name="Offer",type=string,JSONPath=`.spec.offerRef.name`
// +kubebuilder:printcolumn:name="Benefit",type=string,JSONPath=`.spec.benefit`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BenefitActivation struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the partner's request.
	// +required
	Spec BenefitActivationSpec `json:"spec"`

	// status is written by the operator.
	// +optional
	// A schema default makes a new object read as "not yet observed"
	// (observedGeneration 0 < generation) instead of looking reconciled
	// to kstatus, Flux and Helm before the operator has seen it.
	// +kubebuilder:default={observedGeneration: 0}
	Status BenefitActivationStatus `json:"status,omitempty,omitzero"`
}

// +kubebuilder:object:root=true

// BenefitActivationList is a list of BenefitActivations.
type BenefitActivationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BenefitActivation `json:"items"`
}
