package rewards

import (
	"fmt"
	"sort"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Rules is a RewardsProgram's spec with every default applied and every
// string parsed: what the other functions of this package decide with.
type Rules struct {
	Currency    v1alpha1.CurrencyCode
	Rates       map[v1alpha1.CurrencyCode]Rate
	Window      v1alpha1.SalesWindow
	SeatsCutoff time.Time

	EngagementMonths            int
	TrialConsultingExpiryMonths int
	// ListExpiryMonths is 0 when List benefits never expire (the default).
	ListExpiryMonths int
	ContactDue       time.Duration
	FollowUpAfter    time.Duration

	FraudScope           v1alpha1.FraudRevocationScope
	KeepUnlockedBenefits bool

	// Tiers in increasing order of level.
	Tiers []TierRule
	// Catalog by benefit name.
	Catalog map[string]v1alpha1.Benefit
	// BenefitTier is the lowest tier level that unlocks each Transact
	// benefit.
	BenefitTier map[string]int32
}

// TierRule is one tier with its threshold parsed.
type TierRule struct {
	Level          int32
	Name           string
	MinBilledSales Money
	MinSeats       *int64
	Benefits       []string
}

// Problem is something wrong with a program. Admission refuses every one
// of them (api/v1alpha1's CEL rules); ResolveProgram still checks, as
// defence in depth, for what gets past it: a program stored before those
// rules existed, or written with validation bypassed.
type Problem struct {
	// Reason is a CamelCase condition reason.
	Reason string
	// Message names the field and says what is wrong.
	Message string
}

// DefaultRules are the rules of a program whose optional fields are all
// unset and which has no tiers and no catalog.
func DefaultRules() *Rules {
	r, _ := ResolveProgram(&v1alpha1.RewardsProgramSpec{})
	return r
}

// ResolveProgram applies the program's defaults (documented on the API
// fields) and checks again what admission checks first: thresholds and
// rates that parse, thresholds strictly increasing with the level, every
// benefit a tier names in the catalog and for Transact offers, every
// Transact benefit unlocked by some tier. It always returns usable rules: a
// problem is reported, and the offending entry is left out. Whatever
// admission accepts, it accepts (FuzzResolveProgramAcceptsWhatAdmissionAccepts).
func ResolveProgram(spec *v1alpha1.RewardsProgramSpec) (*Rules, []Problem) {
	r := defaultedRules(spec)
	problems := resolveRates(spec, r)
	for _, b := range spec.Benefits {
		r.Catalog[b.Name] = b
	}
	problems = append(problems, resolveTiers(spec, r)...)
	problems = append(problems, unreachableBenefits(spec, r)...)
	return r, problems
}

// defaultedRules returns the program's scalar settings with the defaults
// applied, and empty catalog, rates and tiers for the steps that follow.
func defaultedRules(spec *v1alpha1.RewardsProgramSpec) *Rules {
	r := &Rules{
		Currency:                    orDefault(spec.Currency, v1alpha1.DefaultCurrency),
		Rates:                       map[v1alpha1.CurrencyCode]Rate{},
		Window:                      orDefault(spec.SalesWindow, v1alpha1.DefaultSalesWindow),
		EngagementMonths:            int(int32OrDefault(spec.Durations.EngagementMonths, v1alpha1.DefaultEngagementMonths)),
		TrialConsultingExpiryMonths: int(int32OrDefault(spec.Durations.TrialConsultingExpiryMonths, v1alpha1.DefaultTrialConsultingExpiryMonths)),
		ListExpiryMonths:            int(int32OrDefault(spec.Durations.ListExpiryMonths, 0)),
		ContactDue:                  days(int32OrDefault(spec.Durations.ContactDueDays, v1alpha1.DefaultContactDueDays)),
		FollowUpAfter:               days(int32OrDefault(spec.Durations.FollowUpAfterDays, v1alpha1.DefaultFollowUpAfterDays)),
		FraudScope:                  orDefault(spec.Revocation.FraudScope, v1alpha1.DefaultFraudRevocationScope),
		KeepUnlockedBenefits:        spec.Revocation.KeepUnlockedBenefits == nil || *spec.Revocation.KeepUnlockedBenefits,
		Catalog:                     map[string]v1alpha1.Benefit{},
		BenefitTier:                 map[string]int32{},
	}
	if spec.SeatsCutoff != nil {
		r.SeatsCutoff = spec.SeatsCutoff.UTC()
	} else {
		r.SeatsCutoff, _ = time.Parse(time.RFC3339, v1alpha1.DefaultSeatsCutoff)
	}
	return r
}

// resolveRates parses the exchange rates into r, leaving out those that do
// not parse.
func resolveRates(spec *v1alpha1.RewardsProgramSpec, r *Rules) []Problem {
	var problems []Problem
	for _, er := range spec.ExchangeRates {
		rate, err := ParseRate(er.Rate)
		if err != nil {
			problems = append(problems, Problem{v1alpha1.ReasonInvalidRate, fmt.Sprintf("spec.exchangeRates[%s].rate: %v", er.Currency, err)})
			continue
		}
		r.Rates[er.Currency] = rate
	}
	return problems
}

// resolveTiers adds the tiers to r in level order, leaving out a tier whose
// threshold does not parse or does not increase.
func resolveTiers(spec *v1alpha1.RewardsProgramSpec, r *Rules) []Problem {
	var problems []Problem
	tiers := append([]v1alpha1.Tier(nil), spec.Tiers...)
	sort.SliceStable(tiers, func(i, j int) bool { return tiers[i].Level < tiers[j].Level })
	for _, t := range tiers {
		min, err := ParseMoney(string(t.MinBilledSales))
		if err != nil {
			problems = append(problems, Problem{v1alpha1.ReasonInvalidThreshold, fmt.Sprintf("spec.tiers[level=%d].minBilledSales: %v",
				t.Level, err)})
			continue
		}
		if n := len(r.Tiers); n > 0 && min.Cmp(r.Tiers[n-1].MinBilledSales) <= 0 {
			problems = append(problems, Problem{v1alpha1.ReasonTiersNotIncreasing, fmt.Sprintf(
				"spec.tiers[level=%d].minBilledSales %s must be greater than tier %d's %s", t.Level, min, r.Tiers[n-1].Level, r.Tiers[n-1].MinBilledSales)})
			continue
		}
		tr := TierRule{Level: t.Level, Name: t.Name, MinBilledSales: min, MinSeats: t.MinSeats}
		if tr.Name == "" {
			tr.Name = fmt.Sprintf("Tier %d", t.Level)
		}
		problems = append(problems, resolveTierBenefits(t, r, &tr)...)
		r.Tiers = append(r.Tiers, tr)
	}
	return problems
}

// resolveTierBenefits adds to tr the benefits tier t unlocks, leaving out
// those not in the catalog or not for Transact offers; the lowest tier
// naming a benefit is the one that unlocks it.
func resolveTierBenefits(t v1alpha1.Tier, r *Rules, tr *TierRule) []Problem {
	var problems []Problem
	for _, name := range t.Benefits {
		b, ok := r.Catalog[name]
		switch {
		case !ok:
			problems = append(problems, Problem{v1alpha1.ReasonUnknownBenefit, fmt.Sprintf(
				"spec.tiers[level=%d].benefits: %q is not in spec.benefits", t.Level, name)})
			continue
		case !forListingType(b, v1alpha1.ListingTypeTransact):
			problems = append(problems, Problem{v1alpha1.ReasonBenefitNotTransact, fmt.Sprintf(
				"spec.tiers[level=%d].benefits: %q is not for Transact offers (its listingTypes are %v)", t.Level, name, b.ListingTypes)})
			continue
		}
		if _, seen := r.BenefitTier[name]; !seen {
			r.BenefitTier[name] = t.Level
		}
		tr.Benefits = append(tr.Benefits, name)
	}
	return problems
}

// unreachableBenefits reports the Transact benefits no tier unlocks.
func unreachableBenefits(spec *v1alpha1.RewardsProgramSpec, r *Rules) []Problem {
	var problems []Problem
	for _, b := range spec.Benefits {
		if _, unlocked := r.BenefitTier[b.Name]; forListingType(b, v1alpha1.ListingTypeTransact) && !unlocked {
			problems = append(problems, Problem{v1alpha1.ReasonUnreachableBenefit, fmt.Sprintf(
				"spec.benefits[%s] is for Transact offers but no entry of spec.tiers unlocks it", b.Name)})
		}
	}
	return problems
}

// forListingType reports whether benefit b is offered for listing type lt.
func forListingType(b v1alpha1.Benefit, lt v1alpha1.ListingType) bool {
	for _, t := range b.ListingTypes {
		if t == lt {
			return true
		}
	}
	return false
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func int32OrDefault(v *int32, def int32) int32 {
	if v == nil {
		return def
	}
	return *v
}

func days(n int32) time.Duration { return time.Duration(n) * 24 * time.Hour }
