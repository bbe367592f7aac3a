package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultProgramName is the RewardsProgram a Publisher follows when its
// spec.programRef is empty.
const DefaultProgramName = "default"

// Program defaults. They live in code, not in the schema, so that GitOps tools
// never see a drift between what was applied and what the API server stored.
const (
	DefaultCurrency                    CurrencyCode = "USD"
	DefaultSalesWindow                              = SalesWindowLifetime
	DefaultEngagementMonths            int32        = 3
	DefaultTrialConsultingExpiryMonths int32        = 3
	DefaultContactDueDays              int32        = 7
	DefaultFollowUpAfterDays           int32        = 28
	DefaultFraudRevocationScope                     = FraudScopePublisher
	// DefaultSeatsCutoff is the last instant at which sold seats count (S5):
	// the end of 30 June 2021, UTC.
	DefaultSeatsCutoff = "2021-06-30T23:59:59Z"
)

// RewardsProgramSpec holds the rules of the program as data. Every field is
// optional except the tiers and the catalog; an unset field takes the
// program's documented default, applied by the operator (not by the schema).
// +kubebuilder:validation:XValidation:rule="!has(self.exchangeRates) || self.exchangeRates.all(r, r.currency != (has(self.currency) ? self.currency : 'USD'))",message="spec.exchangeRates must not give a rate for the program currency itself (spec.currency, USD when unset)",fieldPath=".exchangeRates"
// The three rules below compare tiers with the catalog. sets.contains and
// sets.intersects cost one unit per pair of names, where an exists() macro
// costs some thirty: that keeps the largest program (20 tiers naming 100
// benefits each, a catalog of 200) within the API server's cost limits.
// Their messages name the first offending benefit, using only expressions
// whose size the cost estimator knows (a list of names, filtered and
// indexed): string() of a number, an object picked out of a filtered list,
// or a list joined into a string are estimated at the largest request
// size, far beyond the limits.
//
// +kubebuilder:validation:XValidation:rule=`self.tiers.all(t, !has(t.benefits) || sets.contains(self.benefits.map(b, b.name), t.benefits))`,message="spec.tiers[].benefits must name benefits of the catalog, spec.benefits",messageExpression=`'spec.tiers[].benefits must name benefits of the catalog, spec.benefits: "' + self.tiers.filter(t, has(t.benefits) && !sets.contains(self.benefits.map(b, b.name), t.benefits))[0].benefits.filter(n, !(n in self.benefits.map(b, b.name)))[0] + '" is not in it'`,fieldPath=".tiers"
// +kubebuilder:validation:XValidation:rule=`self.tiers.all(t, !has(t.benefits) || !sets.intersects(self.benefits.filter(b, !('Transact' in b.listingTypes)).map(b, b.name), t.benefits))`,message="spec.tiers[].benefits must name benefits for Transact offers (whose spec.benefits[].listingTypes include Transact)",messageExpression=`'spec.tiers[].benefits must name benefits for Transact offers (whose spec.benefits[].listingTypes include Transact): "' + self.tiers.filter(t, has(t.benefits) && sets.intersects(self.benefits.filter(b, !('Transact' in b.listingTypes)).map(b, b.name), t.benefits))[0].benefits.filter(n, n in self.benefits.filter(b, !('Transact' in b.listingTypes)).map(b, b.name))[0] + '" is not for Transact'`,fieldPath=".tiers"
// +kubebuilder:validation:XValidation:rule=`self.benefits.all(b, !('Transact' in b.listingTypes) || self.tiers.exists(t, has(t.benefits) && b.name in t.benefits))`,message="spec.benefits[] for Transact offers must each be unlocked by a tier (named in some spec.tiers[].benefits)",messageExpression=`'spec.benefits[] for Transact offers must each be unlocked by a tier (named in some spec.tiers[].benefits): no tier unlocks "' + self.benefits.map(b, 'Transact' in b.listingTypes && !self.tiers.exists(t, has(t.benefits) && b.name in t.benefits) ? b.name : "").filter(n, n != "")[0] + '"'`,fieldPath=".benefits"
type RewardsProgramSpec struct {
	// description of the program, for people.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`

	// currency in which thresholds are expressed and billed sales are summed
	// (rule S2), a three-letter ISO 4217 code in upper case. Defaults to USD.
	// +optional
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[A-Z]{3}$')`,message=`spec.currency must be an ISO 4217 currency code of three upper-case letters such as "USD" or "EUR"`
	Currency CurrencyCode `json:"currency,omitempty"`

	// exchangeRates convert sales lines billed in another currency into the
	// program currency: one entry per currency, none for the program currency
	// itself. A line in a currency without a rate is not counted, and says
	// why, until a rate is added (rule S2). A converted amount is the exact
	// product of amount and rate, rounded once per line to 6 decimal places,
	// half to even (banker's rounding: 0.0000005 becomes 0.000000 and
	// 0.0000015 becomes 0.000002); a line whose amount was rounded says so in
	// its Ready message, and billed sales are the exact sum of the rounded
	// lines.
	// +optional
	// +listType=map
	// +listMapKey=currency
	// +kubebuilder:validation:MaxItems=200
	ExchangeRates []ExchangeRate `json:"exchangeRates,omitempty"`

	// salesWindow is the period over which billed sales are summed (rule S4):
	// Lifetime (cumulative, the default) or Trailing12Months, in which a line
	// leaves the sum at the exact instant it is twelve calendar months old.
	// +optional
	SalesWindow SalesWindow `json:"salesWindow,omitempty"`

	// seatsCutoff is the last instant at which sold seats count towards a
	// seats threshold (rule S5). Defaults to 2021-06-30T23:59:59Z.
	// +optional
	SeatsCutoff *metav1.Time `json:"seatsCutoff,omitempty"`

	// durations of the program's time-bound rules.
	// +optional
	Durations ProgramDurations `json:"durations,omitempty,omitzero"`

	// revocation policy (rules R3 and R5).
	// +optional
	Revocation RevocationPolicy `json:"revocation,omitempty,omitzero"`

	// (The rule on thresholds compares two only once both are well-formed:
	// quantity() fails on anything else, and the rule on minBilledSales
	// reports those.)

	// tiers for Transact publishers, in increasing order of level; each one
	// unlocks its own benefits and those of all lower tiers (rule S6).
	// Thresholds must strictly increase with the level.
	// +required
	// +listType=map
	// +listMapKey=level
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:XValidation:rule=`self.all(a, self.all(b, a.level < b.level && a.minBilledSales.matches('^(0|[1-9][0-9]{0,19})([.][0-9]{1,6})?$') && b.minBilledSales.matches('^(0|[1-9][0-9]{0,19})([.][0-9]{1,6})?$') ? quantity(a.minBilledSales).isLessThan(quantity(b.minBilledSales)) : true))`,message="spec.tiers[].minBilledSales must strictly increase with the tier level"
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.all(b, a.level < b.level && has(a.minSeats) && has(b.minSeats) ? a.minSeats < b.minSeats : true))",message="spec.tiers[].minSeats must strictly increase with the tier level"
	Tiers []Tier `json:"tiers"`

	// benefits is the catalog: every benefit a BenefitActivation may name
	// (rule B1).
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=200
	Benefits []Benefit `json:"benefits"`
}

