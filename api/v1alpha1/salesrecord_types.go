package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SalesRecordSpec is one billed line: a transaction, or a billing period's
// total, for one offer. It is written by the billing pipeline.
type SalesRecordSpec struct {
	// offerRef names the Offer sold, in the same namespace. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.offerRef is immutable"
	OfferRef LocalObjectReference `json:"offerRef"`

	// transactionId identifies the line in the billing system. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.transactionId is immutable"
	TransactionID string `json:"transactionId"`

	// amount billed, as an exact non-negative decimal string such as
	// "1234.56": at most 20 digits before an optional decimal point and 6
	// after it (rule S2). Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(0|[1-9][0-9]{0,19})([.][0-9]{1,6})?$')`,message=`spec.amount must be a decimal string such as "1234.56": digits only, at most 20 before an optional decimal point and at most 6 after it, with no sign, exponent, spaces or thousands separators`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.amount is immutable"
	Amount Money `json:"amount"`

	// currency of amount, a three-letter ISO 4217 code in upper case such as
	// USD. Lines in a currency other than the program's count only once the
	// program gives a rate (rule S2). Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[A-Z]{3}$')`,message=`spec.currency must be an ISO 4217 currency code of three upper-case letters such as "USD" or "EUR"`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.currency is immutable"
	Currency CurrencyCode `json:"currency"`

	// billedAt is when the line was billed. It decides the trailing sales
	// window (rule S4) and the seats cut-off (rule S5). Must be before
	// 9000-01-01T00:00:00Z: the operator derives the instant the line leaves
	// a trailing window, twelve months later, and every derived instant must
	// fit the API's four-digit years.
	// +required
	// +kubebuilder:validation:XValidation:rule=`self < timestamp('9000-01-01T00:00:00Z')`,message=`spec.billedAt must be before 9000-01-01T00:00:00Z`
	BilledAt metav1.Time `json:"billedAt"`

	// seats sold on this line. Count only for Microsoft 365 apps billed on or
	// before the program's seats cut-off (rule S5).
	// +optional
	// +kubebuilder:validation:Minimum=0
	Seats int64 `json:"seats,omitempty"`

	// fraud is None, Suspected or Proven. Proven lines do not count (rule S3);
	// Suspected or Proven revoke the publisher's active Transact benefits
	// (rule R3).
	// +optional
	Fraud FraudState `json:"fraud,omitempty"`

	// cancellation records that the purchase was cancelled; a cancelled line
	// does not count (rule S3) and revokes the benefits it alone unlocked
	// (rule R4).
	// +optional
	Cancellation *Cancellation `json:"cancellation,omitempty"`
}

// Cancellation of a purchase.
type Cancellation struct {
	// reason: AccidentalPurchase or CancelledBeforeUse.
	// +required
	Reason CancellationReason `json:"reason"`

	// time of the cancellation.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// SalesRecordStatus is what the operator derives about a sales line.
type SalesRecordStatus struct {
	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True once the line's counting is decided (counted
	// or excluded by a rule), False while it waits for something that can be
	// fixed (a missing offer, a missing exchange rate).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// counted is true when the line counts towards its publisher's tier.
	// +optional
	Counted bool `json:"counted"`

	// reason the line is or is not counted: Counted, OfferNotTransact,
	// FraudProven, Cancelled, NoExchangeRate, OfferNotFound or OutsideWindow.
	// +optional
	Reason string `json:"reason,omitempty"`

	// publisher of the offer sold.
	// +optional
	Publisher string `json:"publisher,omitempty"`

	// programAmount is the amount converted to the program currency, when a
	// rate is known: amount times rate, rounded half to even to 6 decimal
	// places when the exact product has more (the Ready message says so).
	// It has at most 32 digits before the point (20 of an amount, 12 of a
	// rate), within the 40 a status amount holds.
	// +optional
	ProgramAmount DerivedMoney `json:"programAmount,omitempty"`

	// programCurrency is the currency of programAmount.
	// +optional
	ProgramCurrency CurrencyCode `json:"programCurrency,omitempty"`
}

// SalesRecord is one billed line of a Transact offer. Counted lines add up to
// the publisher's billed sales; fraud and cancellations are excluded.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sr;sales,categories=rewards
// +kubebuilder:selectablefield:JSONPath=`.spec.offerRef.name`
// +kubebuilder:printcolumn:name="Offer",type=string,JSONPath=`.spec.offerRef.name`
// +kubebuilder:printcolumn:name="Amount",type=string,JSONPath=`.spec.amount`
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.spec.currency`
// +kubebuilder:printcolumn:name="Counted",type=boolean,JSONPath=`.status.counted`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reason`
// +kubebuilder:printcolumn:name="Billed At",type=date,JSONPath=`.spec.billedAt`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SalesRecord struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the billed line.
	// +required
	Spec SalesRecordSpec `json:"spec"`

	// status is written by the operator.
	// +optional
	// A schema default makes a new object read as "not yet observed"
	// (observedGeneration 0 < generation) instead of looking reconciled
	// to kstatus, Flux and Helm before the operator has seen it.
	// +kubebuilder:default={observedGeneration: 0}
	Status SalesRecordStatus `json:"status,omitempty,omitzero"`
}

// +kubebuilder:object:root=true

// SalesRecordList is a list of SalesRecords.
type SalesRecordList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SalesRecord `json:"items"`
}
