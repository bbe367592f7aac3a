package rewards

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

func TestBreakdown(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	liveAt := utc(2024, time.January, 10, 0, 0, 0)
	lastYear := utc(2025, time.June, 1, 0, 0, 0)
	lifetime := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	trailing := defaultRulesFor(v1alpha1.SalesWindowTrailing12Months)

	vm := mkOffer("vm", v1alpha1.ListingTypeTransact, liveAt)
	saas := mkOffer("saas", v1alpha1.ListingTypeTransact, liveAt)
	byol := mkOffer("byol", v1alpha1.ListingTypeList, liveAt)

	cases := map[string]struct {
		reason  string
		rules   *Rules
		offers  []v1alpha1.Offer
		records []v1alpha1.SalesRecord
		now     time.Time
		want    v1alpha1.SalesBreakdown
	}{
		"Empty": {
			reason: "S7: no sales lines, nothing to break down",
			rules:  lifetime, offers: []v1alpha1.Offer{vm}, now: now,
			want: v1alpha1.SalesBreakdown{},
		},
		"PerOfferLargestFirst": {
			reason: "S1/S4: counted sales per Transact offer, largest first; a EUR line counts at the program's rate (1.08)",
			rules:  lifetime, offers: []v1alpha1.Offer{vm, saas}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("vm-1", "vm", "1000", "USD", lastYear),
				mkSale("saas-1", "saas", "20000", "USD", lastYear),
				mkSale("saas-2", "saas", "1000", "EUR", lastYear),
				mkSale("vm-2", "vm", "500.25", "USD", lastYear),
			},
			want: v1alpha1.SalesBreakdown{Offers: []v1alpha1.OfferSales{
				{Offer: "saas", BilledSales: "21080.00", Lines: 2},
				{Offer: "vm", BilledSales: "1500.25", Lines: 2},
			}},
		},
		"EqualSalesByName": {
			reason: "S7: offers with equal sales are listed by name, so the status does not change between reconciles",
			rules:  lifetime, offers: []v1alpha1.Offer{vm, saas}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("vm-1", "vm", "100", "USD", lastYear),
				mkSale("saas-1", "saas", "100", "USD", lastYear),
			},
			want: v1alpha1.SalesBreakdown{Offers: []v1alpha1.OfferSales{
				{Offer: "saas", BilledSales: "100.00", Lines: 1},
				{Offer: "vm", BilledSales: "100.00", Lines: 1},
			}},
		},
		"ExcludedPerReason": {
			reason: "S1/S2/S3/S4: what is left out is summed per reason, in program currency where a rate exists; a line without a rate is counted in linesWithoutRate",
			rules:  lifetime, offers: []v1alpha1.Offer{vm, byol}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("counted", "vm", "3000", "USD", lastYear),
				mkSale("fraud-1", "vm", "90000", "USD", lastYear, build.Fraud(v1alpha1.FraudProven)),
				mkSale("fraud-2", "vm", "100", "EUR", lastYear, build.Fraud(v1alpha1.FraudProven)),
				mkSale("fraud-chf", "vm", "500", "CHF", lastYear, build.Fraud(v1alpha1.FraudProven)),
				mkSale("suspected", "vm", "10", "USD", lastYear, build.Fraud(v1alpha1.FraudSuspected)),
				mkSale("cancelled", "vm", "2400", "USD", lastYear, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)),
				mkSale("chf-1", "vm", "700", "CHF", lastYear),
				mkSale("chf-2", "vm", "300", "CHF", lastYear),
				mkSale("future", "vm", "50", "USD", now.Add(time.Hour)),
				mkSale("list", "byol", "1234.5", "USD", lastYear),
				mkSale("no-offer", "deleted", "10", "GBP", lastYear),
			},
			want: v1alpha1.SalesBreakdown{
				Offers: []v1alpha1.OfferSales{{Offer: "vm", BilledSales: "3010.00", Lines: 2}},
				Excluded: []v1alpha1.ExcludedSales{
					{Reason: v1alpha1.SalesFraudProven, Lines: 3, Amount: "90108.00", LinesWithoutRate: 1},
					{Reason: v1alpha1.SalesCancelled, Lines: 1, Amount: "2400.00"},
					{Reason: v1alpha1.SalesNoExchangeRate, Lines: 2, Amount: "0.00", LinesWithoutRate: 2},
					{Reason: v1alpha1.SalesOutsideWindow, Lines: 1, Amount: "50.00"},
					{Reason: v1alpha1.SalesOfferNotTransact, Lines: 1, Amount: "1234.50"},
					{Reason: v1alpha1.SalesOfferNotFound, Lines: 1, Amount: "12.70"},
				},
			},
		},
		"TrailingAgedOut": {
			reason: "S4: under Trailing12Months a line twelve calendar months old is OutsideWindow from that exact instant; one a second younger still counts",
			rules:  trailing, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("aged-out", "vm", "20000", "USD", now.AddDate(-1, 0, 0)),
				mkSale("still-in", "vm", "7000", "USD", now.AddDate(-1, 0, 0).Add(time.Second)),
				mkSale("old", "vm", "5", "USD", utc(2023, time.January, 1, 0, 0, 0)),
			},
			want: v1alpha1.SalesBreakdown{
				Offers:   []v1alpha1.OfferSales{{Offer: "vm", BilledSales: "7000.00", Lines: 1}},
				Excluded: []v1alpha1.ExcludedSales{{Reason: v1alpha1.SalesOutsideWindow, Lines: 2, Amount: "20005.00"}},
			},
		},
		"LifetimeKeepsOld": {
			reason: "S4: under Lifetime the same lines all count",
			rules:  lifetime, offers: []v1alpha1.Offer{vm}, now: now,
			records: []v1alpha1.SalesRecord{
				mkSale("aged-out", "vm", "20000", "USD", now.AddDate(-1, 0, 0)),
				mkSale("old", "vm", "5", "USD", utc(2023, time.January, 1, 0, 0, 0)),
			},
			want: v1alpha1.SalesBreakdown{Offers: []v1alpha1.OfferSales{{Offer: "vm", BilledSales: "20005.00", Lines: 2}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, detail := ComputeTierDetail(tc.rules, tc.offers, tc.records, tc.now)
			if diff := cmp.Diff(tc.want, detail.Breakdown); diff != "" {
				t.Errorf("%s\nbreakdown: -want, +got:\n%s", tc.reason, diff)
			}
			// The offers listed add up to billedSales.
			sum := ZeroMoney()
			for _, o := range detail.Breakdown.Offers {
				sum = sum.Add(MustParseMoney(string(o.BilledSales)))
			}
			if sum.Cmp(res.BilledSales) != 0 {
				t.Errorf("%s\nthe offers add up to %s, billedSales is %s", tc.reason, sum, res.BilledSales)
			}
		})
	}
}