// ExchangeRate converts one currency into the program currency.
type ExchangeRate struct {
	// currency converted from, a three-letter ISO 4217 code in upper case.
	// +required
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[A-Z]{3}$')`,message=`spec.exchangeRates[].currency must be an ISO 4217 currency code of three upper-case letters such as "EUR"`
	Currency CurrencyCode `json:"currency"`

	// rate is how many units of the program currency one unit of this
	// currency is worth, as an exact positive decimal string such as "1.08":
	// at most 12 digits before an optional decimal point and 12 after it.
	// +required
	// +kubebuilder:validation:MaxLength=25
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[0-9]{1,12}([.][0-9]{1,12})?$')`,message=`spec.exchangeRates[].rate must be a decimal string such as "1.08": digits only, at most 12 before an optional decimal point and at most 12 after it, with no sign, exponent, spaces or thousands separators`
	// +kubebuilder:validation:XValidation:rule=`!self.matches('^[0-9]{1,12}([.][0-9]{1,12})?$') || self.matches('[1-9]')`,message="spec.exchangeRates[].rate must be greater than zero"
	Rate string `json:"rate"`
}

// ProgramDurations are the lengths of the program's time-bound rules. Unset
// fields take the defaults shown.
type ProgramDurations struct {
	// engagementMonths is how long an engagement manager works with a List,
	// Trial or Consulting offer after it goes live (rule O3). Default 3.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=120
	EngagementMonths *int32 `json:"engagementMonths,omitempty"`

	// trialConsultingExpiryMonths is when Trial and Consulting benefits
	// expire, counted in calendar months from the offer's liveAt (rule O4).
	// Default 3.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=120
	TrialConsultingExpiryMonths *int32 `json:"trialConsultingExpiryMonths,omitempty"`

	// listExpiryMonths makes List benefits expire too, in calendar months
	// from the offer's liveAt. Unset (the default): List benefits never
	// expire (rule O4).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=120
	ListExpiryMonths *int32 `json:"listExpiryMonths,omitempty"`

	// contactDueDays is how long the Rewards team has to contact the
	// marketing contact once a benefit is active (rule B4). Default 7.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=365
	ContactDueDays *int32 `json:"contactDueDays,omitempty"`

	// followUpAfterDays is how long an offer may be live with no contacted
	// activation before it shows a follow-up hint (rule O5). Default 28.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=365
	FollowUpAfterDays *int32 `json:"followUpAfterDays,omitempty"`
}

// FraudRevocationScope is what a fraudulent purchase revokes (rule R3).
// +kubebuilder:validation:Enum=Publisher;Offer
type FraudRevocationScope string

