package rewards

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestComputeTier(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	past := utc(2025, time.December, 1, 0, 0, 0)
	liveAt := utc(2024, time.January, 10, 0, 0, 0)
	cutoff := utc(2021, time.June, 30, 23, 59, 59)
	beforeCutoff := utc(2021, time.May, 1, 0, 0, 0)

	lifetime := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	trailing := defaultRulesFor(v1alpha1.SalesWindowTrailing12Months)

	vm := mkOffer("vm", v1alpha1.ListingTypeTransact, liveAt)
	saas := mkOffer("saas", v1alpha1.ListingTypeTransact, liveAt)
	teams := mkOffer("teams-app", v1alpha1.ListingTypeTransact, utc(2020, time.January, 1, 0, 0, 0), build.Microsoft365("Teams"))
	list := mkOffer("byol", v1alpha1.ListingTypeList, liveAt)

	type args struct {
		rules   *Rules
		offers  []v1alpha1.Offer
		records []v1alpha1.SalesRecord
		now     time.Time
	}
	type want struct {
		res TierResult
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"NoOffers": {
			reason: "S6/S7: no live Transact offer: tier 0, next is tier 1, which needs a live Transact offer",
			args:   args{lifetime, nil, nil, now},
			want: want{res: TierResult{
				Next: &v1alpha1.TierProgress{Level: 1, Name: "Tier 1", BilledSalesMissing: "0.00", NeedsLiveTransactOffer: true},
			}},
		},
		"OnlyListAndDelistedTransact": {
			reason: "S6: sales alone do not reach a tier: without a live Transact offer (the only one is delisted) the tier is 0",
			args: args{lifetime,
				[]v1alpha1.Offer{list, mkOffer("old", v1alpha1.ListingTypeTransact, liveAt, build.DelistedAt(past))},
				[]v1alpha1.SalesRecord{mkSale("r1", "old", "50000", "USD", liveAt.AddDate(0, 1, 0))},
				now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("50000"),
					Next:        &v1alpha1.TierProgress{Level: 1, Name: "Tier 1", BilledSalesMissing: "0.00", NeedsLiveTransactOffer: true},
					Offers:      v1alpha1.OfferCounts{List: 1, Transact: 1, Live: 1},
					Counted:     1,
				},
			},
		},
		"LiveTransactNoSales": {
			reason: "S6: any live Transact offer reaches tier 1, even with no sales",
			args:   args{lifetime, []v1alpha1.Offer{vm}, nil, now},
			want: want{res: TierResult{
				Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
				Next:   &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "25000.00"},
				Offers: v1alpha1.OfferCounts{Transact: 1, Live: 1},
			}},
		},
		"Exactly25000": {
			reason: "S6: exactly 25000 billed reaches tier 2",
			args: args{lifetime, []v1alpha1.Offer{vm},
				[]v1alpha1.SalesRecord{mkSale("r1", "vm", "25000", "USD", past)}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("25000"), Tier: 2, TierName: "Tier 2", HasLiveTransactOffer: true,
					Next:    &v1alpha1.TierProgress{Level: 3, Name: "Tier 3", BilledSalesMissing: "75000.00"},
					Offers:  v1alpha1.OfferCounts{Transact: 1, Live: 1},
					Counted: 1,
				},
			},
		},
		"JustBelow25000": {
			reason: "S6/S7: 24999.99 stays in tier 1, missing exactly 0.01",
			args: args{lifetime, []v1alpha1.Offer{vm},
				[]v1alpha1.SalesRecord{mkSale("r1", "vm", "24999.99", "USD", past)}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("24999.99"), Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:    &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "0.01"},
					Offers:  v1alpha1.OfferCounts{Transact: 1, Live: 1},
					Counted: 1,
				},
			},
		},
		"SumOverOffers": {
			reason: "S4/S2: sales of all the publisher's offers are summed, converted exactly: 20000 USD + 1000 EUR×1.08 + 3000 GBP×1.27 = 24890",
			args: args{lifetime, []v1alpha1.Offer{vm, saas},
				[]v1alpha1.SalesRecord{
					mkSale("r1", "vm", "20000", "USD", past),
					mkSale("r2", "saas", "1000", "EUR", past),
					mkSale("r3", "saas", "3000", "GBP", past),
				}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("24890"), Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:    &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "110.00"},
					Offers:  v1alpha1.OfferCounts{Transact: 2, Live: 2},
					Counted: 3,
				},
			},
		},
		"SumReachesTier2": {
			reason: "S4: two offers' lines together reach tier 2 where neither does alone",
			args: args{lifetime, []v1alpha1.Offer{vm, saas},
				[]v1alpha1.SalesRecord{
					mkSale("r1", "vm", "12500.01", "USD", past),
					mkSale("r2", "saas", "12499.99", "USD", past),
				}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("25000"), Tier: 2, TierName: "Tier 2", HasLiveTransactOffer: true,
					Next:    &v1alpha1.TierProgress{Level: 3, Name: "Tier 3", BilledSalesMissing: "75000.00"},
					Offers:  v1alpha1.OfferCounts{Transact: 2, Live: 2},
					Counted: 2,
				},
			},
		},
		"FraudAndCancelLowerTier": {
			reason: "S3: fraud Proven and cancelled lines are excluded and the tier drops to 1; Suspected still counts",
			args: args{lifetime, []v1alpha1.Offer{vm, saas},
				[]v1alpha1.SalesRecord{
					mkSale("r1", "vm", "20000", "USD", past),
					mkSale("r2", "vm", "5000", "USD", past, build.Fraud(v1alpha1.FraudProven)),
					mkSale("r3", "saas", "5000", "USD", past, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
					mkSale("r4", "saas", "100", "USD", past, build.Fraud(v1alpha1.FraudSuspected)),
				}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("20100"), Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:    &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "4900.00"},
					Offers:  v1alpha1.OfferCounts{Transact: 2, Live: 2},
					Counted: 2, Excluded: 2,
				},
			},
		},
		"ExclusionsAndCounts": {
			reason: "S1/S2/S7: offers are counted by listing type and Live; lines of List offers, without a rate or without an offer are Excluded",
			args: args{lifetime,
				[]v1alpha1.Offer{
					vm, list,
					mkOffer("trial", v1alpha1.ListingTypeTrial, liveAt, build.DelistedAt(past)),
					mkOffer("consult", v1alpha1.ListingTypeConsulting, liveAt),
					mkOffer("consult-2", v1alpha1.ListingTypeConsulting, liveAt),
					mkOffer("next", v1alpha1.ListingTypeTransact, now.AddDate(1, 0, 0)),
				},
				[]v1alpha1.SalesRecord{
					mkSale("r1", "vm", "1000", "USD", past),
					mkSale("r2", "byol", "100000", "USD", past),
					mkSale("r3", "vm", "100000", "JPY", past),
					mkSale("r4", "ghost", "100000", "USD", past),
				}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("1000"), Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:         &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "24000.00"},
					Offers:       v1alpha1.OfferCounts{List: 1, Trial: 1, Consulting: 2, Transact: 2, Live: 4},
					Counted:      1,
					Excluded:     3,
					NextChangeAt: ptrTo(now.AddDate(1, 0, 0)),
				},
			},
		},
		"TopTier": {
			reason: "S6/S7: the top tier has no next tier",
			args: args{lifetime, []v1alpha1.Offer{vm},
				[]v1alpha1.SalesRecord{mkSale("r1", "vm", "4999999.99", "USD", past), mkSale("r2", "vm", "0.01", "USD", past)}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("5000000"), Tier: 5, TierName: "Tier 5", HasLiveTransactOffer: true,
					Offers:  v1alpha1.OfferCounts{Transact: 1, Live: 1},
					Counted: 2,
				},
			},
		},
		"SeatsReachTier": {
			reason: "S5/S6: 1000 seats of a Microsoft 365 app billed before the cut-off reach tier 2 on $10; the next tier shows both gaps",
			args: args{lifetime, []v1alpha1.Offer{teams},
				[]v1alpha1.SalesRecord{
					mkSale("r1", "teams-app", "10", "USD", utc(2021, time.March, 1, 0, 0, 0), build.Seats(600)),
					mkSale("r2", "teams-app", "0", "USD", utc(2021, time.April, 1, 0, 0, 0), build.Seats(400)),
				}, beforeCutoff},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("10"), Seats: 1000, Tier: 2, TierName: "Tier 2", HasLiveTransactOffer: true,
					Next:         &v1alpha1.TierProgress{Level: 3, Name: "Tier 3", BilledSalesMissing: "99990.00", SeatsMissing: ptrTo[int64](9000)},
					Offers:       v1alpha1.OfferCounts{Transact: 1, Live: 1},
					Counted:      2,
					NextChangeAt: ptrTo(cutoff.Add(time.Nanosecond)),
				},
			},
		},
		"SeatsMissingAtCutoff": {
			reason: "S5/S7: at exactly the seats cut-off, seats can still help: SeatsMissing is shown, and it changes just after",
			args: args{lifetime, []v1alpha1.Offer{teams},
				[]v1alpha1.SalesRecord{mkSale("r1", "teams-app", "10", "USD", utc(2021, time.March, 1, 0, 0, 0), build.Seats(10))}, cutoff},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("10"), Seats: 10, Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:         &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "24990.00", SeatsMissing: ptrTo[int64](990)},
					Offers:       v1alpha1.OfferCounts{Transact: 1, Live: 1},
					Counted:      1,
					NextChangeAt: ptrTo(cutoff.Add(time.Nanosecond)),
				},
			},
		},
		"SeatsMissingOmittedAfterCutoff": {
			reason: "S5/S7: after the seats cut-off SeatsMissing is omitted (seats can no longer help); seats already counted still reach tier 2",
			args: args{lifetime, []v1alpha1.Offer{teams},
				[]v1alpha1.SalesRecord{
					mkSale("r1", "teams-app", "10", "USD", utc(2021, time.March, 1, 0, 0, 0), build.Seats(1000)),
					mkSale("r2", "teams-app", "10", "USD", cutoff.Add(time.Second), build.Seats(50000)),
				}, cutoff.Add(time.Second)},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("20"), Seats: 1000, Tier: 2, TierName: "Tier 2", HasLiveTransactOffer: true,
					Next:    &v1alpha1.TierProgress{Level: 3, Name: "Tier 3", BilledSalesMissing: "99980.00"},
					Offers:  v1alpha1.OfferCounts{Transact: 1, Live: 1},
					Counted: 2,
				},
			},
		},
		"NextChangeAgeOut": {
			reason: "S4: NextChangeAt is the earliest instant: a line ageing out (1 Apr 2026) before a scheduled Transact offer goes live (1 May 2026)",
			args: args{trailing,
				[]v1alpha1.Offer{vm, mkOffer("next", v1alpha1.ListingTypeTransact, utc(2026, time.May, 1, 0, 0, 0))},
				[]v1alpha1.SalesRecord{
					mkSale("r1", "vm", "20000", "USD", utc(2025, time.April, 1, 0, 0, 0)),
					mkSale("r2", "vm", "5000", "USD", utc(2025, time.October, 1, 0, 0, 0)),
					mkSale("r3", "vm", "7000", "USD", utc(2025, time.March, 1, 0, 0, 0)),
				}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("25000"), Tier: 2, TierName: "Tier 2", HasLiveTransactOffer: true,
					Next:         &v1alpha1.TierProgress{Level: 3, Name: "Tier 3", BilledSalesMissing: "75000.00"},
					Offers:       v1alpha1.OfferCounts{Transact: 2, Live: 1},
					Counted:      2,
					Excluded:     1,
					NextChangeAt: ptrTo(utc(2026, time.April, 1, 0, 0, 0)),
				},
			},
		},
		"NextChangeGoLive": {
			reason: "O2/S4: NextChangeAt is the earliest instant: a scheduled Transact offer going live (20 Mar 2026) before a line ages out",
			args: args{trailing,
				[]v1alpha1.Offer{vm, mkOffer("next", v1alpha1.ListingTypeTransact, utc(2026, time.March, 20, 0, 0, 0))},
				[]v1alpha1.SalesRecord{mkSale("r1", "vm", "100", "USD", utc(2025, time.April, 1, 0, 0, 0))}, now},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("100"), Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:         &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "24900.00"},
					Offers:       v1alpha1.OfferCounts{Transact: 2, Live: 1},
					Counted:      1,
					NextChangeAt: ptrTo(utc(2026, time.March, 20, 0, 0, 0)),
				},
			},
		},
		"NextChangeFutureLine": {
			reason: "S4: a line billed in the future changes the result at its billedAt",
			args: args{lifetime, []v1alpha1.Offer{vm},
				[]v1alpha1.SalesRecord{mkSale("r1", "vm", "100", "USD", now.Add(time.Minute))}, now},
			want: want{
				res: TierResult{
					Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:         &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "25000.00"},
					Offers:       v1alpha1.OfferCounts{Transact: 1, Live: 1},
					Excluded:     1,
					NextChangeAt: ptrTo(now.Add(time.Minute)),
				},
			},
		},
		"NextChangeListGoesLive": {
			reason: "O2/S7: the count of Live offers changes when a List offer goes live, so NextChangeAt includes its liveAt",
			args:   args{lifetime, []v1alpha1.Offer{vm, mkOffer("byol", v1alpha1.ListingTypeList, now.AddDate(0, 0, 3))}, nil, now},
			want: want{
				res: TierResult{
					Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:         &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "25000.00"},
					Offers:       v1alpha1.OfferCounts{List: 1, Transact: 1, Live: 1},
					NextChangeAt: ptrTo(now.AddDate(0, 0, 3)),
				},
			},
		},
		"NextChangeDelisting": {
			reason: "O2/S6: a live Transact offer being delisted changes the tier at delistedAt",
			args:   args{lifetime, []v1alpha1.Offer{mkOffer("vm", v1alpha1.ListingTypeTransact, liveAt, build.DelistedAt(now.AddDate(0, 1, 0)))}, nil, now},
			want: want{
				res: TierResult{
					Tier: 1, TierName: "Tier 1", HasLiveTransactOffer: true,
					Next:         &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "25000.00"},
					Offers:       v1alpha1.OfferCounts{Transact: 1, Live: 1},
					NextChangeAt: ptrTo(now.AddDate(0, 1, 0)),
				},
			},
		},
		"ScheduledOnlyBeforeLiveAt": {
			reason: "S6/O2: a publisher whose only Transact offer is Scheduled has tier 0 until liveAt, even with sales",
			args: args{lifetime, []v1alpha1.Offer{mkOffer("vm", v1alpha1.ListingTypeTransact, now.Add(24*time.Hour))},
				[]v1alpha1.SalesRecord{mkSale("r1", "vm", "30000", "USD", past)}, now},
			want: want{
				res: TierResult{
					BilledSales:  MustParseMoney("30000"),
					Next:         &v1alpha1.TierProgress{Level: 1, Name: "Tier 1", BilledSalesMissing: "0.00", NeedsLiveTransactOffer: true},
					Offers:       v1alpha1.OfferCounts{Transact: 1},
					Counted:      1,
					NextChangeAt: ptrTo(now.Add(24 * time.Hour)),
				},
			},
		},
		"ScheduledOnlyAtLiveAt": {
			reason: "S6/O2: at liveAt the same publisher reaches tier 2 at once",
			args: args{lifetime, []v1alpha1.Offer{mkOffer("vm", v1alpha1.ListingTypeTransact, now.Add(24*time.Hour))},
				[]v1alpha1.SalesRecord{mkSale("r1", "vm", "30000", "USD", past)}, now.Add(24 * time.Hour)},
			want: want{
				res: TierResult{
					BilledSales: MustParseMoney("30000"), Tier: 2, TierName: "Tier 2", HasLiveTransactOffer: true,
					Next:    &v1alpha1.TierProgress{Level: 3, Name: "Tier 3", BilledSalesMissing: "70000.00"},
					Offers:  v1alpha1.OfferCounts{Transact: 1, Live: 1},
					Counted: 1,
				},
			},
		},
		"NoTiers": {
			reason: "S6: a program without tiers gives tier 0 and no next tier",
			args:   args{DefaultRules(), []v1alpha1.Offer{vm}, nil, now},
			want: want{res: TierResult{
				HasLiveTransactOffer: true,
				Offers:               v1alpha1.OfferCounts{Transact: 1, Live: 1},
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ComputeTier(tc.args.rules, tc.args.offers, tc.args.records, tc.args.now)
			if diff := cmp.Diff(tc.want.res, got, cmpOpts...); diff != "" {
				t.Errorf("%s\nComputeTier(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestTierFor(t *testing.T) {
	rules := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	now := utc(2026, time.March, 15, 10, 0, 0)
	beforeCutoff := utc(2021, time.January, 1, 0, 0, 0)
	type args struct {
		billed string
		seats  int64
		live   bool
		now    time.Time
	}
	type want struct {
		level int32
		name  string
		next  *v1alpha1.TierProgress
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"NoLiveOffer": {
			reason: "S6: without a live Transact offer no tier is reached, whatever the sales",
			args:   args{"10000000", 0, false, now},
			want:   want{0, "", &v1alpha1.TierProgress{Level: 1, Name: "Tier 1", BilledSalesMissing: "0.00", NeedsLiveTransactOffer: true}},
		},
		"Tier1": {
			reason: "S6: a live Transact offer reaches tier 1",
			args:   args{"0", 0, true, now},
			want:   want{1, "Tier 1", &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "25000.00"}},
		},
		"Tier3": {
			reason: "S6: 100000 reaches tier 3",
			args:   args{"100000", 0, true, now},
			want:   want{3, "Tier 3", &v1alpha1.TierProgress{Level: 4, Name: "Tier 4", BilledSalesMissing: "900000.00"}},
		},
		"Tier4": {
			reason: "S6: 4999999.999999 is tier 4, missing a millionth",
			args:   args{"4999999.999999", 0, true, now},
			want:   want{4, "Tier 4", &v1alpha1.TierProgress{Level: 5, Name: "Tier 5", BilledSalesMissing: "0.000001"}},
		},
		"Tier5": {
			reason: "S6/S7: beyond the top threshold: tier 5, no next tier",
			args:   args{"99999999999999999999", 0, true, now},
			want:   want{5, "Tier 5", nil},
		},
		"SeatsHigherThanSales": {
			reason: "S6: the tier is the highest reached by either threshold: seats reach tier 3 while sales reach tier 2",
			args:   args{"30000", 10000, true, beforeCutoff},
			want:   want{3, "Tier 3", &v1alpha1.TierProgress{Level: 4, Name: "Tier 4", BilledSalesMissing: "970000.00"}},
		},
		"SeatsMissingBeforeCutoff": {
			reason: "S7: before the cut-off the next tier shows the seats missing",
			args:   args{"0", 999, true, beforeCutoff},
			want:   want{1, "Tier 1", &v1alpha1.TierProgress{Level: 2, Name: "Tier 2", BilledSalesMissing: "25000.00", SeatsMissing: ptrTo[int64](1)}},
		},
		"SeatsMissingNoLiveOffer": {
			reason: "S6/S7: seats do not reach a tier without a live Transact offer",
			args:   args{"0", 50000, false, beforeCutoff},
			want:   want{0, "", &v1alpha1.TierProgress{Level: 1, Name: "Tier 1", BilledSalesMissing: "0.00", NeedsLiveTransactOffer: true}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			level, tierName, next := TierFor(rules, MustParseMoney(tc.args.billed), tc.args.seats, tc.args.live, tc.args.now)
			if diff := cmp.Diff(tc.want, want{level, tierName, next}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nTierFor(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
