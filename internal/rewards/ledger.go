package rewards

import (
	"iter"
	"math/big"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Ledger is a publisher's offers and sales lines evaluated under one
// program's rules and summed (rules S1–S7), kept so that it can be brought
// up to date one line at a time: a new, changed or deleted line costs that
// line, not an evaluation of all the publisher's lines again. ComputeTier
// builds one and reads it once; the operator keeps one per publisher
// between events (controllers/salesmemo.go), so that a publisher's cost per
// new line stays flat as its lines grow.
//
// A ledger holds from the last instant it was evaluated at until the first
// instant something in it changes by itself (a line being billed or leaving
// a trailing window, an offer going live or being delisted): every line's
// verdict is the same at any instant in between. Past that, or when the
// rules or the publisher's offers change, a new ledger is built.
type Ledger struct {
	rules *Rules
	// at is the last instant the ledger was evaluated at.
	at time.Time
	// detailed ledgers also keep what explains the result (breakdown and
	// forecast); ComputeTier, which only needs the result, does without.
	detailed bool
	trailing bool
	// keep is true for a ledger kept to be brought up to date (NewLedger);
	// ComputeTier's reads its result once, and keeps neither the lines nor
	// their instants of change, only the first.
	keep bool
	// building is true while NewLedger adds the first lines: the sorted
	// slices below are appended to and sorted once at the end.
	building bool
	// scratch holds the line being added to a ledger that does not keep
	// its lines.
	scratch ledgerLine

	offers               []v1alpha1.Offer
	offerByName          map[string]*v1alpha1.Offer
	offerCounts          v1alpha1.OfferCounts
	hasLiveTransactOffer bool
	liveTransact         int
	offersNext           *time.Time

	lines []*ledgerLine
	// index finds a line by name; built on the first Put or Remove.
	index map[string]int
	// keepsSales is true for a kept ledger with a cancelled purchase among
	// its lines when it was built: R4 then evaluates every line again as of
	// a grant's instant (cancellationCause), so each line keeps its spec.
	// Without one, the lines keep only their verdicts: a cancelled purchase
	// put later makes the ledger be built again (Put).
	keepsSales bool
	// cancelled counts the cancelled purchases among the lines; fraudLines
	// those with fraud reported (R3).
	cancelled, fraudLines int
	// fraud lists the lines with fraud reported, by name, as Facts last
	// read them; nil when a line with a report was put or removed since.
	// Facts share it, so it is replaced, never changed.
	fraud []FraudLine

	billed            big.Int
	seats             int64
	counted, excluded int32
	// nexts holds each line's NextChange, sorted: the first is when a line
	// changes by itself next. A ledger that does not keep its lines only
	// has soonest, the first of them.
	nexts   []time.Time
	soonest *time.Time

	// Detailed ledgers only: the breakdown's sums and, under a
	// Trailing12Months window, the forecast's changes to come sorted by
	// instant.
	byOffer       map[string]*offerTally
	excludedSales [7]excludedTally // indexed like ExcludedReasons
	changes       []change
}

// sale is what the rules read of a sales line: its name and spec. A ledger
// that keeps its lines' sales keeps these, not the SalesRecords it was
// given: a spec is a quarter of a record's size, and a pointer to a record
// listed from the operator's cache would keep the whole list's copies
// alive.
type sale struct {
	name string
	spec v1alpha1.SalesRecordSpec
}

// saleOf is the sale a ledger keeps of a line: its name and spec without
// the transaction id, which no rule reads. A ledger outlives the cached
// record it was built from (every line's status write replaces it in the
// cache), and would otherwise keep that record's id string alive too.
func saleOf(name string, spec *v1alpha1.SalesRecordSpec) sale {
	s := sale{name: name, spec: *spec}
	s.spec.TransactionID = ""
	return s
}

// namesAndSpecs copies what the rules read of offers, their names and
// specs, for a ledger that keeps them while it holds. Offers listed from
// the operator's cache share their statuses and metadata with the cached
// objects, which an offer's status write replaces: kept whole, they would
// keep the replaced ones alive.
func namesAndSpecs(offers []v1alpha1.Offer) []v1alpha1.Offer {
	out := make([]v1alpha1.Offer, len(offers))
	for i := range offers {
		out[i] = v1alpha1.Offer{
			ObjectMeta: metav1.ObjectMeta{Namespace: offers[i].Namespace, Name: offers[i].Name},
			Spec:       offers[i].Spec,
		}
	}
	return out
}

// salesOf gives the name and spec of each record.
func salesOf(records []*v1alpha1.SalesRecord) iter.Seq2[string, *v1alpha1.SalesRecordSpec] {
	return func(yield func(string, *v1alpha1.SalesRecordSpec) bool) {
		for _, rec := range records {
			if !yield(rec.Name, &rec.Spec) {
				return
			}
		}
	}
}

// ledgerLine is one sales line in a ledger and what its verdict, at the
// instant it was evaluated, adds to the sums. A line is never changed once
// evaluated: a changed sales line is a new ledgerLine, so the SalesFacts
// read from a ledger before stay as they were.
//
// A ledger keeps a line for each of its publisher's sales lines, tens of
// thousands for a large publisher, so whatever a line holds is held that
// many times: it keeps only what taking the line out of the sums again
// and the activation rules' fraud reports need, not the whole LineVerdict,
// and its spec only in a ledger that keeps sales (keepsSales).
type ledgerLine struct {
	name string
	// offer is the name of the line's offer.
	offer string
	// sale is the line's name and spec in a ledger that keeps sales; nil
	// otherwise.
	sale *sale
	// fraud is the line's fraud report (rule S6, R3).
	fraud   fraudReport
	counted bool
	// cancelled is true for a cancelled purchase (spec.cancellation set).
	cancelled bool
	// reason is an excluded line's reason, as its index in ExcludedReasons
	// (excludedIndex); a byte rather than the string, which took 16 bytes
	// of every kept line.
	reason uint8
	// known is false when the line's amount is not (no rate, invalid
	// amount).
	known bool
	// hasNext is false when the verdict never changes by itself.
	hasNext bool
	// seats counted from the line (rule S5).
	seats int64
	// amount is a counted line's amount in program currency, or what an
	// excluded line adds to its reason's amount in the breakdown, when
	// known.
	amount amount
	// next is the next instant the line's verdict changes by itself, when
	// hasNext.
	next time.Time
	// entering holds the forecast changes an excluded line brings (detailed
	// ledgers under a Trailing12Months window: a line billed in the future
	// entering the window, then leaving it); nil for nearly every line, so
	// kept behind a pointer. A counted line's change is derived (leaving).
	entering *[]change
}

// fraudReport is a line's spec.fraud in a byte: the ledger keeps one per
// line, and only Suspected and Proven matter to the rules.
type fraudReport uint8

const (
	noFraudReported fraudReport = iota
	fraudSuspected
	fraudProven
)

func fraudReportOf(state v1alpha1.FraudState) fraudReport {
	switch state {
	case v1alpha1.FraudSuspected:
		return fraudSuspected
	case v1alpha1.FraudProven:
		return fraudProven
	}
	return noFraudReported
}

func (f fraudReport) state() v1alpha1.FraudState {
	switch f {
	case fraudSuspected:
		return v1alpha1.FraudSuspected
	case fraudProven:
		return v1alpha1.FraudProven
	}
	return v1alpha1.FraudNone
}

// NewLedger evaluates a publisher's offers and sales lines under rules at
// now. records are the sales lines of those offers; a line whose offer is
// not among offers counts as OfferNotFound. The ledger keeps a copy of each
// offer's name and spec (namesAndSpecs) and, when one of the records is a
// cancelled purchase, of each record's (saleOf).
func NewLedger(rules *Rules, offers []v1alpha1.Offer, records []*v1alpha1.SalesRecord, now time.Time) *Ledger {
	keepsSales := slices.ContainsFunc(records, func(rec *v1alpha1.SalesRecord) bool { return rec.Spec.Cancellation != nil })
	return newLedger(rules, offers, len(records), salesOf(records), now, true, true, keepsSales)
}

// newLedger evaluates n sales lines, given by name and spec.
func newLedger(rules *Rules, offers []v1alpha1.Offer, n int, sales iter.Seq2[string, *v1alpha1.SalesRecordSpec], now time.Time,
	detailed, keep, keepsSales bool) *Ledger {
	if keep {
		offers = namesAndSpecs(offers)
	}
	l := &Ledger{
		rules:       rules,
		at:          now,
		detailed:    detailed,
		keep:        keep,
		keepsSales:  keep && keepsSales,
		trailing:    detailed && rules.Window == v1alpha1.SalesWindowTrailing12Months,
		building:    true,
		offers:      offers,
		offerByName: make(map[string]*v1alpha1.Offer, len(offers)),
	}
	if keep {
		l.lines = make([]*ledgerLine, 0, n)
	}
	if detailed {
		l.byOffer = map[string]*offerTally{}
	}
	for i := range offers {
		l.addOffer(&offers[i])
	}
	for name, spec := range sales {
		e := l.evaluate(name, spec)
		if keep {
			l.lines = append(l.lines, e)
		}
		l.take(e, +1)
	}
	slices.SortFunc(l.nexts, time.Time.Compare)
	slices.SortFunc(l.changes, func(a, b change) int { return a.at.Compare(b.at) })
	l.building = false
	return l
}

// addOffer takes one of the publisher's offers into account: its kind, its
// phase now, when that changes, and for a Transact offer the changes to
// come for the forecast.
func (l *Ledger) addOffer(o *v1alpha1.Offer) {
	l.offerByName[o.Name] = o
	countOffer(&l.offerCounts, o.Spec.ListingType)
	phase, next := OfferPhaseAt(&o.Spec, l.at)
	if phase == v1alpha1.OfferLive {
		l.offerCounts.Live++
	}
	// Any offer's phase change changes Offers.Live; a Transact one's may
	// change the tier too.
	l.offersNext = earliest(l.offersNext, next)
	if o.Spec.ListingType != v1alpha1.ListingTypeTransact {
		return
	}
	if phase == v1alpha1.OfferLive {
		l.hasLiveTransactOffer = true
		l.liveTransact++
	}
	if l.trailing {
		l.changes = append(l.changes, transactOfferChanges(&o.Spec, phase, l.at)...)
	}
}

// HasOffer reports whether offer is one of the ledger's offers.
func (l *Ledger) HasOffer(offer string) bool {
	_, ok := l.offerByName[offer]
	return ok
}

// Holds reports whether the ledger's evaluation holds at now: now is not
// before the last instant it was evaluated at, and nothing in it has
// changed by itself since.
func (l *Ledger) Holds(now time.Time) bool {
	next := l.nextChange()
	return !now.Before(l.at) && (next == nil || now.Before(*next))
}

// nextChange is the first instant a line's verdict or an offer's phase
// changes by itself.
func (l *Ledger) nextChange() *time.Time {
	if !l.keep {
		return earliest(l.offersNext, l.soonest)
	}
	if len(l.nexts) == 0 {
		return l.offersNext
	}
	first := l.nexts[0]
	return earliest(l.offersNext, &first)
}

// Put adds a sales line at now, or replaces the line of the same name, and
// reports true. The ledger must hold at now (Holds). A cancelled purchase
// put in a ledger that keeps no sales (built without one) is refused,
// leaving the ledger as it was, and Put reports false: build the ledger
// again, with every line's spec for R4.
func (l *Ledger) Put(rec *v1alpha1.SalesRecord, now time.Time) bool {
	if rec.Spec.Cancellation != nil && !l.keepsSales {
		return false
	}
	l.Remove(rec.Name)
	if now.After(l.at) {
		l.at = now
	}
	e := l.evaluate(rec.Name, &rec.Spec)
	l.index[rec.Name] = len(l.lines)
	l.lines = append(l.lines, e)
	l.take(e, +1)
	return true
}

// Remove takes the sales line of that name out, if the ledger has it.
func (l *Ledger) Remove(name string) {
	if l.index == nil {
		l.index = make(map[string]int, len(l.lines))
		for i, e := range l.lines {
			l.index[e.name] = i
		}
	}
	i, ok := l.index[name]
	if !ok {
		return
	}
	l.take(l.lines[i], -1)
	last := len(l.lines) - 1
	l.lines[i] = l.lines[last]
	l.index[l.lines[i].name] = i
	l.lines[last] = nil
	l.lines = l.lines[:last]
	delete(l.index, name)
}

// evaluate judges one line at the ledger's instant, with what a detailed
// ledger needs to explain it.
func (l *Ledger) evaluate(name string, spec *v1alpha1.SalesRecordSpec) *ledgerLine {
	offer := l.offerByName[spec.OfferRef.Name]
	e := &l.scratch
	if l.keep {
		e = new(ledgerLine)
	}
	v := evaluateLine(spec, offer, l.rules, l.at)
	*e = ledgerLine{name: name, offer: spec.OfferRef.Name, fraud: fraudReportOf(spec.Fraud), cancelled: spec.Cancellation != nil,
		counted: v.Counted, seats: v.Seats}
	if l.keepsSales {
		e.sale = ptrTo(saleOf(name, spec))
	}
	e.setAmount(v.ProgramAmount)
	if v.NextChange != nil {
		e.next, e.hasNext = *v.NextChange, true
	}
	if !v.Counted {
		e.reason = uint8(excludedIndex(v.Reason))
	}
	if !l.detailed || v.Counted {
		return e // a counted line's change, leaving the window, is derived (leaving)
	}
	if !e.known && v.Reason == v1alpha1.SalesOfferNotFound {
		// The verdict stops at the missing offer; the amount is still known.
		e.setAmount(programAmount(spec, l.rules))
	}
	// A line billed in the future enters the window at its billedAt, and
	// leaves it twelve months later.
	if l.trailing && v.Reason == v1alpha1.SalesOutsideWindow && l.at.Before(spec.BilledAt.Time) {
		at := spec.BilledAt.Time
		if w := evaluateLine(spec, offer, l.rules, at); w.Counted {
			billed := amountOf(w.ProgramAmount.int())
			changes := []change{{at: at, billed: billed, seats: w.Seats, sign: +1}}
			if w.NextChange != nil {
				changes = append(changes, change{at: *w.NextChange, billed: billed, seats: w.Seats, sign: -1})
			}
			e.entering = &changes
		}
	}
	return e
}

// leaving is the change a counted line brings under a Trailing12Months
// window: it leaves the sum at its next change. It is derived from the
// line rather than kept with it, since nearly every line of such a ledger
// brings one.
func (l *Ledger) leaving(e *ledgerLine) (change, bool) {
	if !l.trailing || !e.counted || !e.hasNext {
		return change{}, false
	}
	return change{at: e.next, billed: e.amount, seats: e.seats, sign: -1, owner: e}, true
}

// takeChange adds a change to the forecast's (sign +1) or takes it out (-1).
func (l *Ledger) takeChange(c change, sign int) {
	l.changes = insertOrRemove(l.changes, c, sign, l.building,
		func(a, b change) int { return a.at.Compare(b.at) }, func(a, b change) bool { return a.owner == b.owner && a.at.Equal(b.at) && a.sign == b.sign })
}

// setAmount keeps m as the line's amount; nil leaves it unknown.
func (e *ledgerLine) setAmount(m *Money) {
	if m != nil {
		e.amount, e.known = amountOf(m.int()), true
	}
}

// take adds a line's verdict to the sums (sign +1) or takes it out (-1).
func (l *Ledger) take(e *ledgerLine, sign int) {
	switch {
	case !e.hasNext:
	case l.keep:
		l.nexts = insertOrRemove(l.nexts, e.next, sign, l.building, time.Time.Compare, time.Time.Equal)
	case l.soonest == nil || e.next.Before(*l.soonest):
		// A copy: e is the scratch line, evaluated again for the next line.
		l.soonest = ptrTo(e.next)
	}
	if c, ok := l.leaving(e); ok {
		l.takeChange(c, sign)
	}
	if e.cancelled {
		l.cancelled += sign
	}
	if e.fraud != noFraudReported {
		l.fraudLines += sign
		l.fraud = nil
	}
	if e.entering != nil {
		for _, c := range *e.entering {
			c.owner = e
			l.takeChange(c, sign)
		}
	}
	if e.counted {
		e.amount.addTo(&l.billed, sign)
		l.seats += int64(sign) * e.seats
		l.counted += int32(sign)
		if l.detailed {
			l.tallyOffer(e.offer, e.amount, sign)
		}
		return
	}
	l.excluded += int32(sign)
	if !l.detailed {
		return
	}
	x := &l.excludedSales[e.reason]
	x.lines += int32(sign)
	switch {
	case e.known:
		e.amount.addTo(&x.amount, sign)
	case ExcludedReasons[e.reason] != v1alpha1.ReasonInvalidAmount:
		x.withoutRate += int32(sign)
	}
}

// tallyOffer adds a counted line's amount to its offer's sales in the
// breakdown (sign +1) or takes it out (-1).
func (l *Ledger) tallyOffer(offer string, amount amount, sign int) {
	o := l.byOffer[offer]
	if o == nil {
		o = &offerTally{}
		l.byOffer[offer] = o
	}
	amount.addTo(&o.billed, sign)
	o.lines += int32(sign)
	if o.lines == 0 {
		delete(l.byOffer, offer)
	}
}

// result is the publisher's standing at now, which the ledger holds at.
func (l *Ledger) result(now time.Time) TierResult {
	res := TierResult{
		BilledSales:          Money{micros: new(big.Int).Set(&l.billed)},
		Seats:                l.seats,
		HasLiveTransactOffer: l.hasLiveTransactOffer,
		Offers:               l.offerCounts,
		Counted:              l.counted,
		Excluded:             l.excluded,
		NextChangeAt:         l.nextChange(),
	}
	res.Tier, res.TierName, res.Next = TierFor(l.rules, res.BilledSales, res.Seats, res.HasLiveTransactOffer, now)
	if res.Next != nil && res.Next.SeatsMissing != nil {
		// SeatsMissing is shown up to and including the cut-off, and
		// omitted from the instant after it.
		res.NextChangeAt = earliest(res.NextChangeAt, ptrTo(l.rules.SeatsCutoff.Add(time.Nanosecond)))
	}
	return res
}

// Facts is the publisher's standing at now (which the ledger must hold at,
// see Holds), what explains it, and the sales facts its activations are
// decided on.
func (l *Ledger) Facts(now time.Time) (TierResult, TierDetail, SalesFacts) {
	res := l.result(now)
	facts := salesFactsFrom(res, l.rules, l.offers)
	facts.cancelled = l.cancelled
	if l.cancelled > 0 { // then the ledger keeps sales: Put refuses a cancelled purchase otherwise
		facts.sales = make([]*sale, len(l.lines))
		for i, e := range l.lines {
			facts.sales[i] = e.sale
		}
	}
	if l.fraudLines > 0 && l.fraud == nil {
		l.fraud = make([]FraudLine, 0, l.fraudLines)
		for _, e := range l.lines {
			if e.fraud != noFraudReported {
				l.fraud = append(l.fraud, FraudLine{Name: e.name, Offer: e.offer, State: e.fraud.state()})
			}
		}
		sortFraud(l.fraud)
	}
	facts.Fraud = l.fraud
	return res, l.detail(&res), facts
}

// detail explains res, the ledger's result.
func (l *Ledger) detail(res *TierResult) TierDetail {
	if !l.detailed {
		return TierDetail{}
	}
	return TierDetail{Breakdown: l.breakdown(), Forecast: l.forecast(res)}
}

// amount is an exact amount in millionths, held inline: in an int64 when
// it fits, as every realistic line's amount does, else in a big.Int. A
// ledger keeps one per line, where a big.Int took two more allocations
// (80 bytes) per line and two more pointers for the garbage collector.
type amount struct {
	small int64
	// large holds the amount when it does not fit small; nil otherwise.
	large *big.Int
}

// amountOf is x, which it may keep.
func amountOf(x *big.Int) amount {
	if x.IsInt64() {
		return amount{small: x.Int64()}
	}
	return amount{large: x}
}

// addTo adds a to sum (sign +1) or subtracts it (-1), in int64 arithmetic
// while sum and the result fit.
func (a amount) addTo(sum *big.Int, sign int) {
	if a.large == nil && sum.IsInt64() {
		x, y := sum.Int64(), a.small
		if sign < 0 {
			y = -y
		}
		// Without overflow, adding y moves the sum the way y's sign says.
		if r := x + y; (y >= 0) == (r >= x) {
			sum.SetInt64(r)
			return
		}
	}
	x := a.large
	if x == nil {
		x = big.NewInt(a.small)
	}
	if sign > 0 {
		sum.Add(sum, x)
	} else {
		sum.Sub(sum, x)
	}
}

// insertOrRemove keeps s sorted by cmp while inserting x (sign +1) or
// removing one element same reports equal to x (sign -1). While building,
// x is appended and s sorted once afterwards.
func insertOrRemove[T any](s []T, x T, sign int, building bool, cmp func(a, b T) int, same func(a, b T) bool) []T {
	if sign > 0 && building {
		return append(s, x)
	}
	i, _ := slices.BinarySearchFunc(s, x, cmp)
	if sign > 0 {
		return slices.Insert(s, i, x)
	}
	for ; i < len(s) && cmp(s[i], x) == 0; i++ {
		if same(s[i], x) {
			return slices.Delete(s, i, i+1)
		}
	}
	return s
}
