package rewards

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards/programfuzz"
)

// Program safety (docs/rules.md): admission refuses every inconsistency
// ResolveProgram detects, so whatever admission accepts, ResolveProgram
// accepts, and it never panics on anything. programfuzz.Admitted mirrors
// admission; the admission suite (api/v1alpha1) checks the mirror against
// the API server.

// checkResolveProgram resolves the generated spec and fails t when an
// admitted spec has a problem or resolves into rules that lose part of it.
func checkResolveProgram(t *testing.T, data []byte) (admitted bool, problems []Problem) {
	t.Helper()
	spec := programfuzz.Generate(data)
	rules, problems := ResolveProgram(&spec) // must not panic, admitted or not
	if rules == nil {
		t.Fatalf("ResolveProgram(%+v) returned no rules", spec)
	}
	if err := programfuzz.Admitted(&spec); err != nil {
		return false, problems
	}
	if len(problems) > 0 {
		t.Fatalf("admission accepts %+v but ResolveProgram reports %+v", spec, problems)
	}
	if len(rules.Tiers) != len(spec.Tiers) {
		t.Fatalf("S6: %d tiers admitted, %d resolved: %+v", len(spec.Tiers), len(rules.Tiers), spec)
	}
	for i := 1; i < len(rules.Tiers); i++ {
		if rules.Tiers[i-1].Level >= rules.Tiers[i].Level || rules.Tiers[i-1].MinBilledSales.Cmp(rules.Tiers[i].MinBilledSales) >= 0 {
			t.Fatalf("S6: resolved tiers not strictly increasing: %+v", rules.Tiers)
		}
	}
	for _, b := range spec.Benefits {
		if _, ok := rules.Catalog[b.Name]; !ok {
			t.Fatalf("B1: benefit %q admitted but not in the resolved catalog", b.Name)
		}
		if _, ok := rules.BenefitTier[b.Name]; slices.Contains(b.ListingTypes, v1alpha1.ListingTypeTransact) && !ok {
			t.Fatalf("S6: Transact benefit %q admitted but unlocked by no resolved tier", b.Name)
		}
	}
	for _, r := range spec.ExchangeRates {
		if _, ok := rules.Rates[r.Currency]; !ok {
			t.Fatalf("S2: rate for %s admitted but not resolved", r.Currency)
		}
	}
	return true, nil
}

// programSeeds are byte strings Generate turns into programs of each kind:
// consistent ones and ones with each inconsistency.
var programSeeds = [][]byte{
	{},
	{1, 0, 1, 2, 0, 8, 1, 0, 0, 1, 1, 0, 1},
	{2, 1, 2, 2, 0, 3, 0, 8, 1, 0, 8, 0, 0, 2, 0, 0, 0, 0x02, 1, 2, 2, 0x04},
	{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x20},
	{0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0x01},
	{0, 0, 0, 0, 4, 0, 1, 0, 0, 0, 0, 0x03},
	{1, 1, 1, 1, 3, 3, 8, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0x01, 2, 2, 0, 0x02},
	[]byte("a program spec from arbitrary bytes"),
}

func FuzzResolveProgramAcceptsWhatAdmissionAccepts(f *testing.F) {
	for _, s := range programSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkResolveProgram(t, data) })
}

// TestResolveProgramOnGeneratedPrograms runs the fuzz property over many
// generated programs with a fixed seed (every `go test`, not only under
// -fuzz), and shows the generator is not vacuous: it produces admitted
// programs, and refused ones with every problem ResolveProgram reports.
func TestResolveProgramOnGeneratedPrograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 1))
	admitted := 0
	reasons := map[string]int{}
	for range 20000 {
		data := make([]byte, rng.IntN(40))
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		ok, problems := checkResolveProgram(t, data)
		if ok {
			admitted++
		}
		for _, p := range problems {
			reasons[p.Reason]++
		}
	}
	t.Logf("%d of 20000 generated programs admitted; ResolveProgram problems among the refused: %v", admitted, reasons)
	if admitted < 100 {
		t.Errorf("only %d generated programs are admitted: the property is barely exercised", admitted)
	}
	for _, r := range []string{v1alpha1.ReasonUnknownBenefit, v1alpha1.ReasonBenefitNotTransact, v1alpha1.ReasonUnreachableBenefit,
		v1alpha1.ReasonInvalidThreshold, v1alpha1.ReasonInvalidRate, v1alpha1.ReasonTiersNotIncreasing} {
		if reasons[r] == 0 {
			t.Errorf("no generated program has a %s problem: the generator does not reach it", r)
		}
	}
}
