// Package programfuzz is for tests only: it turns fuzz bytes into
// RewardsProgram specs, mostly small and plausible, often subtly wrong, and
// mirrors in Go what admission (the CRD's OpenAPI schema and CEL rules)
// decides about them. internal/rewards fuzzes ResolveProgram with it (what
// admission accepts, ResolveProgram accepts); the admission suite of
// api/v1alpha1 checks that the mirror agrees with the API server on
// generated specs, so that the mirror cannot drift from the CRD unnoticed.
//
// The mirror covers what the generator varies; it is not a full
// reimplementation of the schema.
package programfuzz

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Pools the generator draws from. Values are few, so that choices often
// coincide (two tiers with one level, a rate for the program's currency).
var (
	validCurrencies = []v1alpha1.CurrencyCode{"USD", "EUR", "GBP", "JPY"}
	badCurrencies   = []v1alpha1.CurrencyCode{"usd", "EURO", "U5D"}
	validRates      = []string{"1.08", "0.92", "1", "0.000000000001", "999999999999.999999999999"}
	badRates        = []string{"0", "0.000", "1,08", "1e3", "-1", "1000000000000", ""}
	benefitNames    = []string{"badge", "co-sell", "credits", "case-study", "blog"}
	// thresholds in increasing order.
	thresholds    = []v1alpha1.Money{"0", "0.000001", "25000", "25000.000001", "99999.999999", "100000", "99999999999999999999.999999"}
	badThresholds = []v1alpha1.Money{"1e5", "-1", "25,000", "", "100000000000000000000", "0.0000001"}
	categories    = []v1alpha1.BenefitCategory{v1alpha1.BenefitCategoryMarketing, v1alpha1.BenefitCategorySales, v1alpha1.BenefitCategoryTechnical}
)

// bytes hands out one byte per decision, 0 once exhausted.
type bytes struct {
	data []byte
	i    int
}

func (b *bytes) next() int {
	if b.i >= len(b.data) {
		return 0
	}
	b.i++
	return int(b.data[b.i-1])
}

func pick[T any](b *bytes, from []T) T { return from[b.next()%len(from)] }

// mistake decides, one time in eight, to get something wrong.
func (b *bytes) mistake() bool { return b.next()%8 == 7 }

// Generate builds a program spec from data: up to 3 exchange rates, 1 to 5
// catalog benefits and 1 to 5 tiers, consistent unless one of its
// decisions is a mistake: a malformed value, a duplicate, thresholds or
// levels out of order, a tier naming a benefit missing from the catalog or
// not for Transact, a Transact benefit no tier unlocks. Every byte string
// gives a spec; the empty one a consistent program.
func Generate(data []byte) v1alpha1.RewardsProgramSpec {
	b := &bytes{data: data}
	var spec v1alpha1.RewardsProgramSpec
	switch c := b.next() % 8; {
	case c < 4:
		spec.Currency = validCurrencies[c]
	case c == 7:
		spec.Currency = pick(b, badCurrencies)
	} // otherwise unset: USD
	if b.next()%2 == 1 {
		spec.SalesWindow = v1alpha1.SalesWindowTrailing12Months
	}
	// Each step reads the next bytes, in this order.
	spec.ExchangeRates = generateRates(b)
	spec.Benefits = generateBenefits(b)
	spec.Tiers = generateTiers(b)
	unlockBenefits(b, &spec)
	return spec
}

// generateRates builds up to 3 exchange rates, now and then with a
// currency that repeats, is the program's own or is malformed, or a
// malformed rate.
func generateRates(b *bytes) []v1alpha1.ExchangeRate {
	n := b.next() % 4
	rates := make([]v1alpha1.ExchangeRate, 0, n)
	for i := range n {
		r := v1alpha1.ExchangeRate{Currency: validCurrencies[(i+1)%len(validCurrencies)], Rate: pick(b, validRates)}
		if b.mistake() {
			r.Currency = pick(b, append(append([]v1alpha1.CurrencyCode{}, validCurrencies...), badCurrencies...))
		}
		if b.mistake() {
			r.Rate = pick(b, badRates)
		}
		rates = append(rates, r)
	}
	return rates
}

// generateBenefits builds 1 to 5 catalog benefits, now and then with a
// duplicate name.
func generateBenefits(b *bytes) []v1alpha1.Benefit {
	n := 1 + b.next()%len(benefitNames)
	benefits := make([]v1alpha1.Benefit, 0, n)
	for i := range n {
		bf := v1alpha1.Benefit{Name: benefitNames[i], Category: pick(b, categories)}
		if b.mistake() {
			bf.Name = pick(b, benefitNames) // perhaps a duplicate
		}
		mask := b.next()
		for j, lt := range v1alpha1.AllListingTypes {
			if mask&(1<<j) != 0 {
				bf.ListingTypes = append(bf.ListingTypes, lt)
			}
		}
		if len(bf.ListingTypes) == 0 {
			bf.ListingTypes = []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}
		}
		benefits = append(benefits, bf)
	}
	return benefits
}

