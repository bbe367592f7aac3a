package rewards

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// ledgerOffers are a publisher's offers with every phase change a ledger
// must follow: live Transact offers (one on a Microsoft 365 app, for
// seats), one going live later, one being delisted later, and a List offer
// whose lines never count.
func ledgerOffers(now time.Time) []v1alpha1.Offer {
	return []v1alpha1.Offer{
		mkOffer("saas", v1alpha1.ListingTypeTransact, now.AddDate(-2, 0, 0)),
		mkOffer("teams-app", v1alpha1.ListingTypeTransact, now.AddDate(-2, 0, 0), build.Microsoft365("Teams")),
		mkOffer("scheduled", v1alpha1.ListingTypeTransact, now.AddDate(0, 0, 20)),
		mkOffer("delisting", v1alpha1.ListingTypeTransact, now.AddDate(-1, 0, 0), build.DelistedAt(now.AddDate(0, 1, 0))),
		mkOffer("listing", v1alpha1.ListingTypeList, now.AddDate(-1, 0, 0)),
	}
}

// randomLine is a sales line with whatever a ledger must tell apart: any
// of the offers or a missing one, currencies with and without a rate,
// fraud, cancellation, seats, billed in the past (some long ago) or in the
// future.
func randomLine(rng *rand.Rand, name string, now time.Time) v1alpha1.SalesRecord {
	offers := []string{"saas", "saas", "teams-app", "scheduled", "delisting", "listing", "missing"}
	currencies := []v1alpha1.CurrencyCode{"USD", "USD", "EUR", "GBP", "XTS"} // XTS has no rate
	billed := now.Add(time.Duration(rng.Int64N(int64(30*24*time.Hour))) - 400*24*time.Hour)
	var mods []build.SalesRecordOption
	switch rng.IntN(12) {
	case 0:
		mods = append(mods, build.Fraud(v1alpha1.FraudProven))
	case 1:
		mods = append(mods, build.Fraud(v1alpha1.FraudSuspected))
	case 2:
		mods = append(mods, build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil))
	case 3:
		billed = now.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
	}
	if rng.IntN(3) == 0 {
		mods = append(mods, build.Seats(rng.Int64N(50)))
	}
	amount := fmt.Sprintf("%d.%02d", 1000+rng.IntN(90_000), rng.IntN(100))
	return mkSale(name, offers[rng.IntN(len(offers))], amount, currencies[rng.IntN(len(currencies))], billed, mods...)
}

// TestLedgerFollowsItsLines: a ledger brought up to date line by line (new
// lines, changed lines, deleted lines, time passing) says at every step
// exactly what evaluating all the lines again says: the tier, the
// breakdown, the forecast and the sales facts. When it no longer holds
// (something changed by itself), it is built again, as the operator does.
func TestLedgerFollowsItsLines(t *testing.T) {
	for _, window := range []v1alpha1.SalesWindow{v1alpha1.SalesWindowTrailing12Months, v1alpha1.SalesWindowLifetime} {
		// A ledger built without a cancelled purchase keeps no specs and
		// refuses the first cancelled purchase put in it (built again, as
		// the operator does); one built with one keeps every line's spec.
		for _, startCancelled := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/built with cancelled purchases %v", window, startCancelled), func(t *testing.T) {
				followLines(t, window, startCancelled)
			})
		}
	}
}