// TestBreakdownOthers: beyond BreakdownOffersLimit offers, the smallest are
// summed as others, so the status stays bounded.
func TestBreakdownOthers(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	offers := make([]v1alpha1.Offer, 0, 25)
	records := make([]v1alpha1.SalesRecord, 0, 50)
	for i := range 25 {
		name := fmt.Sprintf("offer-%02d", i)
		offers = append(offers, mkOffer(name, v1alpha1.ListingTypeTransact, utc(2024, time.January, 1, 0, 0, 0)))
		// offer-00 sells 100, offer-24 sells 2500: two lines each.
		amount := fmt.Sprint(50 * (i + 1))
		records = append(records,
			mkSale(name+"-a", name, amount, "USD", utc(2025, time.May, 1, 0, 0, 0)),
			mkSale(name+"-b", name, amount, "USD", utc(2025, time.June, 1, 0, 0, 0)))
	}
	res, detail := ComputeTierDetail(defaultRulesFor(v1alpha1.SalesWindowLifetime), offers, records, now)
	b := detail.Breakdown
	if len(b.Offers) != BreakdownOffersLimit {
		t.Fatalf("S7: %d offers listed, want at most %d", len(b.Offers), BreakdownOffersLimit)
	}
	if first, last := b.Offers[0], b.Offers[BreakdownOffersLimit-1]; first.Offer != "offer-24" || first.BilledSales != "2500.00" || last.Offer != "offer-05" {
		t.Errorf("S7: listed from %+v to %+v, want offer-24 (the largest) to offer-05", first, last)
	}
	// offer-00 to offer-04: 100+200+300+400+500.
	want := &v1alpha1.OtherOffersSales{Offers: 5, BilledSales: "1500.00", Lines: 10}
	if diff := cmp.Diff(want, b.Others); diff != "" {
		t.Errorf("S7: others: -want, +got:\n%s", diff)
	}
	sum := MustParseMoney(string(b.Others.BilledSales))
	for _, o := range b.Offers {
		sum = sum.Add(MustParseMoney(string(o.BilledSales)))
	}
	if sum.Cmp(res.BilledSales) != 0 {
		t.Errorf("S7: offers and others add up to %s, billedSales is %s", sum, res.BilledSales)
	}
}

// TestComputeTierDetailSameResult: the detailed computation gives the same
// TierResult as ComputeTier, on the benchmark's mixed lines.
func TestComputeTierDetailSameResult(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	offers, records := benchInputs(2000, now)
	for _, window := range []v1alpha1.SalesWindow{v1alpha1.SalesWindowLifetime, v1alpha1.SalesWindowTrailing12Months} {
		rules := defaultRulesFor(window)
		res, detail := ComputeTierDetail(rules, offers, records, now)
		if diff := cmp.Diff(ComputeTier(rules, offers, records, now), res, cmpOpts...); diff != "" {
			t.Errorf("%s: ComputeTierDetail's result differs from ComputeTier's: -want, +got:\n%s", window, diff)
		}
		var lines int32
		for _, o := range detail.Breakdown.Offers {
			lines += o.Lines
		}
		var excluded int32
		for _, e := range detail.Breakdown.Excluded {
			excluded += e.Lines
		}
		if lines != res.Counted || excluded != res.Excluded {
			t.Errorf("%s: breakdown has %d counted and %d excluded lines, the result %d and %d", window, lines, excluded, res.Counted, res.Excluded)
		}
	}
}