// generateTiers builds 1 to 5 tiers with increasing levels and thresholds,
// now and then a level or threshold out of order or malformed, or seats
// that do not increase.
func generateTiers(b *bytes) []v1alpha1.Tier {
	n := 1 + b.next()%5
	tiers := make([]v1alpha1.Tier, 0, n)
	threshold := 0
	for i := range n {
		t := v1alpha1.Tier{Level: int32(i + 1), MinBilledSales: thresholds[min(threshold, len(thresholds)-1)]}
		threshold += 1 + b.next()%2
		if b.mistake() {
			t.Level = int32(1 + b.next()%6) // perhaps a duplicate, or out of order
		}
		if b.mistake() {
			t.MinBilledSales = pick(b, append(append([]v1alpha1.Money{}, thresholds...), badThresholds...))
		}
		if b.next()%4 == 0 {
			seats := int64(100 * (i + 1))
			if b.mistake() {
				seats = int64(b.next() % 3 * 100)
			}
			if seats > 0 {
				t.MinSeats = &seats
			}
		}
		tiers = append(tiers, t)
	}
	return tiers
}

// unlockBenefits has one tier unlock each Transact benefit, unless
// forgotten; now and then a tier names a benefit missing from the catalog,
// or one that is not for Transact.
func unlockBenefits(b *bytes, spec *v1alpha1.RewardsProgramSpec) {
	for _, bf := range spec.Benefits {
		t := &spec.Tiers[b.next()%len(spec.Tiers)]
		transact := slices.Contains(bf.ListingTypes, v1alpha1.ListingTypeTransact)
		if (transact && !b.mistake()) || (!transact && b.mistake()) {
			if !slices.Contains(t.Benefits, bf.Name) {
				t.Benefits = append(t.Benefits, bf.Name)
			}
		}
	}
	if b.mistake() {
		t := &spec.Tiers[b.next()%len(spec.Tiers)]
		t.Benefits = append(t.Benefits, "ghost")
	}
}