func followLines(t *testing.T, window v1alpha1.SalesWindow, startCancelled bool) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	rules := ledgerRules(window, now.AddDate(0, 0, 20))
	rng := rand.New(rand.NewPCG(1, uint64(len(window))))
	offers := ledgerOffers(now)
	lines := map[string]*v1alpha1.SalesRecord{}
	for i := range 150 {
		rec := randomLine(rng, fmt.Sprintf("line-%03d", i), now)
		if !startCancelled {
			rec.Spec.Cancellation = nil
		}
		lines[rec.Name] = &rec
	}
	ledger := NewLedger(rules, offers, values(lines), now)
	if ledger.keepsSales != startCancelled {
		t.Fatalf("a ledger built with cancelled purchases %v keeps sales %v", startCancelled, ledger.keepsSales)
	}
	rebuilt, refused := 0, 0
	for step := range 400 {
		now = now.Add(time.Duration(rng.Int64N(int64(6 * time.Hour))))
		if !ledger.Holds(now) {
			ledger = NewLedger(rules, offers, values(lines), now)
			rebuilt++
		}
		// Facts read before a change stay as they were (the memo shares them).
		_, _, before := ledger.Facts(now)
		fraudBefore := slices.Clone(before.Fraud)
		name := fmt.Sprintf("line-%03d", rng.IntN(200))
		if rng.IntN(4) == 0 {
			delete(lines, name)
			ledger.Remove(name)
		} else {
			rec := randomLine(rng, name, now)
			lines[name] = &rec
			if !ledger.Put(&rec, now) {
				if rec.Spec.Cancellation == nil || ledger.keepsSales {
					t.Fatalf("step %d: Put refused %s (cancelled %v) in a ledger keeping sales %v", step, name, rec.Spec.Cancellation != nil, ledger.keepsSales)
				}
				refused++
				ledger = NewLedger(rules, offers, values(lines), now)
			}
		}
		if !slices.Equal(before.Fraud, fraudBefore) {
			t.Fatalf("step %d: the fraud reports of facts read before the change changed: %v, were %v", step, before.Fraud, fraudBefore)
		}
		assertLedgerIsFresh(t, fmt.Sprintf("step %d at %s", step, now), ledger, rules, offers, lines, now)
	}
	if rebuilt == 0 {
		t.Errorf("the ledger held for %s of changes: the test never crossed a line's or offer's change", now.Sub(utc(2026, time.March, 15, 10, 0, 0)))
	}
	if !startCancelled && refused == 0 {
		t.Errorf("no cancelled purchase was put in the ledger built without one: the test never refused one")
	}
}

// ledgerRules are the default program's under window, with seats counting
// until cutoff (S5), which the test passes: lines billed before it count
// their seats, and the seats missing for the next tier are shown until it.
func ledgerRules(window v1alpha1.SalesWindow, cutoff time.Time) *Rules {
	spec := defaultProgramSpec()
	spec.SalesWindow = window
	spec.SeatsCutoff = metaTimePtr(cutoff)
	r, problems := ResolveProgram(spec)
	if len(problems) > 0 {
		panic(problems)
	}
	return r
}

// values are the lines, in no particular order.
func values(lines map[string]*v1alpha1.SalesRecord) []*v1alpha1.SalesRecord {
	out := make([]*v1alpha1.SalesRecord, 0, len(lines))
	for _, rec := range lines {
		out = append(out, rec)
	}
	return out
}

func assertLedgerIsFresh(t *testing.T, when string, ledger *Ledger, rules *Rules, offers []v1alpha1.Offer,
	lines map[string]*v1alpha1.SalesRecord, now time.Time) {
	t.Helper()
	records := make([]v1alpha1.SalesRecord, 0, len(lines))
	for _, rec := range lines {
		records = append(records, *rec)
	}
	wantRes, wantDetail := ComputeTierDetail(rules, offers, records, now)
	wantFacts := SalesFactsFor(rules, offers, records, now)
	res, detail, facts := ledger.Facts(now)
	if diff := cmp.Diff(wantRes, res, cmpOpts...); diff != "" {
		t.Fatalf("%s: result differs from evaluating every line again: -want, +got:\n%s", when, diff)
	}
	if diff := cmp.Diff(wantDetail, detail, cmpOpts...); diff != "" {
		t.Fatalf("%s: breakdown or forecast differs from evaluating every line again: -want, +got:\n%s", when, diff)
	}
	if diff := cmp.Diff(wantFacts, facts, append(cmpOpts, cmpopts.IgnoreUnexported(SalesFacts{}), cmpopts.EquateEmpty())...); diff != "" {
		t.Fatalf("%s: sales facts differ from evaluating every line again: -want, +got:\n%s", when, diff)
	}
	// R4 evaluates the lines the facts keep again at other instants, when
	// one is a cancelled purchase: they must be the current lines, specs
	// included. Without one, the facts keep no line.
	if facts.cancelled != wantFacts.cancelled {
		t.Fatalf("%s: the facts count %d cancelled purchases; want %d", when, facts.cancelled, wantFacts.cancelled)
	}
	if wantFacts.cancelled == 0 {
		if facts.sales != nil {
			t.Fatalf("%s: without a cancelled purchase the facts keep %d lines; want none", when, len(facts.sales))
		}
		return
	}
	if diff := cmp.Diff(salesByName(wantFacts.sales), salesByName(facts.sales), cmp.AllowUnexported(sale{})); diff != "" {
		t.Fatalf("%s: sales facts keep other lines: -want, +got:\n%s", when, diff)
	}
}

