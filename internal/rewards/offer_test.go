package rewards

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var (
	offerLiveAt     = utc(2026, time.November, 30, 9, 0, 0)
	offerDelistedAt = utc(2027, time.June, 1, 0, 0, 0)
)

func TestOfferPhaseAt(t *testing.T) {
	type want struct {
		phase v1alpha1.OfferPhase
		next  *time.Time
	}
	withDelisting := mkOffer("o", v1alpha1.ListingTypeTransact, offerLiveAt, build.DelistedAt(offerDelistedAt)).Spec
	noDelisting := mkOffer("o", v1alpha1.ListingTypeTransact, offerLiveAt).Spec
	cases := map[string]struct {
		reason string
		spec   v1alpha1.OfferSpec
		now    time.Time
		want   want
	}{
		"ScheduledBeforeLiveAt": {
			reason: "O2: before liveAt the offer is Scheduled and next changes at liveAt",
			spec:   withDelisting,
			now:    offerLiveAt.Add(-time.Nanosecond),
			want:   want{v1alpha1.OfferScheduled, ptrTo(offerLiveAt)},
		},
		"LiveAtLiveAt": {
			reason: "O2: at exactly liveAt the offer is Live, next changing at delistedAt",
			spec:   withDelisting,
			now:    offerLiveAt,
			want:   want{v1alpha1.OfferLive, ptrTo(offerDelistedAt)},
		},
		"LiveBeforeDelisting": {
			reason: "O2: a Live offer with a future delistedAt next changes at delistedAt",
			spec:   withDelisting,
			now:    offerDelistedAt.Add(-time.Nanosecond),
			want:   want{v1alpha1.OfferLive, ptrTo(offerDelistedAt)},
		},
		"DelistedAtDelistedAt": {
			reason: "O2: at exactly delistedAt the offer is Delisted, for good",
			spec:   withDelisting,
			now:    offerDelistedAt,
			want:   want{v1alpha1.OfferDelisted, nil},
		},
		"DelistedLater": {
			reason: "O2: after delistedAt the offer stays Delisted",
			spec:   withDelisting,
			now:    offerDelistedAt.AddDate(5, 0, 0),
			want:   want{v1alpha1.OfferDelisted, nil},
		},
		"LiveForever": {
			reason: "O2: a Live offer without delistedAt never changes by itself",
			spec:   noDelisting,
			now:    offerLiveAt.AddDate(10, 0, 0),
			want:   want{v1alpha1.OfferLive, nil},
		},
		"ScheduledNoDelisting": {
			reason: "O2: a Scheduled offer without delistedAt turns Live at liveAt",
			spec:   noDelisting,
			now:    offerLiveAt.AddDate(0, 0, -1),
			want:   want{v1alpha1.OfferScheduled, ptrTo(offerLiveAt)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			phase, next := OfferPhaseAt(&tc.spec, tc.now)
			if diff := cmp.Diff(tc.want, want{phase, next}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nOfferPhaseAt(..., %s): -want, +got:\n%s", tc.reason, tc.now, diff)
			}
		})
	}
}

