package rewards

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

func defaultRulesWant() *Rules {
	return &Rules{
		Currency:                    "USD",
		Rates:                       map[v1alpha1.CurrencyCode]Rate{},
		Window:                      v1alpha1.SalesWindowLifetime,
		SeatsCutoff:                 utc(2021, time.June, 30, 23, 59, 59),
		EngagementMonths:            3,
		TrialConsultingExpiryMonths: 3,
		ListExpiryMonths:            0,
		ContactDue:                  7 * 24 * time.Hour,
		FollowUpAfter:               28 * 24 * time.Hour,
		FraudScope:                  v1alpha1.FraudScopePublisher,
		KeepUnlockedBenefits:        true,
		Catalog:                     map[string]v1alpha1.Benefit{},
		BenefitTier:                 map[string]int32{},
	}
}

func TestResolveProgramDefaults(t *testing.T) {
	transact := []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}
	cases := map[string]struct {
		reason       string
		spec         *v1alpha1.RewardsProgramSpec
		want         *Rules
		wantProblems []Problem
	}{
		"Empty": {
			reason: "S2/S4/S5/O3/O4/B4/O5/R3/R5: an empty spec takes every default: USD, Lifetime, 3 and 3 months, List never expires, 7 days, 28 days, Publisher fraud scope, keepUnlockedBenefits, seats cut-off 2021-06-30T23:59:59Z",
			spec:   &v1alpha1.RewardsProgramSpec{},
			want:   defaultRulesWant(),
		},
		"Explicit": {
			reason: "S2/S4/S5/O3/O4/B4/O5/R3/R5: explicit values are honoured",
			spec: &v1alpha1.RewardsProgramSpec{
				Currency:      "EUR",
				ExchangeRates: []v1alpha1.ExchangeRate{{Currency: "USD", Rate: "0.92"}},
				SalesWindow:   v1alpha1.SalesWindowTrailing12Months,
				SeatsCutoff:   metaTimePtr(time.Date(2030, time.January, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600))),
				Durations: v1alpha1.ProgramDurations{
					EngagementMonths:            ptrTo[int32](6),
					TrialConsultingExpiryMonths: ptrTo[int32](4),
					ListExpiryMonths:            ptrTo[int32](12),
					ContactDueDays:              ptrTo[int32](10),
					FollowUpAfterDays:           ptrTo[int32](14),
				},
				Revocation: v1alpha1.RevocationPolicy{
					FraudScope:           v1alpha1.FraudScopeOffer,
					KeepUnlockedBenefits: ptrTo(false),
				},
				Tiers: []v1alpha1.Tier{{Level: 1, Name: "Bronze", MinBilledSales: "0", MinSeats: ptrTo[int64](5), Benefits: []string{"badge"}}},
				Benefits: []v1alpha1.Benefit{
					{Name: "badge", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: transact},
				},
			},
			want: &Rules{
				Currency:                    "EUR",
				Rates:                       map[v1alpha1.CurrencyCode]Rate{"USD": mustRate("0.92")},
				Window:                      v1alpha1.SalesWindowTrailing12Months,
				SeatsCutoff:                 utc(2030, time.January, 1, 0, 0, 0),
				EngagementMonths:            6,
				TrialConsultingExpiryMonths: 4,
				ListExpiryMonths:            12,
				ContactDue:                  10 * 24 * time.Hour,
				FollowUpAfter:               14 * 24 * time.Hour,
				FraudScope:                  v1alpha1.FraudScopeOffer,
				KeepUnlockedBenefits:        false,
				Tiers:                       []TierRule{{Level: 1, Name: "Bronze", MinBilledSales: MustParseMoney("0"), MinSeats: ptrTo[int64](5), Benefits: []string{"badge"}}},
				Catalog: map[string]v1alpha1.Benefit{
					"badge": {Name: "badge", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: transact},
				},
				BenefitTier: map[string]int32{"badge": 1},
			},
		},
		"KeepUnlockedExplicitTrue": {
			reason: "R5: keepUnlockedBenefits: true is honoured like the default",
			spec:   &v1alpha1.RewardsProgramSpec{Revocation: v1alpha1.RevocationPolicy{KeepUnlockedBenefits: ptrTo(true)}},
			want:   defaultRulesWant(),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, problems := ResolveProgram(tc.spec)
			if diff := cmp.Diff(tc.want, got, cmpOpts...); diff != "" {
				t.Errorf("%s\nResolveProgram(...): -want rules, +got rules:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantProblems, problems); diff != "" {
				t.Errorf("%s\nResolveProgram(...): -want problems, +got problems:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDefaultRules(t *testing.T) {
	if diff := cmp.Diff(defaultRulesWant(), DefaultRules(), cmpOpts...); diff != "" {
		t.Errorf("S4/S5/O3/O4: DefaultRules() are the defaults of an empty spec: -want, +got:\n%s", diff)
	}
}

// mustRate is ParseRate for test constants.
func mustRate(s string) Rate {
	r, err := ParseRate(s)
	if err != nil {
		panic(err)
	}
	return r
}

// tierSummary is the part of a TierRule the problem cases look at.
type tierSummary struct {
	Level    int32
	Name     string
	Min      string
	Benefits []string
}

func summarizeTiers(tiers []TierRule) []tierSummary {
	out := make([]tierSummary, 0, len(tiers))
	for _, t := range tiers {
		out = append(out, tierSummary{t.Level, t.Name, t.MinBilledSales.String(), t.Benefits})
	}
	return out
}

func TestResolveProgramTiers(t *testing.T) {
	transact := []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}
	catalog := []v1alpha1.Benefit{
		{Name: "badge", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: transact},
		{Name: "credits", Category: v1alpha1.BenefitCategoryTechnical, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTrial, v1alpha1.ListingTypeTransact}},
		{Name: "blog", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeList}},
	}
	type want struct {
		tiers       []tierSummary
		benefitTier map[string]int32
		rates       []v1alpha1.CurrencyCode
		reasons     []string
		// messageHas are substrings that each problem's message must contain
		// (naming the field), in order.
		messageHas []string
	}
	cases := map[string]struct {
		reason string
		spec   *v1alpha1.RewardsProgramSpec
		want   want
	}{
		"Valid": {
			reason: "S6/B1: each tier unlocks the Transact benefits it lists",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers: []v1alpha1.Tier{
					{Level: 1, Name: "One", MinBilledSales: "0", Benefits: []string{"badge"}},
					{Level: 2, Name: "Two", MinBilledSales: "25000", Benefits: []string{"credits"}},
				},
				Benefits: catalog,
			},
			want: want{
				tiers:       []tierSummary{{1, "One", "0.00", []string{"badge"}}, {2, "Two", "25000.00", []string{"credits"}}},
				benefitTier: map[string]int32{"badge": 1, "credits": 2},
			},
		},
		"OutOfOrder": {
			reason: "S6: tiers are sorted by level even if given out of order",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers: []v1alpha1.Tier{
					{Level: 3, MinBilledSales: "100000"},
					{Level: 1, MinBilledSales: "0", Benefits: []string{"badge"}},
					{Level: 2, MinBilledSales: "25000", Benefits: []string{"credits"}},
				},
				Benefits: catalog,
			},
			want: want{
				tiers: []tierSummary{
					{1, "Tier 1", "0.00", []string{"badge"}},
					{2, "Tier 2", "25000.00", []string{"credits"}},
					{3, "Tier 3", "100000.00", nil},
				},
				benefitTier: map[string]int32{"badge": 1, "credits": 2},
			},
		},
		"DefaultName": {
			reason: "S7: a tier's name defaults to \"Tier N\"",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers:    []v1alpha1.Tier{{Level: 7, MinBilledSales: "0", Benefits: []string{"badge", "credits"}}},
				Benefits: catalog,
			},
			want: want{
				tiers:       []tierSummary{{7, "Tier 7", "0.00", []string{"badge", "credits"}}},
				benefitTier: map[string]int32{"badge": 7, "credits": 7},
			},
		},
		"LowestTierWins": {
			reason: "S6/B1: BenefitTier is the lowest tier listing a benefit",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers: []v1alpha1.Tier{
					{Level: 3, MinBilledSales: "100000", Benefits: []string{"badge", "credits"}},
					{Level: 2, MinBilledSales: "25000", Benefits: []string{"credits"}},
					{Level: 1, MinBilledSales: "0", Benefits: []string{"badge"}},
				},
				Benefits: catalog,
			},
			want: want{
				tiers: []tierSummary{
					{1, "Tier 1", "0.00", []string{"badge"}},
					{2, "Tier 2", "25000.00", []string{"credits"}},
					{3, "Tier 3", "100000.00", []string{"badge", "credits"}},
				},
				benefitTier: map[string]int32{"badge": 1, "credits": 2},
			},
		},
		"UnknownBenefit": {
			reason: "B1: a tier naming a benefit missing from the catalog is a problem (UnknownBenefit) and the name is left out",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers:    []v1alpha1.Tier{{Level: 1, MinBilledSales: "0", Benefits: []string{"badge", "credits", "ghost"}}},
				Benefits: catalog,
			},
			want: want{
				tiers:       []tierSummary{{1, "Tier 1", "0.00", []string{"badge", "credits"}}},
				benefitTier: map[string]int32{"badge": 1, "credits": 1},
				reasons:     []string{v1alpha1.ReasonUnknownBenefit},
				messageHas:  []string{`spec.tiers[level=1].benefits: "ghost"`},
			},
		},
		"BenefitNotTransact": {
			reason: "B1/S6: a tier naming a benefit that is not for Transact offers is a problem (BenefitNotTransact)",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers:    []v1alpha1.Tier{{Level: 1, MinBilledSales: "0", Benefits: []string{"badge", "credits", "blog"}}},
				Benefits: catalog,
			},
			want: want{
				tiers:       []tierSummary{{1, "Tier 1", "0.00", []string{"badge", "credits"}}},
				benefitTier: map[string]int32{"badge": 1, "credits": 1},
				reasons:     []string{v1alpha1.ReasonBenefitNotTransact},
				messageHas:  []string{`spec.tiers[level=1].benefits: "blog"`},
			},
		},
		"UnreachableBenefit": {
			reason: "S6: a Transact benefit that no tier unlocks is a problem (UnreachableBenefit); a List benefit is not",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers:    []v1alpha1.Tier{{Level: 1, MinBilledSales: "0", Benefits: []string{"badge"}}},
				Benefits: catalog,
			},
			want: want{
				tiers:       []tierSummary{{1, "Tier 1", "0.00", []string{"badge"}}},
				benefitTier: map[string]int32{"badge": 1},
				reasons:     []string{v1alpha1.ReasonUnreachableBenefit},
				messageHas:  []string{"spec.benefits[credits]"},
			},
		},
		"InvalidRate": {
			reason: "S2: a rate that is not a positive decimal is a problem (InvalidRate) and is left out; the good one stays",
			spec: &v1alpha1.RewardsProgramSpec{
				ExchangeRates: []v1alpha1.ExchangeRate{
					{Currency: "EUR", Rate: "1.08"},
					{Currency: "GBP", Rate: "0.000"},
					{Currency: "JPY", Rate: "1e-2"},
				},
				Tiers:    []v1alpha1.Tier{{Level: 1, MinBilledSales: "0", Benefits: []string{"badge", "credits"}}},
				Benefits: catalog,
			},
			want: want{
				tiers:       []tierSummary{{1, "Tier 1", "0.00", []string{"badge", "credits"}}},
				benefitTier: map[string]int32{"badge": 1, "credits": 1},
				rates:       []v1alpha1.CurrencyCode{"EUR"},
				reasons:     []string{v1alpha1.ReasonInvalidRate, v1alpha1.ReasonInvalidRate},
				messageHas:  []string{"spec.exchangeRates[GBP].rate", "spec.exchangeRates[JPY].rate"},
			},
		},
		"TiersNotIncreasing": {
			reason: "S6: a tier whose threshold does not exceed a lower tier's is a problem (TiersNotIncreasing) and is left out",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers: []v1alpha1.Tier{
					{Level: 1, MinBilledSales: "0", Benefits: []string{"badge"}},
					{Level: 2, MinBilledSales: "100000", Benefits: []string{"credits"}},
					{Level: 3, MinBilledSales: "25000"},
					{Level: 4, MinBilledSales: "100000"},
				},
				Benefits: catalog,
			},
			want: want{
				tiers:       []tierSummary{{1, "Tier 1", "0.00", []string{"badge"}}, {2, "Tier 2", "100000.00", []string{"credits"}}},
				benefitTier: map[string]int32{"badge": 1, "credits": 2},
				reasons:     []string{v1alpha1.ReasonTiersNotIncreasing, v1alpha1.ReasonTiersNotIncreasing},
				messageHas:  []string{"spec.tiers[level=3].minBilledSales", "spec.tiers[level=4].minBilledSales"},
			},
		},
		"InvalidThreshold": {
			reason: "S6: a threshold that is not an amount is a problem (InvalidThreshold) and its tier is left out",
			spec: &v1alpha1.RewardsProgramSpec{
				Tiers: []v1alpha1.Tier{
					{Level: 1, MinBilledSales: "0", Benefits: []string{"badge", "credits"}},
					{Level: 2, MinBilledSales: "25,000"},
				},
				Benefits: catalog,
			},
			want: want{
				tiers:       []tierSummary{{1, "Tier 1", "0.00", []string{"badge", "credits"}}},
				benefitTier: map[string]int32{"badge": 1, "credits": 1},
				reasons:     []string{v1alpha1.ReasonInvalidThreshold},
				messageHas:  []string{"spec.tiers[level=2].minBilledSales"},
			},
		},
		"DefaultProgram": {
			reason: "S6: the illustrative program of docs/rules.md resolves without problems",
			spec:   defaultProgramSpec(),
			want: want{
				tiers: []tierSummary{
					{1, "Tier 1", "0.00", []string{"listing-badge"}},
					{2, "Tier 2", "25000.00", []string{"co-sell"}},
					{3, "Tier 3", "100000.00", []string{"azure-credits"}},
					{4, "Tier 4", "1000000.00", []string{"case-study"}},
					{5, "Tier 5", "5000000.00", []string{"field-engagement"}},
				},
				benefitTier: map[string]int32{"listing-badge": 1, "co-sell": 2, "azure-credits": 3, "case-study": 4, "field-engagement": 5},
				rates:       []v1alpha1.CurrencyCode{"EUR", "GBP"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, problems := ResolveProgram(tc.spec)
			var reasons, messages []string
			for _, p := range problems {
				reasons = append(reasons, p.Reason)
				messages = append(messages, p.Message)
			}
			var rates []v1alpha1.CurrencyCode
			for c := range r.Rates {
				rates = append(rates, c)
			}
			got := want{
				tiers:       summarizeTiers(r.Tiers),
				benefitTier: r.BenefitTier,
				rates:       rates,
				reasons:     reasons,
				messageHas:  tc.want.messageHas,
			}
			opts := []cmp.Option{
				cmp.AllowUnexported(want{}),
				cmpopts.EquateEmpty(),
				cmpopts.SortSlices(func(a, b v1alpha1.CurrencyCode) bool { return a < b }),
			}
			if diff := cmp.Diff(tc.want, got, opts...); diff != "" {
				t.Errorf("%s\nResolveProgram(...): -want, +got:\n%s", tc.reason, diff)
			}
			for i, sub := range tc.want.messageHas {
				if i < len(messages) && !strings.Contains(messages[i], sub) {
					t.Errorf("%s\nproblem %d message %q does not name %q", tc.reason, i, messages[i], sub)
				}
			}
		})
	}
}