func salesByName(sales []*sale) []sale {
	out := make([]sale, len(sales))
	for i, s := range sales {
		out[i] = *s
	}
	slices.SortFunc(out, func(a, b sale) int { return strings.Compare(a.name, b.name) })
	return out
}

// TestLedgerHolds: a ledger holds from the last instant it was evaluated
// at until the first change by itself, and not before that instant.
func TestLedgerHolds(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	rules := defaultRulesFor(v1alpha1.SalesWindowTrailing12Months)
	offers := []v1alpha1.Offer{mkOffer("saas", v1alpha1.ListingTypeTransact, now.AddDate(-2, 0, 0))}
	// Billed 11 months ago: it leaves the window in one month.
	old := mkSale("old", "saas", "100", "USD", now.AddDate(0, -11, 0))
	leaves := now.AddDate(0, 1, 0)
	future := mkSale("future", "saas", "100", "USD", now.AddDate(0, 0, 10))
	// withOld is a ledger built now with the old line; then applies a
	// change to it.
	withOld := func(then func(*Ledger)) func() *Ledger {
		return func() *Ledger {
			l := NewLedger(rules, offers, []*v1alpha1.SalesRecord{&old}, now)
			then(l)
			return l
		}
	}
	asBuilt := func(*Ledger) {}

	cases := map[string]struct {
		reason string
		build  func() *Ledger
		at     time.Time
		want   bool
	}{
		"AtBuild": {
			reason: "a ledger holds at the instant it was built",
			build:  withOld(asBuilt),
			at:     now, want: true,
		},
		"BeforeBuild": {
			reason: "a ledger says nothing of an instant before it was built",
			build:  withOld(asBuilt),
			at:     now.Add(-time.Second), want: false,
		},
		"JustBeforeALineLeaves": {
			reason: "S4: until the line leaves the trailing window nothing changes",
			build:  withOld(asBuilt),
			at:     leaves.Add(-time.Nanosecond), want: true,
		},
		"WhenALineLeaves": {
			reason: "S4: the line leaves the window at the instant it is twelve months old",
			build:  withOld(asBuilt),
			at:     leaves, want: false,
		},
		"ChangeRemovedWithItsLine": {
			reason: "the line that would change is gone: nothing else changes",
			build:  withOld(func(l *Ledger) { l.Remove("old") }),
			at:     leaves.AddDate(1, 0, 0), want: true,
		},
		"PutLineBilledLater": {
			reason: "S4: a line put later counts from its billedAt, when the ledger changes by itself",
			build: func() *Ledger {
				l := NewLedger(rules, offers, nil, now)
				l.Put(&future, now.Add(time.Hour))
				return l
			},
			at: future.Spec.BilledAt.Time, want: false,
		},
		"BeforeThePut": {
			reason: "a ledger brought up to date at an instant says nothing of earlier ones",
			build: func() *Ledger {
				l := NewLedger(rules, offers, nil, now)
				l.Put(&old, now.Add(time.Hour))
				return l
			},
			at: now.Add(time.Minute), want: false,
		},
		"OfferGoingLive": {
			reason: "O2: an offer going live changes the live Transact offers",
			build: func() *Ledger {
				return NewLedger(rules, []v1alpha1.Offer{mkOffer("saas", v1alpha1.ListingTypeTransact, now.AddDate(0, 0, 3))}, nil, now)
			},
			at: now.AddDate(0, 0, 3), want: false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.build().Holds(tc.at); got != tc.want {
				t.Errorf("%s\nHolds(%s) = %v, want %v", tc.reason, tc.at, got, tc.want)
			}
		})
	}
}

// TestLedgerPutReplaces: putting a line again replaces it rather than
// counting it twice, and removing an unknown line changes nothing.
func TestLedgerPutReplaces(t *testing.T) {
	l, _, now := oneLineLedger("30000")
	bigger := mkSale("line", "saas", "120000", "USD", now.AddDate(0, -1, 0))
	l.Put(&bigger, now)
	l.Remove("never-there")
	res, _, _ := l.Facts(now)
	if res.BilledSales.Cmp(MustParseMoney("120000")) != 0 || res.Counted != 1 || res.Tier != 3 {
		t.Errorf("after replacing the line: billed %s over %d lines, tier %d; want 120000 over 1 line, tier 3", res.BilledSales, res.Counted, res.Tier)
	}
}

