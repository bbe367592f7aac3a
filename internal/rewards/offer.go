package rewards

import (
	"fmt"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// OfferFacts is what the program derives about one offer at one instant.
type OfferFacts struct {
	Phase v1alpha1.OfferPhase
	// EngagementEndsAt is the end of the engagement manager's months for a
	// List, Trial or Consulting offer (O3); nil for Transact (evergreen, O4).
	EngagementEndsAt *time.Time
	Evergreen        bool
	// BenefitsExpireAt is when the offer's benefits expire (O4); nil when
	// they never do.
	BenefitsExpireAt *time.Time
	ISVConnect       bool
	Microsoft365App  bool
	// NextChange is the next instant the phase changes by itself (O2).
	NextChange *time.Time
}

// OfferPhaseAt is the phase of an offer at now (rule O2): Scheduled before
// liveAt, Live from liveAt, Delisted from delistedAt. It also returns the
// instant the phase next changes by itself, if any.
func OfferPhaseAt(spec *v1alpha1.OfferSpec, now time.Time) (v1alpha1.OfferPhase, *time.Time) {
	live := spec.LiveAt.Time
	if spec.DelistedAt != nil && !now.Before(spec.DelistedAt.Time) {
		return v1alpha1.OfferDelisted, nil
	}
	var next *time.Time
	if spec.DelistedAt != nil {
		next = after(spec.DelistedAt.Time, now)
	}
	if now.Before(live) {
		return v1alpha1.OfferScheduled, &live
	}
	return v1alpha1.OfferLive, next
}

// IsMicrosoft365App tells a SaaS offer integrated with Teams, Office, Outlook or
// SharePoint (rule S5).
func IsMicrosoft365App(spec *v1alpha1.OfferSpec) bool {
	return spec.ProductFamily == v1alpha1.ProductFamilySaaS && len(spec.Microsoft365Integrations) > 0
}

// IsISVConnectEligible tells Dynamics 365 offers on AppSource (rule O7).
func IsISVConnectEligible(spec *v1alpha1.OfferSpec) bool {
	return spec.ProductFamily == v1alpha1.ProductFamilyDynamics365 && spec.Storefront == v1alpha1.StorefrontAppSource
}

// BenefitsExpireAt is when an offer's one-time benefits expire (rule O4):
// Trial and Consulting after the program's months from liveAt; List only
// when the program sets listExpiryMonths; Transact never.
func BenefitsExpireAt(spec *v1alpha1.OfferSpec, rules *Rules) *time.Time {
	months := 0
	switch spec.ListingType {
	case v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeConsulting:
		months = rules.TrialConsultingExpiryMonths
	case v1alpha1.ListingTypeList:
		months = rules.ListExpiryMonths
	}
	if months == 0 {
		return nil
	}
	t := AddCalendarMonths(spec.LiveAt.Time, months)
	return &t
}

// EvaluateOffer derives an offer's facts (rules O2, O3, O4, O7, S5).
func EvaluateOffer(spec *v1alpha1.OfferSpec, rules *Rules, now time.Time) OfferFacts {
	phase, next := OfferPhaseAt(spec, now)
	f := OfferFacts{
		Phase:            phase,
		NextChange:       next,
		BenefitsExpireAt: BenefitsExpireAt(spec, rules),
		ISVConnect:       IsISVConnectEligible(spec),
		Microsoft365App:  IsMicrosoft365App(spec),
	}
	if spec.ListingType == v1alpha1.ListingTypeTransact {
		f.Evergreen = true
	} else {
		end := AddCalendarMonths(spec.LiveAt.Time, rules.EngagementMonths)
		f.EngagementEndsAt = &end
	}
	return f
}

// FollowUpHint says whether an offer should show the follow-up hint (rule
// O5): it has been live for longer than the program's follow-up period and
// none of its activations has been contacted. It also returns when the hint
// would next appear by itself.
func FollowUpHint(offer *v1alpha1.Offer, activations []v1alpha1.BenefitActivation, rules *Rules, now time.Time) (bool, string, *time.Time) {
	phase, _ := OfferPhaseAt(&offer.Spec, now)
	if phase != v1alpha1.OfferLive || offer.Spec.OptOut {
		return false, "", nil
	}
	for i := range activations {
		if activations[i].Spec.ContactedAt != nil {
			return false, "", nil
		}
	}
	due := offer.Spec.LiveAt.Add(rules.FollowUpAfter)
	if now.Before(due) {
		return false, "", &due
	}
	return true, fmt.Sprintf("offer %q has been live for more than %d days and none of its activations has been contacted: "+
		"check in Partner Center who in your organization owns the offer; they should have the communication and next steps. "+
		"If you cannot determine the owner, or the owner has left, open a support ticket at https://aka.ms/marketplacepublishersupport",
		offer.Name, int(rules.FollowUpAfter.Hours()/24)), nil
}
