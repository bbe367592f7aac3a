package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PublisherSpec describes a marketplace publisher taking part in the program.
// +kubebuilder:validation:XValidation:rule="!has(self.marketingContact) || self.marketingContact.email.lowerAscii() != self.accountEmail.lowerAscii()",message="spec.marketingContact.email must be different from spec.accountEmail (compared case-insensitively)",fieldPath=".marketingContact.email"
type PublisherSpec struct {
	// mpnId is the publisher's Microsoft Partner Network ID: digits only,
	// required to take part and immutable once set (rule P1). Competency and
	// partner type never gate benefits.
	// +required
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[0-9]+$')`,message=`spec.mpnId must be the publisher's Microsoft Partner Network ID, digits only, such as "4761234"`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.mpnId is immutable"
	MPNID string `json:"mpnId"`

	// displayName of the company.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`

	// accountEmail is the email of the company's Partner Center account, as
	// a bare address such as partner-center@contoso.com: one @, a domain with
	// a dot, no display name, comment or spaces, so that rule P3 can compare
	// it.
	// +required
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[^\\s@<>()",;]+@[^\\s@<>()",;.]+([.][^\\s@<>()",;.]+)+$')`,message=`spec.accountEmail must be a bare email address such as "partner-center@contoso.com": one @ and a domain with a dot, without a display name, comment or spaces`
	AccountEmail string `json:"accountEmail"`

	// enrolled is the act of enrolling in the program (rule P2). Not enrolled:
	// the tier is still computed and shown, but no benefit becomes Active.
	// +optional
	Enrolled bool `json:"enrolled,omitempty"`

	// programRef names the cluster-scoped RewardsProgram this publisher
	// follows. Empty: the program named "default".
	// +optional
	ProgramRef *ProgramReference `json:"programRef,omitempty"`

	// marketingContact receives the program's follow-up communications.
	// Marketing and Sales benefits need one; Technical benefits do not
	// (rule P4). Its email must differ from accountEmail (rule P3).
	// +optional
	MarketingContact *MarketingContact `json:"marketingContact,omitempty"`

	// violations are compliance findings against the publisher (rule P5).
	// While any is recorded, active benefits are revoked and none can become
	// active (rule R1); removing it lets pending benefits proceed.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Violations []Violation `json:"violations,omitempty"`
}

// MarketingContact is the person the Rewards team contacts about activated
// benefits.
type MarketingContact struct {
	// user is the Partner Center user assigned as marketing contact.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	User string `json:"user"`

	// email of the contact, a bare address like accountEmail; must differ
	// from the publisher's accountEmail (rule P3).
	// +required
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[^\\s@<>()",;]+@[^\\s@<>()",;.]+([.][^\\s@<>()",;.]+)+$')`,message=`spec.marketingContact.email must be a bare email address such as "jane@contoso.com": one @ and a domain with a dot, without a display name, comment or spaces`
	Email string `json:"email"`

	// phone of the contact in E.164 form: a plus sign and up to 15 digits,
	// for example +14255550100.
	// +required
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:Pattern=`^\+[1-9][0-9]{1,14}$`
	Phone string `json:"phone"`

	// preferredLanguage of the contact as a BCP 47 language tag, for example
	// en, en-US or zh-Hans-CN.
	// +required
	// +kubebuilder:validation:MaxLength=35
	// +kubebuilder:validation:Pattern=`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`
	PreferredLanguage string `json:"preferredLanguage"`
}

// Violation is one compliance finding (rule P5).
type Violation struct {
	// type of the finding.
	// +required
	Type ViolationType `json:"type"`

	// time the finding was made.
	// +required
	Time metav1.Time `json:"time"`

	// note explaining the finding.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Note string `json:"note,omitempty"`
}

// Standing summarises a publisher's compliance.
// +kubebuilder:validation:Enum=Good;Violation
type Standing string

// The standings: no violation recorded, or one recorded (rule P5).
const (
	StandingGood      Standing = "Good"
	StandingViolation Standing = "Violation"
)

// PublisherStatus is what the operator derives about a publisher.
type PublisherStatus struct {
	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True once the tier is computed from a valid
	// program, False with a reason (ProgramNotFound, ProgramInvalid, …)
	// otherwise.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// program is the name of the RewardsProgram in force for this publisher.
	// +optional
	Program string `json:"program,omitempty"`

	// tier reached (rule S6); 0 means no tier (no live Transact offer).
	// +optional
	Tier int32 `json:"tier,omitempty"`

	// tierName of the tier reached.
	// +optional
	TierName string `json:"tierName,omitempty"`

	// billedSales counted towards tiers, in program currency, over the
	// program's window, after fraud and cancellations are removed (S3, S4):
	// the exact sum of the lines' program amounts, up to 40 digits before the
	// point. Absent, with Ready False (ValueOutOfRange), should it not fit.
	// +optional
	BilledSales DerivedMoney `json:"billedSales,omitempty"`

	// currency of billedSales: the program currency.
	// +optional
	Currency CurrencyCode `json:"currency,omitempty"`

	// seats counted towards seats thresholds (rule S5).
	// +optional
	Seats int64 `json:"seats,omitempty"`

	// nextTier and what is missing to reach it (rule S7). Absent at the top
	// tier.
	// +optional
	NextTier *TierProgress `json:"nextTier,omitempty"`

	// offers counts the publisher's offers by listing type.
	// +optional
	Offers OfferCounts `json:"offers,omitempty,omitzero"`

	// salesRecords counts the publisher's sales lines, counted or not.
	// +optional
	SalesRecords SalesRecordCounts `json:"salesRecords,omitempty,omitzero"`

	// standing is Good, or Violation while spec.violations is not empty.
	// +optional
	Standing Standing `json:"standing,omitempty"`

	// nextChangeAt is the next instant at which the tier computation changes
	// by itself (a sales line ageing out, a scheduled offer going live).
	// +optional
	NextChangeAt *metav1.Time `json:"nextChangeAt,omitempty"`

	// revocations is the publisher's revocation history, read from the
	// BenefitGrants of its offers: each revocation once, newest recordedAt
	// first, at most 50 entries.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	Revocations []RevocationRecord `json:"revocations,omitempty"`

	// revocationCount is the number of revoked BenefitGrants of the
	// publisher, including those beyond the bounded history.
	// +optional
	RevocationCount int64 `json:"revocationCount,omitempty"`

	// breakdown explains billedSales: where the counted billed sales come
	// from, offer by offer, and what was left out and why.
	// +optional
	Breakdown SalesBreakdown `json:"breakdown,omitempty,omitzero"`

	// forecast says when the tier drops by itself if nothing new is billed,
	// as sales lines age out of a Trailing12Months window. Absent under a
	// Lifetime window, without a tier, or when nothing known makes the tier
	// drop.
	// +optional
	Forecast *TierForecast `json:"forecast,omitempty"`
}

// SalesBreakdown is where a publisher's billed sales come from (rules S1–S4).
type SalesBreakdown struct {
	// offers lists the billed sales counted from each Transact offer that
	// has counted lines, largest first (by name when equal), at most 20;
	// others sums the rest.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Offers []OfferSales `json:"offers,omitempty"`

	// others sums the counted billed sales of the offers beyond the largest
	// 20. Absent when there are no more than 20.
	// +optional
	Others *OtherOffersSales `json:"others,omitempty"`

	// excluded sums the sales lines left out of billedSales, per reason
	// (the reason their SalesRecord's status shows): FraudProven and
	// Cancelled (S3), NoExchangeRate (S2), OutsideWindow (S4: billed in
	// the future, or aged out of a Trailing12Months window),
	// OfferNotTransact (S1), OfferNotFound. Reasons with no line are
	// omitted.
	// +optional
	// +listType=map
	// +listMapKey=reason
	// +kubebuilder:validation:MaxItems=7
	Excluded []ExcludedSales `json:"excluded,omitempty"`
}

// OfferSales is the billed sales counted from one offer.
type OfferSales struct {
	// offer is the name of the Offer.
	// +kubebuilder:validation:MaxLength=253
	Offer string `json:"offer"`

	// billedSales counted from the offer's lines, in program currency.
	BilledSales DerivedMoney `json:"billedSales"`

	// lines is the number of the offer's sales lines counted.
	Lines int32 `json:"lines"`
}

// OtherOffersSales sums the offers a breakdown does not list one by one.
type OtherOffersSales struct {
	// offers is how many offers are summed here.
	Offers int32 `json:"offers"`

	// billedSales counted from their lines, in program currency.
	BilledSales DerivedMoney `json:"billedSales"`

	// lines is the number of their sales lines counted.
	Lines int32 `json:"lines"`
}

// ExcludedSalesReason is why sales lines are left out of billed sales; the
// reasons of a SalesRecord's status.
// +kubebuilder:validation:Enum=FraudProven;Cancelled;NoExchangeRate;OutsideWindow;OfferNotTransact;OfferNotFound;InvalidAmount
type ExcludedSalesReason string

// ExcludedSales sums the sales lines left out for one reason.
type ExcludedSales struct {
	// reason the lines are left out.
	Reason ExcludedSalesReason `json:"reason"`

	// lines is the number of lines left out for this reason.
	Lines int32 `json:"lines"`

	// amount of those lines in program currency, summing the lines whose
	// currency is the program's or has a rate.
	Amount DerivedMoney `json:"amount"`

	// linesWithoutRate is how many of the lines are not in amount because
	// the program has no rate for their currency (all of them for
	// NoExchangeRate).
	// +optional
	LinesWithoutRate int32 `json:"linesWithoutRate,omitempty"`
}

// TierForecast is when a publisher's tier first drops below the tier it
// has now, by itself, with the sales lines and offers known now and
// nothing new billed: counted lines
// leave a Trailing12Months window at the exact instant they are twelve
// calendar months old (S4), and the last live Transact offer being
// delisted ends every tier (S6). The operator recomputes it at each of
// those instants.
type TierForecast struct {
	// dropsAt is the instant the tier drops.
	DropsAt metav1.Time `json:"dropsAt"`

	// tier it drops to; 0 means no tier.
	Tier int32 `json:"tier"`

	// tierName of that tier.
	// +optional
	TierName string `json:"tierName,omitempty"`

	// billedSales counted from dropsAt on, in program currency.
	BilledSales DerivedMoney `json:"billedSales"`

	// seats counted from dropsAt on (rule S5).
	// +optional
	Seats int64 `json:"seats,omitempty"`
}

// TierProgress is the next tier and the gap to it.
type TierProgress struct {
	// level of the next tier.
	Level int32 `json:"level"`

	// name of the next tier.
	// +optional
	Name string `json:"name,omitempty"`

	// billedSalesMissing is how much more billed sales, in program currency,
	// reaches the next tier.
	// +optional
	BilledSalesMissing DerivedMoney `json:"billedSalesMissing,omitempty"`

	// seatsMissing is how many more seats reach the next tier, when the tier
	// has a seats threshold that can still be reached.
	// +optional
	SeatsMissing *int64 `json:"seatsMissing,omitempty"`

	// needsLiveTransactOffer is true when the publisher has no live Transact
	// offer, without which no tier is reached.
	// +optional
	NeedsLiveTransactOffer bool `json:"needsLiveTransactOffer,omitempty"`
}

// OfferCounts counts offers by listing type.
type OfferCounts struct {
	// +optional
	List int32 `json:"list,omitempty"`
	// +optional
	Trial int32 `json:"trial,omitempty"`
	// +optional
	Consulting int32 `json:"consulting,omitempty"`
	// +optional
	Transact int32 `json:"transact,omitempty"`
	// live is the number of offers currently Live.
	// +optional
	Live int32 `json:"live,omitempty"`
}

// SalesRecordCounts counts sales lines.
type SalesRecordCounts struct {
	// counted lines, included in billedSales.
	// +optional
	Counted int32 `json:"counted,omitempty"`
	// excluded lines: fraud, cancelled, not Transact, outside the window, or
	// waiting for an exchange rate.
	// +optional
	Excluded int32 `json:"excluded,omitempty"`
}

// RevocationReason is why a benefit was revoked (rules R1–R4).
// +kubebuilder:validation:Enum=Violation;OfferDelisted;Fraud;Cancellation
type RevocationReason string

// The revocation reasons (rules R1–R4).
const (
	RevocationViolation     RevocationReason = "Violation"
	RevocationOfferDelisted RevocationReason = "OfferDelisted"
	RevocationFraud         RevocationReason = "Fraud"
	RevocationCancellation  RevocationReason = "Cancellation"
)

// ObjectReference names the object, in the same namespace, whose state
// caused a revocation: a Publisher (a violation, R1), an Offer (its
// delisting, R2) or a SalesRecord (fraud or a cancellation, R3, R4).
type ObjectReference struct {
	// kind of the object: Publisher, Offer or SalesRecord.
	// +kubebuilder:validation:Enum=Publisher;Offer;SalesRecord
	Kind string `json:"kind"`
	// name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// RevocationRecord is one entry in a publisher's revocation history, read
// from the revoked BenefitGrants of its offers.
type RevocationRecord struct {
	// activation that was revoked.
	Activation string `json:"activation"`
	// benefit that was revoked.
	// +optional
	Benefit string `json:"benefit,omitempty"`
	// reason of the revocation.
	Reason RevocationReason `json:"reason"`
	// message for people.
	// +optional
	Message string `json:"message,omitempty"`
	// causedBy is the object whose state caused the revocation.
	// +optional
	CausedBy *ObjectReference `json:"causedBy,omitempty"`
	// causeTime is the cause's own instant, from its spec, when it has one.
	// +optional
	CauseTime *metav1.Time `json:"causeTime,omitempty"`
	// recordedAt is when the operator recorded the revocation.
	// +optional
	RecordedAt *metav1.Time `json:"recordedAt,omitempty"`
	// time is recordedAt.
	// Deprecated: kept for clients of earlier versions; read recordedAt.
	Time metav1.Time `json:"time"`
}

// Publisher is a company publishing offers in the commercial marketplace and
// taking part in Marketplace Rewards. The operator computes its tier from the
// billed sales of its Transact offers.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pub,categories=rewards
// +kubebuilder:printcolumn:name="MPN ID",type=string,JSONPath=`.spec.mpnId`
// +kubebuilder:printcolumn:name="Tier",type=integer,JSONPath=`.status.tier`
// +kubebuilder:printcolumn:name="Billed Sales",type=string,JSONPath=`.status.billedSales`
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.status.currency`,priority=1
// +kubebuilder:printcolumn:name="Standing",type=string,JSONPath=`.status.standing`,priority=1
// +kubebuilder:printcolumn:name="Next Tier",type=integer,JSONPath=`.status.nextTier.level`,priority=1
// +kubebuilder:printcolumn:name="Drops At",type=string,JSONPath=`.status.forecast.dropsAt`,priority=1
// +kubebuilder:printcolumn:name="Drops To",type=integer,JSONPath=`.status.forecast.tier`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Publisher struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec describes the publisher.
	// +required
	Spec PublisherSpec `json:"spec"`

	// status is written by the operator.
	// +optional
	// A schema default makes a new object read as "not yet observed"
	// (observedGeneration 0 < generation) instead of looking reconciled
	// to kstatus, Flux and Helm before the operator has seen it.
	// +kubebuilder:default={observedGeneration: 0}
	Status PublisherStatus `json:"status,omitempty,omitzero"`
}

// +kubebuilder:object:root=true

// PublisherList is a list of Publishers.
type PublisherList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Publisher `json:"items"`
}