// oneLineLedger is a ledger of one Transact offer, "saas", live for two
// years, and one line of it, "line", of amount USD billed a month ago,
// under the default rules over the program's lifetime.
func oneLineLedger(amount string) (*Ledger, v1alpha1.SalesRecord, time.Time) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	rules := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	offers := []v1alpha1.Offer{mkOffer("saas", v1alpha1.ListingTypeTransact, now.AddDate(-2, 0, 0))}
	line := mkSale("line", "saas", amount, "USD", now.AddDate(0, -1, 0))
	return NewLedger(rules, offers, []*v1alpha1.SalesRecord{&line}, now), line, now
}

// TestLedgerRefusesAFirstCancelledPurchase: a ledger built without a
// cancelled purchase keeps no line's spec, so it refuses the first one
// (R4 evaluates every line again as of a grant's instant) and stays as it
// was; one built with a cancelled purchase takes them and lists them.
func TestLedgerRefusesAFirstCancelledPurchase(t *testing.T) {
	l, line, now := oneLineLedger("120000")
	cancelled := line
	build.Cancelled(v1alpha1.CancellationAccidentalPurchase, nil)(&cancelled)
	if l.Put(&cancelled, now) {
		t.Fatalf("R4: a ledger built without a cancelled purchase keeps no specs, yet Put took one")
	}
	if res, _, _ := l.Facts(now); res.BilledSales.Cmp(MustParseMoney("120000")) != 0 || res.Counted != 1 {
		t.Errorf("a refused Put changed the ledger: billed %s over %d lines; want 120000 over 1", res.BilledSales, res.Counted)
	}
	l = NewLedger(l.rules, l.offers, []*v1alpha1.SalesRecord{&cancelled}, now)
	if !l.Put(&cancelled, now) {
		t.Fatalf("R4: a ledger built with a cancelled purchase refused one")
	}
	res, detail, facts := l.Facts(now)
	if res.BilledSales.Cmp(MustParseMoney("0")) != 0 || res.Excluded != 1 || res.Tier != 1 {
		t.Errorf("S3: after the purchase was cancelled: billed %s, %d excluded, tier %d; want 0, 1, tier 1", res.BilledSales, res.Excluded, res.Tier)
	}
	if len(detail.Breakdown.Offers) != 0 || len(detail.Breakdown.Excluded) != 1 || detail.Breakdown.Excluded[0].Reason != v1alpha1.SalesCancelled {
		t.Errorf("S3: breakdown after the cancellation: %+v; want no offer's sales and the line excluded as Cancelled", detail.Breakdown)
	}
	if got := facts.CancelledLinesAt(now); len(got) != 1 || got[0].Name != "line" {
		t.Errorf("R4: the cancelled purchases are %+v; want line", got)
	}
}

// TestLedgerKeepsItsOwnOffers: a kept ledger copies what the rules read of
// its offers (name and spec), so that the caller's offers, listed from the
// operator's cache, may be replaced afterwards; and it keeps no status.
func TestLedgerKeepsItsOwnOffers(t *testing.T) {
	now := utc(2026, time.March, 15, 10, 0, 0)
	rules := defaultRulesFor(v1alpha1.SalesWindowLifetime)
	offers := []v1alpha1.Offer{mkOffer("saas", v1alpha1.ListingTypeTransact, now.AddDate(-2, 0, 0))}
	offers[0].Status.Phase = v1alpha1.OfferLive
	line := mkSale("line", "saas", "30000", "USD", now.AddDate(0, -1, 0))
	l := NewLedger(rules, offers, []*v1alpha1.SalesRecord{&line}, now)

	offers[0].Spec.ListingType = v1alpha1.ListingTypeList
	offers[0].Name = "renamed"
	line2 := mkSale("line-2", "saas", "1000", "USD", now.AddDate(0, -1, 0))
	l.Put(&line2, now)
	res, _, facts := l.Facts(now)
	if res.BilledSales.Cmp(MustParseMoney("31000")) != 0 || res.Counted != 2 {
		t.Errorf("S1: after the caller's offer slice changed: billed %s over %d lines; want 31000 over 2", res.BilledSales, res.Counted)
	}
	if len(facts.offers) != 1 || facts.offers[0].Name != "saas" || facts.offers[0].Status.Phase != "" {
		t.Errorf("the ledger's offers are %+v; want saas, name and spec only", facts.offers)
	}
}