var (
	currencyFormat = regexp.MustCompile(`^[A-Z]{3}$`)
	moneyFormat    = regexp.MustCompile(`^(0|[1-9][0-9]{0,19})([.][0-9]{1,6})?$`)
	rateFormat     = regexp.MustCompile(`^[0-9]{1,12}([.][0-9]{1,12})?$`)
	nonZeroDigit   = regexp.MustCompile(`[1-9]`)
	nameFormat     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// Admitted mirrors admission for the specs Generate builds: nil when the
// API server accepts the spec, otherwise an error naming the first field
// it refuses.
func Admitted(spec *v1alpha1.RewardsProgramSpec) error {
	if spec.Currency != "" && !currencyFormat.MatchString(string(spec.Currency)) {
		return fmt.Errorf("spec.currency %q is not three upper-case letters", spec.Currency)
	}
	own := spec.Currency
	if own == "" {
		own = v1alpha1.DefaultCurrency
	}
	// The checks in the order the API server reports them first.
	if err := ratesAdmitted(spec.ExchangeRates, own); err != nil {
		return err
	}
	catalog, err := catalogAdmitted(spec.Benefits)
	if err != nil {
		return err
	}
	if err := tiersAdmitted(spec.Tiers, catalog); err != nil {
		return err
	}
	if err := tiersIncrease(spec.Tiers); err != nil {
		return err
	}
	return everyTransactBenefitUnlocked(spec)
}

// ratesAdmitted checks each exchange rate's currency and rate, and that no
// currency has two rates or is the program's own.
func ratesAdmitted(rates []v1alpha1.ExchangeRate, own v1alpha1.CurrencyCode) error {
	seenRate := map[v1alpha1.CurrencyCode]bool{}
	for _, r := range rates {
		switch {
		case !currencyFormat.MatchString(string(r.Currency)):
			return fmt.Errorf("spec.exchangeRates[].currency %q is not three upper-case letters", r.Currency)
		case seenRate[r.Currency]:
			return fmt.Errorf("spec.exchangeRates: two rates for %s", r.Currency)
		case !rateFormat.MatchString(r.Rate):
			return fmt.Errorf("spec.exchangeRates[].rate %q is not a decimal", r.Rate)
		case !nonZeroDigit.MatchString(r.Rate):
			return fmt.Errorf("spec.exchangeRates[].rate %q is zero", r.Rate)
		case r.Currency == own:
			return fmt.Errorf("spec.exchangeRates: a rate for the program currency %s", own)
		}
		seenRate[r.Currency] = true
	}
	return nil
}

// catalogAdmitted checks the catalog's size and names, and returns it by
// name.
func catalogAdmitted(benefits []v1alpha1.Benefit) (map[string]v1alpha1.Benefit, error) {
	catalog := map[string]v1alpha1.Benefit{}
	if len(benefits) < 1 || len(benefits) > 200 {
		return nil, fmt.Errorf("spec.benefits: %d entries", len(benefits))
	}
	for _, b := range benefits {
		if _, dup := catalog[b.Name]; dup {
			return nil, fmt.Errorf("spec.benefits: %q twice", b.Name)
		}
		if !nameFormat.MatchString(b.Name) || len(b.Name) > 63 {
			return nil, fmt.Errorf("spec.benefits[].name %q", b.Name)
		}
		catalog[b.Name] = b
	}
	return catalog, nil
}

// tiersAdmitted checks each tier on its own: level, threshold, seats and
// the benefits it names.
func tiersAdmitted(tiers []v1alpha1.Tier, catalog map[string]v1alpha1.Benefit) error {
	if len(tiers) < 1 || len(tiers) > 20 {
		return fmt.Errorf("spec.tiers: %d entries", len(tiers))
	}
	levels := map[int32]bool{}
	for _, t := range tiers {
		switch {
		case t.Level < 1 || t.Level > 20:
			return fmt.Errorf("spec.tiers[].level %d", t.Level)
		case levels[t.Level]:
			return fmt.Errorf("spec.tiers: level %d twice", t.Level)
		case !moneyFormat.MatchString(string(t.MinBilledSales)):
			return fmt.Errorf("spec.tiers[].minBilledSales %q is not a decimal", t.MinBilledSales)
		case t.MinSeats != nil && *t.MinSeats < 1:
			return fmt.Errorf("spec.tiers[].minSeats %d", *t.MinSeats)
		case len(t.Benefits) > 100:
			return fmt.Errorf("spec.tiers[].benefits: %d entries", len(t.Benefits))
		}
		levels[t.Level] = true
		if err := tierBenefitsAdmitted(t.Benefits, catalog); err != nil {
			return err
		}
	}
	return nil
}

// tierBenefitsAdmitted checks the benefits one tier names: once each, in
// the catalog, for Transact.
func tierBenefitsAdmitted(names []string, catalog map[string]v1alpha1.Benefit) error {
	seen := map[string]bool{}
	for _, n := range names {
		b, ok := catalog[n]
		switch {
		case seen[n]:
			return fmt.Errorf("spec.tiers[].benefits: %q twice", n)
		case len(n) > 63:
			return fmt.Errorf("spec.tiers[].benefits: %q too long", n)
		case !ok:
			return fmt.Errorf("spec.tiers[].benefits: %q is not in spec.benefits", n)
		case !slices.Contains(b.ListingTypes, v1alpha1.ListingTypeTransact):
			return fmt.Errorf("spec.tiers[].benefits: %q is not for Transact", n)
		}
		seen[n] = true
	}
	return nil
}

// tiersIncrease checks that a higher level asks for strictly more sales
// (and seats, where both tiers ask for seats).
func tiersIncrease(tiers []v1alpha1.Tier) error {
	for _, a := range tiers {
		for _, b := range tiers {
			if a.Level >= b.Level {
				continue
			}
			if decimal(a.MinBilledSales).Cmp(decimal(b.MinBilledSales)) >= 0 {
				return fmt.Errorf("spec.tiers[].minBilledSales: tier %d's %s is not below tier %d's %s",
					a.Level, a.MinBilledSales, b.Level, b.MinBilledSales)
			}
			if a.MinSeats != nil && b.MinSeats != nil && *a.MinSeats >= *b.MinSeats {
				return fmt.Errorf("spec.tiers[].minSeats: tier %d's %d is not below tier %d's %d", a.Level, *a.MinSeats, b.Level, *b.MinSeats)
			}
		}
	}
	return nil
}

// everyTransactBenefitUnlocked checks that some tier unlocks each Transact
// benefit of the catalog.
func everyTransactBenefitUnlocked(spec *v1alpha1.RewardsProgramSpec) error {
	for _, b := range spec.Benefits {
		if !slices.Contains(b.ListingTypes, v1alpha1.ListingTypeTransact) {
			continue
		}
		unlocked := slices.ContainsFunc(spec.Tiers, func(t v1alpha1.Tier) bool { return slices.Contains(t.Benefits, b.Name) })
		if !unlocked {
			return fmt.Errorf("spec.benefits[]: %q is for Transact and no tier unlocks it", b.Name)
		}
	}
	return nil
}

// decimal is the exact value of a well-formed Money.
func decimal(m v1alpha1.Money) *big.Rat {
	r, ok := new(big.Rat).SetString(string(m))
	if !ok {
		panic(fmt.Sprintf("decimal(%q): not well-formed", m))
	}
	return r
}
