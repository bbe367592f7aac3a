package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Labels the operator puts on every BenefitGrant it writes, so that a
// person or a retention job can select the records of a publisher, an
// offer or a benefit (`kubectl get benefitgrants -l ...`). A label value
// holds at most 63 characters: a longer name is cut to its first 52 and
// followed by "-" and a hash of the whole name. The fields
// spec.publisher, spec.offer and spec.benefit are also selectable by
// field (`--field-selector spec.publisher=NAME`), whatever their length.
const (
	LabelPublisher = "rewards.marketplace.io/publisher"
	LabelOffer     = "rewards.marketplace.io/offer"
	LabelBenefit   = "rewards.marketplace.io/benefit"
)

// BenefitGrantSpec is the durable record of one granted benefit. The
// operator writes it when an activation first becomes Active and, at most
// once, when the benefit is revoked; admission keeps every field as first
// written.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.expiresAt) || (has(self.expiresAt) && self.expiresAt == oldSelf.expiresAt)",message="spec.expiresAt of a BenefitGrant cannot be changed or removed once set",fieldPath=".expiresAt"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.expiresAt) || !has(self.expiresAt)",message="spec.expiresAt of a BenefitGrant can only be set when the grant is created",fieldPath=".expiresAt"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.program) || (has(self.program) && self.program == oldSelf.program)",message="spec.program of a BenefitGrant cannot be changed or removed once set",fieldPath=".program"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.program) || !has(self.program)",message="spec.program of a BenefitGrant can only be set when the grant is created",fieldPath=".program"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.revocation) || (has(self.revocation) && self.revocation == oldSelf.revocation)",message="spec.revocation of a BenefitGrant is recorded once and cannot be changed or removed",fieldPath=".revocation"
// +kubebuilder:validation:XValidation:rule="!has(self.revocation) || self.revocation.recordedAt >= self.activatedAt",message="spec.revocation.recordedAt of a BenefitGrant cannot be before spec.activatedAt: a benefit is revoked after it was granted",fieldPath=".revocation.recordedAt"
type BenefitGrantSpec struct {
	// activation that was granted. The grant has the activation's name and
	// belongs to the activation of that name in its namespace, whatever
	// that object's uid (rule R7): an activation deleted and created again,
	// restored from a backup or re-applied by GitOps is the same
	// activation. The grant outlives it (rule R8).
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.activation of a BenefitGrant is immutable"
	Activation GrantedActivation `json:"activation"`

	// benefit granted, by catalog name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.benefit of a BenefitGrant is immutable"
	Benefit string `json:"benefit"`

	// category of the benefit when it was granted.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.category of a BenefitGrant is immutable"
	Category BenefitCategory `json:"category"`

	// offer the benefit was granted for.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.offer of a BenefitGrant is immutable"
	Offer string `json:"offer"`

	// publisher of the offer.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.publisher of a BenefitGrant is immutable"
	Publisher string `json:"publisher"`

	// activatedAt is when the benefit became Active (rule B4).
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.activatedAt of a BenefitGrant is immutable"
	ActivatedAt metav1.Time `json:"activatedAt"`

	// contactDueBy is when the Rewards team must have contacted the
	// marketing contact (rule B4).
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.contactDueBy of a BenefitGrant is immutable"
	ContactDueBy metav1.Time `json:"contactDueBy"`

	// expiresAt is when the benefit expires (rule O4), fixed when it was
	// granted: a later program change does not move it. Absent when the
	// benefit does not expire.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// program is the RewardsProgram, and the RewardsProgramRevision of its
	// rules, that the benefit was granted under. Absent on grants written
	// before revisions were kept.
	// +optional
	Program *GrantedUnder `json:"program,omitempty"`

	// revocation is recorded once, when a violation, delisting, fraud or
	// cancellation takes the benefit away (rules R1–R4, R6).
	// +optional
	Revocation *GrantRevocation `json:"revocation,omitempty"`
}

// GrantedUnder names the rules a benefit was granted under.
type GrantedUnder struct {
	// name of the RewardsProgram.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// revision is the name of the RewardsProgramRevision holding the rules
	// that were in force.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Revision string `json:"revision"`
}

// GrantedActivation identifies the BenefitActivation a grant records.
type GrantedActivation struct {
	// name of the BenefitActivation, in the grant's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// uid the BenefitActivation had when it was granted, for information
	// only: nothing is decided on it (rule R7).
	// +optional
	UID types.UID `json:"uid,omitempty"`
}

// GrantRevocation is a revocation as the grant records it (rule R6).
type GrantRevocation struct {
	// reason of the revocation (rules R1–R4).
	// +required
	Reason RevocationReason `json:"reason"`
	// message for people.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// causedBy is the object whose state caused the revocation: a
	// Publisher, an Offer or a SalesRecord of the grant's namespace.
	// +required
	CausedBy *ObjectReference `json:"causedBy"`
	// causeTime is the cause's own instant, from its spec:
	// violation.time, offer.delistedAt or cancellation.time. Absent when
	// the cause has none (a fraud report, a cancellation without time).
	// +optional
	CauseTime *metav1.Time `json:"causeTime,omitempty"`
	// recordedAt is when the operator recorded the revocation: not before
	// the grant's activatedAt.
	// +required
	RecordedAt metav1.Time `json:"recordedAt"`
}

// BenefitGrant is the operator's durable record that a benefit was granted
// to the BenefitActivation of its name and, if so, revoked. Status is
// disposable (a backup restored without it, a cluster rebuilt from Git),
// and so are uids; this record is neither: the activation's activatedAt,
// contactDueBy, expiresAt and revocation are read back from it, and it
// outlives the activation (rules R7, R8). Only the operator writes grants,
// and only an administrator deletes one; include them in backups.
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=grant,categories=rewards
// +kubebuilder:selectablefield:JSONPath=`.spec.offer`
// +kubebuilder:selectablefield:JSONPath=`.spec.publisher`
// +kubebuilder:selectablefield:JSONPath=`.spec.benefit`
// +kubebuilder:printcolumn:name="Activation",type=string,JSONPath=`.spec.activation.name`
// +kubebuilder:printcolumn:name="Benefit",type=string,JSONPath=`.spec.benefit`
// +kubebuilder:printcolumn:name="Publisher",type=string,JSONPath=`.spec.publisher`
// +kubebuilder:printcolumn:name="Activated",type=string,JSONPath=`.spec.activatedAt`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.spec.expiresAt`
// +kubebuilder:printcolumn:name="Revoked",type=string,JSONPath=`.spec.revocation.reason`
// +kubebuilder:printcolumn:name="Offer",type=string,JSONPath=`.spec.offer`,priority=1
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.spec.program.revision`,priority=1
// +kubebuilder:printcolumn:name="Revoked At",type=string,JSONPath=`.spec.revocation.recordedAt`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BenefitGrant struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the record, written by the operator only.
	// +required
	Spec BenefitGrantSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// BenefitGrantList is a list of BenefitGrants.
type BenefitGrantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BenefitGrant `json:"items"`
}
