package plugin

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// benchPublishers is 1,000 publishers of program "default" with 3
// Transact offers, 60 sales lines (60,000 in all: USD, EUR and GBP, one
// in 20 fraud Proven, one in 30 cancelled, spread over two years) and 2
// activations each.
func benchPublishers(now time.Time) []*publisherObjects {
	const publishers, offersEach, linesEach = 1000, 3, 60
	currencies := []v1alpha1.CurrencyCode{"USD", "EUR", "GBP"}
	out := make([]*publisherObjects, publishers)
	for p := range out {
		ns := fmt.Sprintf("ns-%d", p%50)
		po := &publisherObjects{publisher: build.Publisher(ns, fmt.Sprintf("pub-%04d", p))}
		for o := range offersEach {
			po.offers = append(po.offers, *build.Offer(ns, fmt.Sprintf("pub-%04d-offer-%d", p, o), po.publisher.Name, v1alpha1.ListingTypeTransact, now.AddDate(-3, 0, 0)))
		}
		for l := range linesEach {
			offer := po.offers[l%offersEach].Name
			// Publisher p sells about 100*p in all: tiers 1 to 3.
			amount := fmt.Sprintf("%d.%02d", 1+p*100/linesEach, l)
			billed := now.Add(-time.Duration(l+1) * 12 * 24 * time.Hour)
			r := build.SalesRecord(ns, fmt.Sprintf("%s-line-%02d", po.publisher.Name, l), offer, amount, currencies[l%len(currencies)], billed)
			switch {
			case l%20 == 0:
				r.Spec.Fraud = v1alpha1.FraudProven
			case l%30 == 1:
				r.Spec.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase, Time: &metav1.Time{Time: billed}}
			}
			po.records = append(po.records, *r)
		}
		po.activations = []v1alpha1.BenefitActivation{
			*build.Activation(ns, po.publisher.Name+"-badge", po.offers[0].Name, "listing-badge"),
			*build.Activation(ns, po.publisher.Name+"-case-study", po.offers[0].Name, "case-study"),
		}
		out[p] = po
	}
	return out
}

func benchRules(b *testing.B, mods ...func(*v1alpha1.RewardsProgramSpec)) *rewards.Rules {
	prog := build.Program()
	prog.Spec.ExchangeRates = []v1alpha1.ExchangeRate{{Currency: "EUR", Rate: "1.08"}, {Currency: "GBP", Rate: "1.27"}}
	for _, m := range mods {
		m(&prog.Spec)
	}
	rules, problems := rewards.ResolveProgram(&prog.Spec)
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	return rules
}

// BenchmarkRecompute1000Publishers is one full recompute of the same data
// as BenchmarkSimulate1000Publishers, as the operator does it: every
// publisher's tier, breakdown and forecast.
func BenchmarkRecompute1000Publishers(b *testing.B) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	pubs := benchPublishers(now)
	rules := benchRules(b)
	b.ReportAllocs()
	tiers := 0
	for b.Loop() {
		tiers = 0
		for _, po := range pubs {
			res, _ := rewards.ComputeTierDetail(rules, po.offers, po.records, now)
			tiers += int(res.Tier)
		}
	}
	if tiers < 1000 {
		b.Fatalf("tiers sum to %d", tiers)
	}
}

// BenchmarkSimulate1000Publishers is simulate over 1,000 publishers and
// 60,000 lines: a raised Tier 2 threshold (lines judged alike, each
// evaluated once), and a changed exchange rate (every line evaluated
// under both programs).
func BenchmarkSimulate1000Publishers(b *testing.B) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	pubs := benchPublishers(now)
	current := benchRules(b)
	for name, candidate := range map[string]*rewards.Rules{
		"RaisedTier2": benchRules(b, func(s *v1alpha1.RewardsProgramSpec) { s.Tiers[1].MinBilledSales = "50000" }),
		"ChangedRate": benchRules(b, func(s *v1alpha1.RewardsProgramSpec) { s.ExchangeRates[0].Rate = "1.10" }),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var report SimulationReport
			for b.Loop() {
				report = Simulate(current, candidate, v1alpha1.DefaultProgramName, pubs, now)
			}
			if report.Publishers != 1000 || len(report.Differences) == 0 {
				b.Fatalf("%d publishers, %d differences", report.Publishers, len(report.Differences))
			}
		})
	}
}
