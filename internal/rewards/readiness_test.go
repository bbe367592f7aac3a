package rewards

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestTierSentence(t *testing.T) {
	seats := func(n int64) *int64 { return &n }
	cases := map[string]struct {
		reason string
		res    TierResult
		want   string
	}{
		"TierWithNext": {
			reason: "S7: the tier reached, what was counted, and what the next tier needs",
			res: TierResult{Tier: 2, TierName: "Tier 2", BilledSales: MustParseMoney("26870.75"), Seats: 0,
				Next: &v1alpha1.TierProgress{Level: 3, Name: "Tier 3", BilledSalesMissing: "73129.25"}},
			want: "Tier 2 reached: 26870.75 USD billed sales and 0 seats counted; Tier 3 needs 73129.25 USD more",
		},
		"SeatsToo": {
			reason: "S5/S7: a next tier also reachable by seats says how many",
			res: TierResult{Tier: 1, TierName: "Tier 1", BilledSales: MustParseMoney("1000"), Seats: 40,
				Next: &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "24000", SeatsMissing: seats(60)}},
			want: "Tier 1 reached: 1000.00 USD billed sales and 40 seats counted; Tier 2 needs 24000 USD more or 60 more seats",
		},
		"NoTierNeedsOffer": {
			reason: "S6/S7: without a live Transact offer there is no tier, and the sentence says what is missing",
			res: TierResult{BilledSales: MustParseMoney("30000"),
				Next: &v1alpha1.TierProgress{Level: 1, Name: "Tier 1", BilledSalesMissing: "0", NeedsLiveTransactOffer: true}},
			want: "no tier: 30000.00 USD billed sales and 0 seats counted; Tier 1 needs a live Transact offer",
		},
		"TopTier": {
			reason: "S7: at the top tier there is no next tier to name",
			res:    TierResult{Tier: 5, TierName: "Tier 5", BilledSales: MustParseMoney("6000000")},
			want:   "Tier 5 reached: 6000000.00 USD billed sales and 0 seats counted",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := TierSentence(tc.res, "USD"); got != tc.want {
				t.Errorf("%s\nTierSentence = %q\nwant          %q", tc.reason, got, tc.want)
			}
		})
	}
}

func TestPublisherReadiness(t *testing.T) {
	res := TierResult{Tier: 1, TierName: "Tier 1", BilledSales: MustParseMoney("10")}
	valid := ProgramState{Name: "gold", Rules: DefaultRules(), Generation: 2, RulesGeneration: 2, Revision: "gold-0123456789"}
	superseded := valid
	superseded.Problem, superseded.Generation, superseded.RulesGeneration = "spec.tiers: broken", 3, 2
	tooLarge := &Problem{Reason: v1alpha1.ReasonValueOutOfRange, Message: "status.billedSales cannot be shown"}
	cases := map[string]struct {
		reason string
		prog   ProgramState
		probs  []*Problem
		want   Readiness
		has    string
	}{
		"TierComputed": {
			reason: "S7: Ready with the tier sentence under valid rules",
			prog:   valid, want: Readiness{Ready: true, Reason: v1alpha1.ReasonTierComputed}, has: "Tier 1 reached",
		},
		"Superseded": {
			reason: "program safety: Ready under the last valid rules, saying so",
			prog:   superseded, want: Readiness{Ready: true, Reason: v1alpha1.ReasonTierComputed}, has: "the rules of generation 2 (RewardsProgramRevision \"gold-0123456789\") stay in force",
		},
		"ProgramMissing": {
			reason: "a missing program: not Ready, ProgramNotFound",
			prog:   ProgramState{Name: "gold", Missing: true, Rules: DefaultRules()}, want: Readiness{Reason: v1alpha1.ReasonProgramNotFound}, has: "spec.programRef",
		},
		"NeverValid": {
			reason: "program safety: a program never valid decides nothing",
			prog:   ProgramState{Name: "gold", Rules: DefaultRules(), Problem: "broken", Generation: 1}, want: Readiness{Reason: v1alpha1.ReasonProgramInvalid}, has: "never was",
		},
		"OutOfRange": {
			reason: "bounds: a sum status cannot hold is not a stale Ready",
			prog:   valid, probs: []*Problem{nil, tooLarge}, want: Readiness{Reason: v1alpha1.ReasonValueOutOfRange}, has: "billedSales",
		},
		"ProgramFirst": {
			reason: "the program comes before a value out of range",
			prog:   ProgramState{Name: "gold", Missing: true, Rules: DefaultRules()}, probs: []*Problem{tooLarge}, want: Readiness{Reason: v1alpha1.ReasonProgramNotFound},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := PublisherReadiness(tc.prog, res, tc.probs...)
			if diff := cmp.Diff(tc.want, Readiness{Ready: got.Ready, Reason: got.Reason}); diff != "" {
				t.Errorf("%s\nPublisherReadiness: -want +got:\n%s", tc.reason, diff)
			}
			if got.Message == "" || !contains(got.Message, tc.has) {
				t.Errorf("%s\nmessage %q, want it to mention %q", tc.reason, got.Message, tc.has)
			}
		})
	}
}