func TestEvaluateOffer(t *testing.T) {
	now := offerLiveAt.Add(time.Hour)
	threeMonths := ptrTo(utc(2027, time.February, 28, 9, 0, 0)) // 30 Nov + 3 calendar months
	listExpiry := DefaultRules()
	listExpiry.ListExpiryMonths = 6
	longer := DefaultRules()
	longer.EngagementMonths = 12
	longer.TrialConsultingExpiryMonths = 1

	dynamics := func(sf v1alpha1.Storefront) build.OfferOption {
		return func(o *v1alpha1.Offer) {
			o.Spec.ProductFamily, o.Spec.Storefront = v1alpha1.ProductFamilyDynamics365, sf
		}
	}
	saas := func(o *v1alpha1.Offer) { o.Spec.ProductFamily = v1alpha1.ProductFamilySaaS }

	cases := map[string]struct {
		reason string
		offer  v1alpha1.Offer
		rules  *Rules
		want   OfferFacts
	}{
		"List": {
			reason: "O3/O4: a List offer gets 3 calendar months of engagement and its benefits never expire",
			offer:  mkOffer("o", v1alpha1.ListingTypeList, offerLiveAt),
			rules:  DefaultRules(),
			want:   OfferFacts{Phase: v1alpha1.OfferLive, EngagementEndsAt: threeMonths},
		},
		"ListWithExpiry": {
			reason: "O4: List benefits expire when the program sets listExpiryMonths",
			offer:  mkOffer("o", v1alpha1.ListingTypeList, offerLiveAt),
			rules:  listExpiry,
			want: OfferFacts{Phase: v1alpha1.OfferLive, EngagementEndsAt: threeMonths,
				BenefitsExpireAt: ptrTo(utc(2027, time.May, 30, 9, 0, 0))},
		},
		"Trial": {
			reason: "O3/O4: a Trial offer's engagement ends and its benefits expire 3 calendar months after liveAt",
			offer:  mkOffer("o", v1alpha1.ListingTypeTrial, offerLiveAt),
			rules:  DefaultRules(),
			want:   OfferFacts{Phase: v1alpha1.OfferLive, EngagementEndsAt: threeMonths, BenefitsExpireAt: threeMonths},
		},
		"Consulting": {
			reason: "O3/O4: a Consulting offer's engagement ends and its benefits expire 3 calendar months after liveAt",
			offer:  mkOffer("o", v1alpha1.ListingTypeConsulting, offerLiveAt),
			rules:  DefaultRules(),
			want:   OfferFacts{Phase: v1alpha1.OfferLive, EngagementEndsAt: threeMonths, BenefitsExpireAt: threeMonths},
		},
		"ConsultingProgramMonths": {
			reason: "O3/O4: the program's engagementMonths and trialConsultingExpiryMonths are honoured",
			offer:  mkOffer("o", v1alpha1.ListingTypeConsulting, offerLiveAt),
			rules:  longer,
			want: OfferFacts{Phase: v1alpha1.OfferLive,
				EngagementEndsAt: ptrTo(utc(2027, time.November, 30, 9, 0, 0)),
				BenefitsExpireAt: ptrTo(utc(2026, time.December, 30, 9, 0, 0))},
		},
		"Transact": {
			reason: "O4: Transact engagement is evergreen and its benefits never expire, even with listExpiryMonths",
			offer:  mkOffer("o", v1alpha1.ListingTypeTransact, offerLiveAt),
			rules:  listExpiry,
			want:   OfferFacts{Phase: v1alpha1.OfferLive, Evergreen: true},
		},
		"ScheduledTransact": {
			reason: "O2/O4: a Scheduled Transact offer turns Live at liveAt",
			offer:  mkOffer("o", v1alpha1.ListingTypeTransact, now.AddDate(0, 1, 0)),
			rules:  DefaultRules(),
			want:   OfferFacts{Phase: v1alpha1.OfferScheduled, Evergreen: true, NextChange: ptrTo(now.AddDate(0, 1, 0))},
		},
		"DelistedTrial": {
			reason: "O2/O4: a delisted Trial offer still shows when its benefits expire",
			offer:  mkOffer("o", v1alpha1.ListingTypeTrial, offerLiveAt, build.DelistedAt(offerLiveAt.Add(time.Minute))),
			rules:  DefaultRules(),
			want:   OfferFacts{Phase: v1alpha1.OfferDelisted, EngagementEndsAt: threeMonths, BenefitsExpireAt: threeMonths},
		},
		"Dynamics365OnAppSource": {
			reason: "O7: a Dynamics 365 offer on AppSource is eligible for ISV Connect",
			offer:  mkOffer("o", v1alpha1.ListingTypeTransact, offerLiveAt, dynamics(v1alpha1.StorefrontAppSource)),
			rules:  DefaultRules(),
			want:   OfferFacts{Phase: v1alpha1.OfferLive, Evergreen: true, ISVConnect: true},
		},
		"Dynamics365OnAzureMarketplace": {
			reason: "O7: a Dynamics 365 offer on Azure Marketplace is not eligible for ISV Connect",
			offer:  mkOffer("o", v1alpha1.ListingTypeTransact, offerLiveAt, dynamics(v1alpha1.StorefrontAzureMarketplace)),
			rules:  DefaultRules(),
			want:   OfferFacts{Phase: v1alpha1.OfferLive, Evergreen: true},
		},
		"SaaSOnAppSource": {
			reason: "O7: a SaaS offer on AppSource is not eligible for ISV Connect; S5: without integrations it is no Microsoft 365 app",
			offer: mkOffer("o", v1alpha1.ListingTypeTransact, offerLiveAt, saas, func(o *v1alpha1.Offer) {
				o.Spec.Storefront = v1alpha1.StorefrontAppSource
			}),
			rules: DefaultRules(),
			want:  OfferFacts{Phase: v1alpha1.OfferLive, Evergreen: true},
		},
		"Microsoft365App": {
			reason: "S5: a SaaS offer integrated with Teams is a Microsoft 365 app",
			offer:  mkOffer("o", v1alpha1.ListingTypeTransact, offerLiveAt, build.Microsoft365("Teams")),
			rules:  DefaultRules(),
			want:   OfferFacts{Phase: v1alpha1.OfferLive, Evergreen: true, Microsoft365App: true},
		},
		"IntegrationsWithoutSaaS": {
			reason: "S5: Microsoft 365 integrations on a non-SaaS offer do not make a Microsoft 365 app",
			offer: mkOffer("o", v1alpha1.ListingTypeTransact, offerLiveAt, func(o *v1alpha1.Offer) {
				o.Spec.ProductFamily = v1alpha1.ProductFamilyAzureApplication
				o.Spec.Microsoft365Integrations = []v1alpha1.Microsoft365Integration{"SharePoint"}
			}),
			rules: DefaultRules(),
			want:  OfferFacts{Phase: v1alpha1.OfferLive, Evergreen: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := EvaluateOffer(&tc.offer.Spec, tc.rules, now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nEvaluateOffer(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestBenefitsExpireAt(t *testing.T) {
	liveAt := utc(2026, time.November, 30, 0, 0, 0)
	cases := map[string]struct {
		reason string
		lt     v1alpha1.ListingType
		want   *time.Time
	}{
		"List":       {reason: "O4: List benefits do not expire by default", lt: v1alpha1.ListingTypeList},
		"Trial":      {reason: "O4: Trial benefits expire 3 calendar months after liveAt: 30 Nov 2026 → 28 Feb 2027", lt: v1alpha1.ListingTypeTrial, want: ptrTo(utc(2027, time.February, 28, 0, 0, 0))},
		"Consulting": {reason: "O4: Consulting benefits expire 3 calendar months after liveAt", lt: v1alpha1.ListingTypeConsulting, want: ptrTo(utc(2027, time.February, 28, 0, 0, 0))},
		"Transact":   {reason: "O4: Transact benefits never expire", lt: v1alpha1.ListingTypeTransact},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := mkOffer("o", tc.lt, liveAt)
			if diff := cmp.Diff(tc.want, BenefitsExpireAt(&o.Spec, DefaultRules())); diff != "" {
				t.Errorf("%s\nBenefitsExpireAt(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
