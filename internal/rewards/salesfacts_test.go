package rewards

import (
	"testing"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// TestDecidesLike: two sales facts decide every activation alike when
// what the activation rules read of them is the same; a cancelled
// purchase in either makes R4 read every line, so they may not.
func TestDecidesLike(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	rules := defaultRulesFor(v1alpha1.SalesWindowTrailing12Months)
	offers := []v1alpha1.Offer{mkOffer("saas", v1alpha1.ListingTypeTransact, now.AddDate(-1, 0, 0))}
	facts := func(records ...v1alpha1.SalesRecord) SalesFacts { return SalesFactsFor(rules, offers, records, now) }
	// 30,000 USD billed two months ago: Tier 2, leaving the window in ten months.
	base := []v1alpha1.SalesRecord{mkSale("a", "saas", "30000", "USD", now.AddDate(0, -2, 0))}
	with := func(more ...v1alpha1.SalesRecord) []v1alpha1.SalesRecord {
		return append(append([]v1alpha1.SalesRecord{}, base...), more...)
	}

	cases := map[string]struct {
		reason string
		other  SalesFacts
		want   bool
	}{
		"SameLines": {
			reason: "the same lines decide alike",
			other:  facts(base...), want: true,
		},
		"NewLineSameTier": {
			reason: "B2: a new line that changes neither the tier nor the next change decides alike",
			other:  facts(with(mkSale("b", "saas", "1000", "USD", now.AddDate(0, -1, 0)))...), want: true,
		},
		"NewLineOtherTier": {
			reason: "B2, R4: a new line that reaches another tier may change a decision",
			other:  facts(with(mkSale("b", "saas", "80000", "USD", now.AddDate(0, -1, 0)))...), want: false,
		},
		"NewLineChangesFirst": {
			reason: "S4: a line leaving the window before the others changes when activations look again",
			other:  facts(with(mkSale("b", "saas", "10", "USD", now.AddDate(0, -11, 0)))...), want: false,
		},
		"FraudReported": {
			reason: "R3: a line reported as fraud may revoke a benefit",
			other:  facts(with(mkSale("b", "saas", "10", "USD", now.AddDate(0, -1, 0), build.Fraud(v1alpha1.FraudSuspected)))...), want: false,
		},
		"CancelledPurchase": {
			reason: "R4: with a cancelled purchase, any line may change which purchase unlocked a tier",
			other:  facts(with(mkSale("b", "saas", "10", "USD", now.AddDate(0, -1, 0), build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)))...), want: false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := facts(base...).DecidesLike(tc.other); got != tc.want {
				t.Errorf("%s\nDecidesLike = %v, want %v", tc.reason, got, tc.want)
			}
			if got := tc.other.DecidesLike(facts(base...)); got != tc.want {
				t.Errorf("%s\nDecidesLike the other way = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}
