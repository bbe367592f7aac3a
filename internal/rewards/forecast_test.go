package rewards

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestForecast(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	liveAt := utc(2024, time.January, 10, 0, 0, 0)
	// Billing instants and the instants the lines leave the trailing
	// window: twelve calendar months later (S4).
	april, aprilLeaves := utc(2025, time.April, 1, 0, 0, 0), utc(2026, time.April, 1, 0, 0, 0)
	may, mayLeaves := utc(2025, time.May, 31, 12, 0, 0), utc(2026, time.May, 31, 12, 0, 0)
	oct, octLeaves := utc(2025, time.October, 1, 0, 0, 0), utc(2026, time.October, 1, 0, 0, 0)
	// 29 February 2024 + 12 months is 28 February 2025 (AddCalendarMonths).
	leap, leapLeaves := utc(2025, time.February, 28, 8, 0, 0).AddDate(-1, 0, 1), utc(2025, time.February, 28, 8, 0, 0)

	lifetime := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	trailing := defaultRulesFor(v1alpha1.SalesWindowTrailing12Months)
	// seatsTrailing counts seats billed until 2030 (S5).
	seatsSpec := defaultProgramSpec()
	seatsSpec.SalesWindow = v1alpha1.SalesWindowTrailing12Months
	seatsSpec.SeatsCutoff = metaTimePtr(utc(2030, time.January, 1, 0, 0, 0))
	seatsTrailing, _ := ResolveProgram(seatsSpec)

	vm := mkOffer("vm", v1alpha1.ListingTypeTransact, liveAt)
	teams := mkOffer("teams", v1alpha1.ListingTypeTransact, liveAt, build.Microsoft365("Teams"))

	forecast := func(at time.Time, tier int32, billed string, seats int64) *v1alpha1.TierForecast {
		f := &v1alpha1.TierForecast{DropsAt: metav1.NewTime(at), Tier: tier, BilledSales: v1alpha1.DerivedMoney(billed), Seats: seats}
		if tier > 0 {
			f.TierName = map[int32]string{1: "Tier 1", 2: "Tier 2", 3: "Tier 3"}[tier]
		}
		return f
	}

	cases := map[string]struct {
		reason  string
		rules   *Rules
		offers  []v1alpha1.Offer
		records []v1alpha1.SalesRecord
		now     time.Time
		want    *v1alpha1.TierForecast
	}{
		"Lifetime": {
			reason: "S4: under Lifetime nothing ages out: no forecast",
			rules:  lifetime, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{mkSale("r1", "vm", "30000", "USD", april)},
		},
		"DropsWhenLineAgesOut": {
			reason: "S4/S6: tier 2 on 30000; the 20000 line leaves at 1 April 2026 00:00:00, leaving 10000: tier 1 from that instant",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("r1", "vm", "20000", "USD", april),
				mkSale("r2", "vm", "10000", "USD", oct),
			},
			want: forecast(aprilLeaves, 1, "10000.00", 0),
		},
		"OneSecondBefore": {
			reason: "S4: one second before the line ages out the tier is still 2 and the forecast is that exact instant",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: aprilLeaves.Add(-time.Second),
			records: []v1alpha1.SalesRecord{
				mkSale("r1", "vm", "20000", "USD", april),
				mkSale("r2", "vm", "10000", "USD", oct),
			},
			want: forecast(aprilLeaves, 1, "10000.00", 0),
		},
		"AtTheInstant": {
			reason: "S4: at the instant the line ages out the tier is 1 already, and with a live Transact offer tier 1 never drops: no forecast",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: aprilLeaves,
			records: []v1alpha1.SalesRecord{
				mkSale("r1", "vm", "20000", "USD", april),
				mkSale("r2", "vm", "10000", "USD", oct),
			},
		},
		"SeveralLinesLeaveFirst": {
			reason: "S4: lines leaving while the sum stays above the threshold change nothing; the drop is when the sum falls below 25000",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("r1", "vm", "3000", "USD", april),
				mkSale("r2", "vm", "24000", "USD", may),
				mkSale("r3", "vm", "2000", "USD", oct),
			},
			want: forecast(mayLeaves, 1, "2000.00", 0),
		},
		"SameInstantTogether": {
			reason: "S4: lines leaving at the same instant leave together: the forecast shows the sum after both",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("r1", "vm", "90000", "USD", april),
				mkSale("r2", "vm", "9000", "USD", april),
				mkSale("r3", "vm", "26000", "USD", oct),
			},
			want: forecast(aprilLeaves, 2, "26000.00", 0),
		},
		"EndOfMonth": {
			reason: "S4: a line billed 29 February leaves on 28 February of the next year (calendar months)",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: leap.AddDate(0, 6, 0),
			records: []v1alpha1.SalesRecord{mkSale("r1", "vm", "30000", "USD", leap)},
			want:    forecast(leapLeaves, 1, "0.00", 0),
		},
		"FraudAndCancelledDoNotCount": {
			reason: "S3: fraud Proven and cancelled lines never counted, so they never leave: the drop comes from the counted line only",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("counted", "vm", "30000", "USD", oct),
				mkSale("fraud", "vm", "500000", "USD", april, build.Fraud(v1alpha1.FraudProven)),
				mkSale("cancelled", "vm", "500000", "USD", may, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
			},
			want: forecast(octLeaves, 1, "0.00", 0),
		},
		"MissingRateDoesNotCount": {
			reason: "S2: a line without an exchange rate is not in the sum, so it does not delay the drop",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("usd", "vm", "25000", "USD", april),
				mkSale("chf", "vm", "90000", "CHF", oct),
			},
			want: forecast(aprilLeaves, 1, "0.00", 0),
		},
		"ConvertedAtRate": {
			reason: "S2: a EUR line counts at the rate (1.08) and leaves with its converted amount",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("eur", "vm", "20000", "EUR", april),
				mkSale("usd", "vm", "5000", "USD", oct),
			},
			want: forecast(aprilLeaves, 1, "5000.00", 0),
		},
		"FutureLinePostpones": {
			reason: "S4: a line billed in the future enters the window at its billedAt and keeps the tier when the older line leaves",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("r1", "vm", "20000", "USD", april),
				mkSale("r2", "vm", "10000", "USD", oct),
				mkSale("next", "vm", "15000", "USD", utc(2026, time.March, 20, 0, 0, 0)),
			},
			// 1 April: 10000 + 15000 = 25000, still tier 2; 1 October: 15000.
			want: forecast(octLeaves, 1, "15000.00", 0),
		},
		"FutureLineRaisesThenDrops": {
			reason: "S6: the forecast is when the tier falls below today's: a future line raises it to 3, and it drops below 2 only when the lines have left",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("r1", "vm", "30000", "USD", april),
				mkSale("next", "vm", "90000", "USD", utc(2026, time.March, 20, 0, 0, 0)),
			},
			// 20 March 2026: 120000 (tier 3); 1 April 2026: 90000 (tier 2);
			// 20 March 2027: 0 (tier 1).
			want: forecast(utc(2027, time.March, 20, 0, 0, 0), 1, "0.00", 0),
		},
		"DelistingEndsTheTier": {
			reason: "S6/O2: the only live Transact offer is delisted before any line leaves: tier 0 from delistedAt",
			rules:  trailing, offers: []v1alpha1.Offer{mkOffer("vm", v1alpha1.ListingTypeTransact, liveAt, build.DelistedAt(utc(2026, time.March, 31, 0, 0, 0)))}, now: now,
			records: []v1alpha1.SalesRecord{mkSale("r1", "vm", "30000", "USD", april)},
			want:    forecast(utc(2026, time.March, 31, 0, 0, 0), 0, "30000.00", 0),
		},
		"AnotherOfferGoesLiveAsOneIsDelisted": {
			reason: "S6/O2: a Transact offer going live at the instant the other is delisted keeps a live Transact offer: the drop is the line ageing out",
			rules:  trailing, offers: []v1alpha1.Offer{
				mkOffer("vm", v1alpha1.ListingTypeTransact, liveAt, build.DelistedAt(utc(2026, time.March, 31, 0, 0, 0))),
				mkOffer("vm-2", v1alpha1.ListingTypeTransact, utc(2026, time.March, 31, 0, 0, 0)),
			}, now: now,
			records: []v1alpha1.SalesRecord{mkSale("r1", "vm", "30000", "USD", april)},
			want:    forecast(aprilLeaves, 1, "0.00", 0),
		},
		"SeatsLeaveToo": {
			reason: "S5/S6: tier 2 reached by 1000 seats; the seats leave with their line",
			rules:  seatsTrailing, offers: []v1alpha1.Offer{teams}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("seats", "teams", "100", "USD", april, build.Seats(1000)),
				mkSale("more", "teams", "100", "USD", oct, build.Seats(10)),
			},
			want: forecast(aprilLeaves, 1, "100.00", 10),
		},
		"NoTier": {
			reason: "S6: without a tier nothing can drop",
			rules:  trailing, now: now,
			records: []v1alpha1.SalesRecord{mkSale("r1", "vm", "30000", "USD", april)},
		},
		"TierOneStays": {
			reason: "S6: tier 1 needs only a live Transact offer: lines leaving never drop it",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{mkSale("r1", "vm", "300", "USD", april)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, detail := ComputeTierDetail(tc.rules, tc.offers, tc.records, tc.now)
			if diff := cmp.Diff(tc.want, detail.Forecast); diff != "" {
				t.Errorf("%s\nforecast (tier now %d): -want, +got:\n%s", tc.reason, res.Tier, diff)
			}
			if tc.want == nil {
				return
			}
			// The forecast is what ComputeTier says at that instant, and the
			// tier is still higher the instant before.
			at := tc.want.DropsAt.Time
			if then := ComputeTier(tc.rules, tc.offers, tc.records, at); then.Tier != tc.want.Tier || then.BilledSales.String() != string(tc.want.BilledSales) || then.Seats != tc.want.Seats {
				t.Errorf("%s\nComputeTier at %s: tier %d, billed %s, seats %d; the forecast says %d, %s, %d",
					tc.reason, at, then.Tier, then.BilledSales, then.Seats, tc.want.Tier, tc.want.BilledSales, tc.want.Seats)
			}
			if before := ComputeTier(tc.rules, tc.offers, tc.records, at.Add(-time.Nanosecond)); before.Tier < res.Tier {
				t.Errorf("%s\nthe tier dropped to %d before the forecast's instant", tc.reason, before.Tier)
			}
			// The publisher wakes up no later than the drop, to recompute it.
			if res.NextChangeAt == nil || res.NextChangeAt.After(at) {
				t.Errorf("%s\nNextChangeAt %v is after the drop at %s", tc.reason, res.NextChangeAt, at)
			}
		})
	}
}
