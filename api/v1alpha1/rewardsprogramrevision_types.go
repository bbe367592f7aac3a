package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabelProgram is the label on every RewardsProgramRevision naming its
// RewardsProgram.
const LabelProgram = "rewards.marketplace.io/program"

// RewardsProgramRevisionSpec is one set of rules a RewardsProgram had when
// the operator found them valid.
type RewardsProgramRevisionSpec struct {
	// program whose rules these are, by name. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.program of a RewardsProgramRevision is immutable"
	Program string `json:"program"`

	// revision orders the revisions of one program: the highest is the
	// last rules found valid, which stay in force while a newer spec is
	// not valid. It only grows: rules that come back (a spec set back to
	// earlier rules) keep their revision object, renumbered past the
	// others, as a ControllerRevision is.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:XValidation:rule="self >= oldSelf",message="spec.revision of a RewardsProgramRevision can only grow"
	Revision int64 `json:"revision"`

	// programGeneration is the program's metadata.generation when these
	// rules were last found valid, for people: a program deleted and
	// created again starts its generations over.
	// +optional
	ProgramGeneration int64 `json:"programGeneration,omitempty"`

	// rules are the program's spec as it was. Immutable: the revision's
	// name ends with a hash of them.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.rules of a RewardsProgramRevision are immutable"
	Rules RewardsProgramSpec `json:"rules"`
}

// RewardsProgramRevision is the operator's durable record of the rules a
// RewardsProgram had in force, kept apart from the program's status so
// that wiping a status never loses them (as Kubernetes keeps a
// StatefulSet's history in ControllerRevisions). Its name is the
// program's followed by a hash of the rules. The operator writes one when
// it first finds a program's spec valid; while a later spec is not valid,
// the rules of the highest revision stay in force. Each BenefitGrant names
// the revision it was granted under. Only the operator writes revisions;
// include them in backups with the grants.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=rprev,categories=rewards
// +kubebuilder:selectablefield:JSONPath=`.spec.program`
// +kubebuilder:printcolumn:name="Program",type=string,JSONPath=`.spec.program`
// +kubebuilder:printcolumn:name="Revision",type=integer,JSONPath=`.spec.revision`
// +kubebuilder:printcolumn:name="Generation",type=integer,JSONPath=`.spec.programGeneration`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RewardsProgramRevision struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the record, written by the operator only.
	// +required
	Spec RewardsProgramRevisionSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// RewardsProgramRevisionList is a list of RewardsProgramRevisions.
type RewardsProgramRevisionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RewardsProgramRevision `json:"items"`
}
