package rewards

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

func TestComparePrograms(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	liveAt := utc(2024, time.January, 10, 0, 0, 0)
	lastYear := utc(2025, time.June, 1, 0, 0, 0)
	vm := []v1alpha1.Offer{mkOffer("vm", v1alpha1.ListingTypeTransact, liveAt)}

	rules := func(mods ...func(*v1alpha1.RewardsProgramSpec)) *Rules {
		spec := defaultProgramSpec()
		for _, m := range mods {
			m(spec)
		}
		r, problems := ResolveProgram(spec)
		if len(problems) > 0 {
			t.Fatalf("fixture: %v", problems)
		}
		return r
	}
	tier2At := func(min v1alpha1.Money) func(*v1alpha1.RewardsProgramSpec) {
		return func(s *v1alpha1.RewardsProgramSpec) { s.Tiers[1].MinBilledSales = min }
	}
	rate := func(cur v1alpha1.CurrencyCode, r string) func(*v1alpha1.RewardsProgramSpec) {
		return func(s *v1alpha1.RewardsProgramSpec) {
			for i := range s.ExchangeRates {
				if s.ExchangeRates[i].Currency == cur {
					s.ExchangeRates[i].Rate = r
					return
				}
			}
			s.ExchangeRates = append(s.ExchangeRates, v1alpha1.ExchangeRate{Currency: cur, Rate: r})
		}
	}
	trailingWindow := func(s *v1alpha1.RewardsProgramSpec) { s.SalesWindow = v1alpha1.SalesWindowTrailing12Months }
	// extraTier2Benefit adds a Transact benefit that tier 2 unlocks.
	extraTier2Benefit := func(s *v1alpha1.RewardsProgramSpec) {
		s.Benefits = append(s.Benefits, v1alpha1.Benefit{Name: "webinar", Category: v1alpha1.BenefitCategoryMarketing, ListingTypes: []v1alpha1.ListingType{v1alpha1.ListingTypeTransact}})
		s.Tiers[1].Benefits = append(s.Tiers[1].Benefits, "webinar")
	}
	sales := func(amounts ...string) []v1alpha1.SalesRecord {
		out := make([]v1alpha1.SalesRecord, 0, len(amounts))
		for i, a := range amounts {
			out = append(out, mkSale("line-"+string(rune('a'+i)), "vm", a, "USD", lastYear))
		}
		return out
	}

	type want struct {
		changed, tierChanged, nextChanged bool
		tiers                             [2]int32
		newly, noLonger                   []string
		lines                             []LineChange
	}
	cases := map[string]struct {
		reason             string
		current, candidate *Rules
		records            []v1alpha1.SalesRecord
		want               want
	}{
		"SameProgram": {
			reason:  "the same rules change nothing",
			current: rules(), candidate: rules(), records: sales("30000"),
			want: want{tiers: [2]int32{2, 2}},
		},
		"RaisedTier2Drops": {
			reason:  "S6: raising Tier 2 to 50000 drops a publisher at 30000 to tier 1; the tier-2 benefit is no longer unlocked",
			current: rules(), candidate: rules(tier2At("50000")), records: sales("30000"),
			want: want{changed: true, tierChanged: true, nextChanged: true, tiers: [2]int32{2, 1}, noLonger: []string{"co-sell"}},
		},
		"RaisedTier2KeepsAbove": {
			reason:  "S6: raising Tier 2 to 50000 leaves a publisher at 60000 at tier 2 with the same next tier",
			current: rules(), candidate: rules(tier2At("50000")), records: sales("60000"),
			want: want{tiers: [2]int32{2, 2}},
		},
		"RaisedTier2NextGap": {
			reason:  "S7: raising Tier 2 changes what a tier-1 publisher is missing, not its tier",
			current: rules(), candidate: rules(tier2At("50000")), records: sales("1000"),
			want: want{changed: true, nextChanged: true, tiers: [2]int32{1, 1}},
		},
		"NewBenefit": {
			reason:  "S6: a benefit added to tier 2 is newly unlocked for a tier-2 publisher",
			current: rules(), candidate: rules(extraTier2Benefit), records: sales("30000"),
			want: want{changed: true, tiers: [2]int32{2, 2}, newly: []string{"webinar"}},
		},
		"NewRate": {
			reason:  "S2: a rate for CHF makes a CHF line count: its verdict changes, and the tier with it",
			current: rules(), candidate: rules(rate("CHF", "1.1")),
			records: append(sales("20000"), mkSale("chf", "vm", "10000", "CHF", lastYear)),
			want: want{changed: true, tierChanged: true, nextChanged: true, tiers: [2]int32{1, 2}, newly: []string{"co-sell"},
				lines: []LineChange{{Record: "chf", Offer: "vm",
					Current:   LineOutcome{Reason: v1alpha1.SalesNoExchangeRate},
					Candidate: LineOutcome{Counted: true, Reason: v1alpha1.SalesCounted, Amount: mustMoneyPtr("11000")}}},
			},
		},
		"RateRemoved": {
			reason:  "S2: without its GBP rate, a GBP line no longer counts",
			current: rules(), candidate: rules(func(s *v1alpha1.RewardsProgramSpec) { s.ExchangeRates = s.ExchangeRates[:1] }),
			records: []v1alpha1.SalesRecord{mkSale("gbp", "vm", "1000", "GBP", lastYear), mkSale("eur", "vm", "1000", "EUR", lastYear)},
			want: want{changed: true, nextChanged: true, tiers: [2]int32{1, 1},
				lines: []LineChange{{Record: "gbp", Offer: "vm",
					Current:   LineOutcome{Counted: true, Reason: v1alpha1.SalesCounted, Amount: mustMoneyPtr("1270")},
					Candidate: LineOutcome{Reason: v1alpha1.SalesNoExchangeRate}}},
			},
		},
		"ChangedRate": {
			reason:  "S2: a changed rate changes the amount a EUR line counts for, and only EUR lines",
			current: rules(), candidate: rules(rate("EUR", "1.10")),
			records: []v1alpha1.SalesRecord{mkSale("eur", "vm", "1000", "EUR", lastYear), mkSale("gbp", "vm", "1000", "GBP", lastYear), mkSale("usd", "vm", "1000", "USD", lastYear)},
			want: want{changed: true, nextChanged: true, tiers: [2]int32{1, 1},
				lines: []LineChange{{Record: "eur", Offer: "vm",
					Current:   LineOutcome{Counted: true, Reason: v1alpha1.SalesCounted, Amount: mustMoneyPtr("1080")},
					Candidate: LineOutcome{Counted: true, Reason: v1alpha1.SalesCounted, Amount: mustMoneyPtr("1100")}}},
			},
		},
		"TrailingWindow": {
			reason:  "S4: moving to Trailing12Months leaves out a line older than twelve months",
			current: rules(), candidate: rules(trailingWindow),
			records: append(sales("20000"), mkSale("old", "vm", "10000", "USD", utc(2024, time.June, 1, 0, 0, 0))),
			want: want{changed: true, tierChanged: true, nextChanged: true, tiers: [2]int32{2, 1}, noLonger: []string{"co-sell"},
				lines: []LineChange{{Record: "old", Offer: "vm",
					Current:   LineOutcome{Counted: true, Reason: v1alpha1.SalesCounted, Amount: mustMoneyPtr("10000")},
					Candidate: LineOutcome{Reason: v1alpha1.SalesOutsideWindow, Amount: mustMoneyPtr("10000")}}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := ComparePrograms(tc.current, tc.candidate, vm, tc.records, now)
			got := want{
				changed: c.Changed(), tierChanged: c.TierChanged(), nextChanged: c.NextTierChanged(),
				tiers: [2]int32{c.Current.Tier, c.Candidate.Tier}, newly: c.NewlyUnlocked(), noLonger: c.NoLongerUnlocked(), lines: c.Lines,
			}
			if diff := cmp.Diff(tc.want, got, append(cmpOpts, cmp.AllowUnexported(want{}))...); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			// Each side is what ComputeTier says under its program.
			for side, r := range map[string]*Rules{"current": tc.current, "candidate": tc.candidate} {
				o := c.Current
				if side == "candidate" {
					o = c.Candidate
				}
				res := ComputeTier(r, vm, tc.records, now)
				if res.Tier != o.Tier || res.BilledSales.Cmp(o.BilledSales) != 0 || !sameProgress(res.Next, o.Next) {
					t.Errorf("%s\n%s: tier %d, billed %s; ComputeTier says %d, %s", tc.reason, side, o.Tier, o.BilledSales, res.Tier, res.BilledSales)
				}
			}
		})
	}
}

func TestUnlockedBenefits(t *testing.T) {
	rules := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	for tier, want := range map[int32][]string{
		0: nil,
		1: {"listing-badge"},
		3: {"azure-credits", "co-sell", "listing-badge"},
		5: {"azure-credits", "case-study", "co-sell", "field-engagement", "listing-badge"},
	} {
		if diff := cmp.Diff(want, UnlockedBenefits(rules, tier)); diff != "" {
			t.Errorf("S6: tier %d unlocks its own and lower tiers' benefits: -want, +got:\n%s", tier, diff)
		}
	}
}
