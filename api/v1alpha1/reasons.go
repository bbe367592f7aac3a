package v1alpha1

// The reasons of conditions and Events. They are API: `kubectl wait`,
// alerts, Argo CD health checks and people's scripts match on them, so
// they are named once, here.

// Reasons of the Ready condition and of the other conditions.
const (
	// ReasonValid: a RewardsProgram whose spec is consistent; its rules are
	// in force.
	ReasonValid = "Valid"
	// Reasons of a RewardsProgram whose spec is not consistent (admission
	// refuses these; the operator checks again, defence in depth).
	ReasonUnknownBenefit     = "UnknownBenefit"
	ReasonBenefitNotTransact = "BenefitNotTransact"
	ReasonUnreachableBenefit = "UnreachableBenefit"
	ReasonInvalidThreshold   = "InvalidThreshold"
	ReasonInvalidRate        = "InvalidRate"
	ReasonTiersNotIncreasing = "TiersNotIncreasing"

	// ReasonTierComputed: a Publisher's tier is computed under rules in
	// force.
	ReasonTierComputed = "TierComputed"

	// References that admission cannot check, on any kind that has them.
	ReasonOfferNotFound     = "OfferNotFound"
	ReasonPublisherNotFound = "PublisherNotFound"
	ReasonProgramNotFound   = "ProgramNotFound"
	// ReasonProgramInvalid: the program was never valid, so no rules are
	// in force.
	ReasonProgramInvalid = "ProgramInvalid"
	// ReasonValueOutOfRange: a derived value does not fit its status field.
	ReasonValueOutOfRange = "ValueOutOfRange"

	// Reasons of an Offer's FollowUpNeeded condition (rule O5). An evaluated
	// Offer's Ready reason is its phase: Scheduled, Live or Delisted.
	ReasonNotContacted = "NotContacted"
	ReasonNotNeeded    = "NotNeeded"

	// Reasons a SalesRecord is or is not counted: its status.reason and its
	// Ready condition's reason. SalesOfferNotFound is ReasonOfferNotFound.
	SalesCounted          = "Counted"
	SalesOfferNotTransact = "OfferNotTransact"
	SalesFraudProven      = "FraudProven"
	SalesCancelled        = "Cancelled"
	SalesNoExchangeRate   = "NoExchangeRate"
	SalesOfferNotFound    = ReasonOfferNotFound
	SalesOutsideWindow    = "OutsideWindow"
	// ReasonInvalidAmount: an amount that does not parse (admission forbids
	// it; the line is not counted rather than crash anything).
	ReasonInvalidAmount = "InvalidAmount"

	// Reasons of a BenefitActivation's Ready condition: Active, a
	// prerequisite of rule B2 that does not hold, a terminal outcome.
	ReasonActive                  = "Active"
	ReasonNotEnrolled             = "NotEnrolled"
	ReasonViolation               = "Violation"
	ReasonFraud                   = "FraudReported"
	ReasonOfferNotLive            = "OfferNotLive"
	ReasonNotForListingType       = "BenefitNotForListingType"
	ReasonAlreadyUsed             = "AlreadyUsed"
	ReasonMarketingContactMissing = "MarketingContactMissing"
	ReasonTierNotReached          = "TierNotReached"
	ReasonOptedOut                = "OptedOut"
	ReasonOfferOptedOut           = "OfferOptedOut"
	ReasonExpired                 = "Expired"
	ReasonRevoked                 = "Revoked"
	// ReasonNameHeldByGrant: a BenefitGrant of the activation's name
	// records another offer or benefit. A grant belongs to the activation
	// of its name for good (R7): the activation must take another name,
	// or an administrator delete the old record.
	ReasonNameHeldByGrant = "NameHeldByGrant"
	// Reasons of a BenefitActivation's ContactOverdue condition (rule B4).
	ReasonContactOverdue = "ContactOverdue"
	ReasonContactPending = "ContactPending"
	ReasonContacted      = "Contacted"
)

// Reasons of the Events the operator emits. A Warning Event about what
// admission cannot check (a missing reference, an invalid program, a line
// waiting for a rate) carries the condition's reason; an Offer changing
// phase carries its new phase.
const (
	EventActivated    = "Activated"
	EventGrantAdopted = "GrantAdopted"
	// EventGrantConverted: a BenefitGrant written by an earlier version (owned
	// by its activation) was converted on the operator's first start: it no
	// longer goes with its activation (R8).
	EventGrantConverted = "GrantConverted"
	// EventGrantRestored: a BenefitGrant the garbage collector deleted while
	// it was still owned by its activation (as written before R8) was
	// written again from what the operator last saw of it.
	EventGrantRestored = "GrantRestored"
	// EventRevisionRecorded: a RewardsProgram's valid rules were recorded in
	// a RewardsProgramRevision (a new one, or an earlier one in force again).
	EventRevisionRecorded = "RevisionRecorded"
	EventRevoked          = "Revoked"
	EventExpired          = "Expired"
	EventOptedOut         = "OptedOut"
	EventContactOverdue   = "ContactOverdue"
	EventTierChanged      = "TierChanged"
	EventFollowUpNeeded   = "FollowUpNeeded"
	EventCountingStarted  = "CountingStarted"
	EventCountingStopped  = "CountingStopped"
)
