package rewards

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// benchInputs is one publisher with 20 Transact offers and n sales lines
// spread over three years before now: mixed currencies (all with rates),
// one line in 50 fraud Proven, one in 40 cancelled, one in 25 Suspected,
// some on Microsoft 365 apps with seats.
func benchInputs(n int, now time.Time) ([]v1alpha1.Offer, []v1alpha1.SalesRecord) {
	start := now.AddDate(-3, 0, 0)
	offers := make([]v1alpha1.Offer, 20)
	for i := range offers {
		var mods []build.OfferOption
		if i%4 == 0 {
			mods = append(mods, build.Microsoft365("Teams"))
		}
		offers[i] = mkOffer(fmt.Sprintf("offer-%02d", i), v1alpha1.ListingTypeTransact, start.AddDate(0, 0, -i), mods...)
	}
	currencies := []v1alpha1.CurrencyCode{"USD", "EUR", "GBP", "USD"}
	span := now.Sub(start)
	records := make([]v1alpha1.SalesRecord, n)
	for i := range records {
		var mods []build.SalesRecordOption
		switch {
		case i%50 == 0:
			mods = append(mods, build.Fraud(v1alpha1.FraudProven))
		case i%40 == 0:
			mods = append(mods, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil))
		case i%25 == 0:
			mods = append(mods, build.Fraud(v1alpha1.FraudSuspected))
		}
		if i%7 == 0 {
			mods = append(mods, build.Seats(int64(i%100)))
		}
		billed := start.Add(time.Duration(int64(span) / int64(n) * int64(i)))
		amount := fmt.Sprintf("%d.%02d", 10+i%5000, i%100)
		records[i] = mkSale(fmt.Sprintf("line-%05d", i), offers[i%len(offers)].Name, amount, currencies[i%len(currencies)], billed, mods...)
	}
	return offers, records
}

// benchWindows runs bench on benchInputs' 10,000 lines under each sales
// window.
func benchWindows(b *testing.B, bench func(b *testing.B, window v1alpha1.SalesWindow, rules *Rules,
	offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time)) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	offers, records := benchInputs(10_000, now)
	for _, window := range []v1alpha1.SalesWindow{v1alpha1.SalesWindowTrailing12Months, v1alpha1.SalesWindowLifetime} {
		rules := defaultRulesFor(window)
		b.Run(string(window), func(b *testing.B) {
			b.ReportAllocs()
			bench(b, window, rules, offers, records, now)
		})
	}
}

func BenchmarkComputeTier10000Lines(b *testing.B) {
	benchWindows(b, func(b *testing.B, _ v1alpha1.SalesWindow, rules *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) {
		var res TierResult
		for b.Loop() {
			res = ComputeTier(rules, offers, records, now)
		}
		if res.Counted == 0 || res.Excluded == 0 || res.Tier == 0 {
			b.Fatalf("S4: unexpected result: counted %d, excluded %d, tier %d", res.Counted, res.Excluded, res.Tier)
		}
	})
}

// BenchmarkComputeTierDetail10000Lines is what the publisher controller
// runs when it builds a publisher's ledger: ComputeTier with the breakdown
// and the forecast of the same pass.
func BenchmarkComputeTierDetail10000Lines(b *testing.B) {
	benchWindows(b, func(b *testing.B, window v1alpha1.SalesWindow, rules *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) {
		var res TierResult
		var detail TierDetail
		for b.Loop() {
			res, detail = ComputeTierDetail(rules, offers, records, now)
		}
		if res.Tier == 0 || len(detail.Breakdown.Offers) != 20 || len(detail.Breakdown.Excluded) == 0 {
			b.Fatalf("unexpected result: tier %d, breakdown %+v", res.Tier, detail.Breakdown)
		}
		if (window == v1alpha1.SalesWindowTrailing12Months) != (detail.Forecast != nil) {
			b.Fatalf("S4: forecast %+v under %s", detail.Forecast, window)
		}
	})
}

// BenchmarkLedgerNewLine10000Lines is what the operator does for a new
// sales line of a publisher with 10,000: put it in the publisher's ledger
// and read the result, breakdown, forecast and sales facts. Compare with
// BenchmarkComputeTierDetail10000Lines, which evaluates every line again.
func BenchmarkLedgerNewLine10000Lines(b *testing.B) {
	benchWindows(b, func(b *testing.B, _ v1alpha1.SalesWindow, rules *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) {
		ledger := NewLedger(rules, offers, pointersTo(records), now)
		line := mkSale("new-line", offers[0].Name, "1000", "USD", now.Add(-time.Hour))
		var res TierResult
		for b.Loop() {
			if !ledger.Put(&line, now) {
				b.Fatal("the ledger refused an ordinary line")
			}
			res, _, _ = ledger.Facts(now)
		}
		if res.Counted == 0 || res.Tier == 0 {
			b.Fatalf("unexpected result: counted %d, tier %d", res.Counted, res.Tier)
		}
	})
}

// BenchmarkLedgerHeldPerLine reports the memory a publisher's kept ledger
// holds per sales line (heldB/line, live heap after a GC), which the
// operator pays for every sales line it watches. The records' own memory is
// not counted: the lines are copied in, as the operator's cache keeps them.
//
// A ledger keeps every line's spec only when one of its lines is a
// cancelled purchase (R4): the benchmark's inputs have some; "no
// cancellation" is the same lines with none, as most publishers have.
func BenchmarkLedgerHeldPerLine(b *testing.B) {
	benchWindows(b, func(b *testing.B, _ v1alpha1.SalesWindow, rules *Rules, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord, now time.Time) {
		uncancelled := slices.Clone(records)
		for i := range uncancelled {
			uncancelled[i].Spec.Cancellation = nil
		}
		for _, run := range []struct {
			name  string
			lines []v1alpha1.SalesRecord
		}{{"cancellations", records}, {"no cancellation", uncancelled}} {
			lines := run.lines
			b.Run(run.name, func(b *testing.B) {
				var held uint64
				for b.Loop() {
					before := liveHeap()
					ledger := NewLedger(rules, offers, pointersTo(lines), now)
					held += liveHeap() - before
					runtime.KeepAlive(ledger)
				}
				b.ReportMetric(float64(held)/float64(b.N)/float64(len(lines)), "heldB/line")
			})
		}
	})
}

// liveHeap is the heap in use by live objects, after a GC.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
