package v1alpha1

// Names shared by several kinds: references, enums and condition vocabulary.

// LocalObjectReference names an object of a known kind in the same namespace
// as the object holding the reference. There are no cross-namespace
// references in this API.
type LocalObjectReference struct {
	// name of the referenced object, in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// ProgramReference names a cluster-scoped RewardsProgram.
type ProgramReference struct {
	// name of the RewardsProgram.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// Money is an exact, non-negative decimal amount written as a string, for
// example "25000" or "1234.56": at most 20 digits before an optional decimal
// point and 6 after it, no sign, exponent, spaces or thousands separators.
// It is never a floating-point number: amounts are summed exactly (rule S2).
// Each spec field of this type checks the form with a CEL rule of its own,
// whose message names the field (an OpenAPI pattern would show the raw
// regular expression instead).
// +kubebuilder:validation:MaxLength=32
type Money string

// DerivedMoney is an exact, non-negative decimal amount the operator derives
// into status: a line converted at an exchange rate, a sum of lines, a gap to
// a threshold. Same form as Money, with up to 40 digits before the point:
// the largest admitted amount (20 digits) times the largest rate (12)
// has 32, and summing more lines than a cluster can store adds fewer than 8.
// +kubebuilder:validation:MaxLength=47
// +kubebuilder:validation:Pattern=`^(0|[1-9][0-9]{0,39})(\.[0-9]{1,6})?$`
type DerivedMoney string

// CurrencyCode is a three-letter ISO 4217 currency code in upper case, for
// example USD or EUR. Each spec field of this type checks the form with a
// CEL rule whose message names the field.
// +kubebuilder:validation:MaxLength=3
type CurrencyCode string

// Storefront is where an offer is published (rule O1).
// +kubebuilder:validation:Enum=AzureMarketplace;AppSource
type Storefront string

// The storefronts an offer can be published on.
const (
	StorefrontAzureMarketplace Storefront = "AzureMarketplace"
	StorefrontAppSource        Storefront = "AppSource"
)

// ListingType is how customers acquire an offer (rule O1). A "Get It Now
// (Free)" offer is a Trial; a bring-your-own-license offer is a List.
// +kubebuilder:validation:Enum=List;Trial;Consulting;Transact
type ListingType string

// The listing types (rule O1).
const (
	ListingTypeList       ListingType = "List"
	ListingTypeTrial      ListingType = "Trial"
	ListingTypeConsulting ListingType = "Consulting"
	ListingTypeTransact   ListingType = "Transact"
)

// AllListingTypes lists every listing type in a stable order.
var AllListingTypes = []ListingType{ListingTypeList, ListingTypeTrial, ListingTypeConsulting, ListingTypeTransact}

// BenefitCategory groups the benefits of the catalog (rule B1).
// +kubebuilder:validation:Enum=Marketing;Sales;Technical
type BenefitCategory string

// The benefit categories (rule B1).
const (
	BenefitCategoryMarketing BenefitCategory = "Marketing"
	BenefitCategorySales     BenefitCategory = "Sales"
	BenefitCategoryTechnical BenefitCategory = "Technical"
)

// ViolationType is a kind of compliance finding against a publisher (rule P5).
// +kubebuilder:validation:Enum=IllegalActivity;CopyrightOrTrademark;SponsorshipPolicy;Delisted
type ViolationType string

const (
	// ViolationIllegalActivity means illegal activity using a marketplace listing.
	ViolationIllegalActivity ViolationType = "IllegalActivity"
	// ViolationCopyrightOrTrademark means an offer shows content that violates
	// copyright or trademark law.
	ViolationCopyrightOrTrademark ViolationType = "CopyrightOrTrademark"
	// ViolationSponsorshipPolicy means Azure sponsorship was used against its policy,
	// for example for internal operations or bitcoin mining.
	ViolationSponsorshipPolicy ViolationType = "SponsorshipPolicy"
	// ViolationDelisted means the publisher was de-listed from the marketplace.
	ViolationDelisted ViolationType = "Delisted"
)

// FraudState says whether a sales line is known or believed to be fraudulent
// (rules S3 and R3).
// +kubebuilder:validation:Enum=None;Suspected;Proven
type FraudState string

// The fraud states: none known, suspected, or proven (rule S3).
const (
	FraudNone      FraudState = "None"
	FraudSuspected FraudState = "Suspected"
	FraudProven    FraudState = "Proven"
)

// CancellationReason is why a purchase was cancelled (rule S3).
// +kubebuilder:validation:Enum=AccidentalPurchase;CancelledBeforeUse
type CancellationReason string

const (
	// CancellationAccidentalPurchase means the customer bought by accident and
	// wishes to cancel.
	CancellationAccidentalPurchase CancellationReason = "AccidentalPurchase"
	// CancellationBeforeUse means the customer cancelled before using the product.
	CancellationBeforeUse CancellationReason = "CancelledBeforeUse"
)

// SalesWindow is the period over which billed sales are summed (rule S4).
// +kubebuilder:validation:Enum=Lifetime;Trailing12Months
type SalesWindow string

// The sales windows: every billed line, or the twelve months before now (rule S4).
const (
	SalesWindowLifetime         SalesWindow = "Lifetime"
	SalesWindowTrailing12Months SalesWindow = "Trailing12Months"
)

// Condition types used across the kinds.
const (
	// ConditionReady answers the question of someone waiting on the object:
	// is the program valid, is the publisher's tier computed, is the offer
	// evaluated, is the sales line decided, is the benefit active?
	ConditionReady = "Ready"
	// ConditionStalled is True on a revoked BenefitActivation: a final
	// outcome that needs a person, which kstatus reads as Failed. As in Flux,
	// Stalled means failure, never a normal end: an Expired activation ran
	// its course and is Ready.
	ConditionStalled = "Stalled"
	// ConditionContactOverdue is True on an Active BenefitActivation whose
	// contactDueBy has passed without contactedAt (rule B4).
	ConditionContactOverdue = "ContactOverdue"
	// ConditionFollowUpNeeded is True on an Offer live for longer than the
	// follow-up period with no contacted activation (rule O5).
	ConditionFollowUpNeeded = "FollowUpNeeded"
)