const (
	// FraudScopePublisher revokes every active Transact benefit of the
	// publisher.
	FraudScopePublisher FraudRevocationScope = "Publisher"
	// FraudScopeOffer revokes only the active benefits of the offer the
	// fraudulent purchase was made on.
	FraudScopeOffer FraudRevocationScope = "Offer"
)

// RevocationPolicy tunes rules R3 and R5.
type RevocationPolicy struct {
	// fraudScope is what a purchase with fraud Suspected or Proven revokes:
	// Publisher (the default) or Offer (rule R3).
	// +optional
	FraudScope FraudRevocationScope `json:"fraudScope,omitempty"`

	// keepUnlockedBenefits keeps active benefits when a tier drops only
	// because sales aged out of a trailing window (rule R5). Default true.
	// +optional
	KeepUnlockedBenefits *bool `json:"keepUnlockedBenefits,omitempty"`
}

// Tier is one level of the Transact program (rule S6).
type Tier struct {
	// level of the tier, 1 being the lowest.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=20
	Level int32 `json:"level"`

	// name shown to people, for example "Tier 2". Defaults to "Tier <level>".
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name,omitempty"`

	// minBilledSales, in program currency, that reaches this tier, as an
	// exact decimal string such as "25000" or "99999.99". "0" means any
	// publisher with a live Transact offer.
	// +required
	// +kubebuilder:validation:XValidation:rule=`self.matches('^(0|[1-9][0-9]{0,19})([.][0-9]{1,6})?$')`,message=`spec.tiers[].minBilledSales must be a decimal string such as "25000" or "99999.99": digits only, at most 20 before an optional decimal point and at most 6 after it, with no sign, exponent, spaces or thousands separators`
	MinBilledSales Money `json:"minBilledSales"`

	// minSeats sold (Microsoft 365 apps only, rule S5) that also reach this
	// tier. Unset: seats do not reach this tier.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MinSeats *int64 `json:"minSeats,omitempty"`

	// benefits this tier unlocks, by catalog name. A tier also unlocks every
	// lower tier's benefits.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=63
	Benefits []string `json:"benefits,omitempty"`
}

// Benefit is one entry of the program's catalog (rule B1).
type Benefit struct {
	// name by which BenefitActivations and tiers refer to the benefit.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// displayName shown to people.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`

	// category of the benefit. Marketing and Sales benefits need a marketing
	// contact on the publisher; Technical ones do not (rule P4).
	// +required
	Category BenefitCategory `json:"category"`

	// listingTypes of the offers the benefit is for. A Transact benefit is
	// unlocked by the lowest tier that lists it.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=4
	ListingTypes []ListingType `json:"listingTypes"`

	// description of what the partner gets.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`
}

// RewardsProgramStatus is what the operator derives about a program.
type RewardsProgramStatus struct {
	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True when the rules are consistent and in force,
	// False with a reason naming the inconsistency otherwise.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// rulesGeneration is the generation of the spec whose rules are in force:
	// the last one found valid; 0 while none ever was (the program then
	// decides nothing: publishers following it get no tier).
	// +optional
	RulesGeneration int64 `json:"rulesGeneration,omitempty"`

	// revision names the RewardsProgramRevision holding the rules in
	// force: the spec's when it is valid, else the last valid ones. The
	// revision, not this status, is what keeps them: a status wiped while
	// the spec is not valid is rebuilt from it.
	// +optional
	Revision string `json:"revision,omitempty"`

	// rulesInForce is a copy of the rules of the revision in force: the
	// rules the operator decides with while a newer spec is not valid.
	// +optional
	RulesInForce *RewardsProgramSpec `json:"rulesInForce,omitempty"`

	// tiers is the number of tiers defined.
	// +optional
	Tiers int32 `json:"tiers,omitempty"`

	// benefits is the number of benefits in the catalog.
	// +optional
	Benefits int32 `json:"benefits,omitempty"`
}

// RewardsProgram holds the rules of the Marketplace Rewards program as data:
// tiers, the benefit catalog, exchange rates, the sales window and the
// durations of time-bound rules. Publishers follow the program named in their
// spec.programRef, or the one named "default".
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=rp;rprog,categories=rewards
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.spec.currency`
// +kubebuilder:printcolumn:name="Window",type=string,JSONPath=`.spec.salesWindow`
// +kubebuilder:printcolumn:name="Tiers",type=integer,JSONPath=`.status.tiers`
// +kubebuilder:printcolumn:name="Benefits",type=integer,JSONPath=`.status.benefits`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.revision`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RewardsProgram struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec holds the program's rules.
	// +required
	Spec RewardsProgramSpec `json:"spec"`

	// status is written by the operator.
	// +optional
	// A schema default makes a new object read as "not yet observed"
	// (observedGeneration 0 < generation) instead of looking reconciled
	// to kstatus, Flux and Helm before the operator has seen it.
	// +kubebuilder:default={observedGeneration: 0}
	Status RewardsProgramStatus `json:"status,omitempty,omitzero"`
}

// +kubebuilder:object:root=true

// RewardsProgramList is a list of RewardsPrograms.
type RewardsProgramList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RewardsProgram `json:"items"`
}