func TestOfferReadiness(t *testing.T) {
	live := utc(2026, time.March, 1, 0, 0, 0)
	valid := ProgramState{Name: "gold", Rules: DefaultRules(), Generation: 1, RulesGeneration: 1, Revision: "gold-0123456789"}
	offer := mkOffer("saas", v1alpha1.ListingTypeTransact, live)
	delisted := mkOffer("saas", v1alpha1.ListingTypeTransact, live, build.DelistedAt(live.AddDate(0, 1, 0)))
	cases := map[string]struct {
		reason    string
		offer     v1alpha1.Offer
		published bool
		prog      ProgramState
		phase     v1alpha1.OfferPhase
		want      Readiness
		has       string
	}{
		"Scheduled": {reason: "O2: a Scheduled offer is Ready, reason Scheduled, naming liveAt", offer: offer, published: true, prog: valid,
			phase: v1alpha1.OfferScheduled, want: Readiness{Ready: true, Reason: "Scheduled"}, has: "goes live at 2026-03-01T00:00:00Z"},
		"Live": {reason: "O2: a Live offer", offer: offer, published: true, prog: valid,
			phase: v1alpha1.OfferLive, want: Readiness{Ready: true, Reason: "Live"}, has: "live since 2026-03-01T00:00:00Z"},
		"Delisted": {reason: "O2: a Delisted offer", offer: delisted, published: true, prog: valid,
			phase: v1alpha1.OfferDelisted, want: Readiness{Ready: true, Reason: "Delisted"}, has: "delisted at 2026-04-01T00:00:00Z"},
		"PublisherNotFound": {reason: "references: the publisher comes first", offer: offer, published: false, prog: ProgramState{Missing: true},
			phase: v1alpha1.OfferLive, want: Readiness{Reason: v1alpha1.ReasonPublisherNotFound}, has: "spec.publisherRef"},
		"ProgramNotFound": {reason: "references: then the program", offer: offer, published: true, prog: ProgramState{Name: "gold", Missing: true},
			phase: v1alpha1.OfferLive, want: Readiness{Reason: v1alpha1.ReasonProgramNotFound}, has: `"gold"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := OfferReadiness(&tc.offer, tc.published, tc.prog, OfferFacts{Phase: tc.phase})
			if diff := cmp.Diff(tc.want, Readiness{Ready: got.Ready, Reason: got.Reason}); diff != "" {
				t.Errorf("%s\nOfferReadiness: -want +got:\n%s", tc.reason, diff)
			}
			if !contains(got.Message, tc.has) {
				t.Errorf("%s\nmessage %q, want it to mention %q", tc.reason, got.Message, tc.has)
			}
		})
	}
}

func TestStandingOf(t *testing.T) {
	if got := StandingOf(&v1alpha1.PublisherSpec{}); got != v1alpha1.StandingGood {
		t.Errorf("P5: no violation: standing %s, want Good", got)
	}
	if got := StandingOf(&v1alpha1.PublisherSpec{Violations: []v1alpha1.Violation{{Type: v1alpha1.ViolationDelisted}}}); got != v1alpha1.StandingViolation {
		t.Errorf("P5: a violation recorded: standing %s, want Violation", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestProgramReadiness(t *testing.T) {
	rules, _ := ResolveProgram(defaultProgramSpec())
	broken := []Problem{{Reason: v1alpha1.ReasonUnknownBenefit, Message: `spec.tiers[1].benefits names "x"`}, {Reason: v1alpha1.ReasonInvalidRate, Message: "rate"}}
	cases := map[string]struct {
		problems []Problem
		revision string
		want     Readiness
		has      []string
	}{
		"Valid": {want: Readiness{Ready: true, Reason: v1alpha1.ReasonValid}, has: []string{"tiers", "benefits in force"}},
		"InvalidLastRulesInForce": {
			problems: broken, revision: "gold-0123456789", want: Readiness{Reason: v1alpha1.ReasonUnknownBenefit},
			has: []string{`names "x"`, "and 1 more problems", `generation 3 (RewardsProgramRevision gold-0123456789) stay in force`},
		},
		"NeverValid": {
			problems: broken[:1], want: Readiness{Reason: v1alpha1.ReasonUnknownBenefit},
			has: []string{"no rules are in force"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ProgramReadiness(rules, tc.problems, tc.revision, 3)
			if got.Ready != tc.want.Ready || got.Reason != tc.want.Reason {
				t.Errorf("ProgramReadiness = %+v, want %+v", got, tc.want)
			}
			for _, h := range tc.has {
				if !contains(got.Message, h) {
					t.Errorf("message %q, want it to mention %q", got.Message, h)
				}
			}
		})
	}
}
