package gather

import (
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/keylock"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// SalesMemo computes a publisher's sales facts (rules S1–S7: the tier, the
// breakdown and forecast, fraud reports) once per change of their inputs
// and shares them: a new sales line used to be summed again by the
// publisher's reconcile and by each of its activations', so a publisher's
// cost per event grew with its lines times its activations.
//
// Each publisher has a version that the watches bump, through changed,
// whenever one of its offers or sales lines is created, deleted or changes
// its spec; they bump it before they enqueue anything, so a reconcile
// started by a change never reads facts computed before that change. An
// entry is valid for the version and the rules in force it was computed
// under, until the instant the facts change by themselves (a line ageing
// out, an offer going live). A valid entry is answered without listing the
// publisher's lines, so a new line costs one evaluation of the publisher's
// lines, not one per activation, and nothing per activation it does not
// concern.
//
// Between changes, each publisher's lines are kept evaluated and summed in
// a rewards.Ledger: the watches also note which lines changed, and only
// those are read again and put in the ledger; the publisher's lines are
// listed and evaluated all again only when its offers or the rules change,
// or something in the ledger changed by itself (a line ageing out). So a
// new line costs the evaluation of that line, not of every line of its
// publisher.
type SalesMemo struct {
	mu       sync.Mutex
	entries  map[types.NamespacedName]salesEntry
	versions map[types.NamespacedName]uint64
	// lastChange is the change each publisher's version was last bumped
	// for: the publisher's and the activations' watches both hear of each
	// change, and one change bumps the version once.
	lastChange map[types.NamespacedName]string
	// computing lets one worker at a time evaluate a publisher's lines:
	// the others, started by the same change, wait and take its result
	// instead of each evaluating them again.
	computing keylock.Locks

	// ledgers are the publishers' lines as last evaluated, each used by
	// one worker at a time (under computing).
	ledgers map[types.NamespacedName]keptLedger
	// changedLines are the lines of each publisher that changed since its
	// ledger was last brought up to date; offersChanged the publishers
	// whose offers changed, whose ledger is built again.
	changedLines  map[types.NamespacedName]map[string]struct{}
	offersChanged map[types.NamespacedName]bool

	// OnChange, when set, is told of a publisher whose sales facts were
	// computed again and changed in a way an activation's decision reads
	// (rewards.SalesFacts.DecidesLike), or under other rules: its Transact
	// activations are reconciled then, and not for every new line.
	OnChange func(pub types.NamespacedName)
}

// keptLedger is a publisher's ledger and the rules it was built under.
type keptLedger struct {
	ledger *rewards.Ledger
	rules  string
}

type salesEntry struct {
	version    uint64
	rules      string
	computedAt time.Time
	res        rewards.TierResult
	detail     rewards.TierDetail
	facts      rewards.SalesFacts
}

// NewSalesMemo returns an empty memo.
func NewSalesMemo() *SalesMemo {
	return &SalesMemo{
		entries:    map[types.NamespacedName]salesEntry{},
		versions:   map[types.NamespacedName]uint64{},
		lastChange: map[types.NamespacedName]string{},

		ledgers:       map[types.NamespacedName]keptLedger{},
		changedLines:  map[types.NamespacedName]map[string]struct{}{},
		offersChanged: map[types.NamespacedName]bool{},
	}
}

// SalesInputs reads a publisher's offers and sales lines (from the cache).
type SalesInputs struct {
	// all lists the publisher's offers and their sales lines.
	all func() ([]v1alpha1.Offer, []*v1alpha1.SalesRecord, error)
	// line reads one sales line of the publisher's namespace; nil when it
	// does not exist.
	line func(name string) (*v1alpha1.SalesRecord, error)
}

// Changed records that obj, an offer or sales line of publisher pub, was
// created, deleted or changed its spec. A nil memo ignores it.
func (m *SalesMemo) Changed(pub types.NamespacedName, obj client.Object) {
	if m == nil || pub.Name == "" {
		return
	}
	change := string(obj.GetUID()) + "/" + obj.GetResourceVersion()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastChange[pub] == change {
		return
	}
	m.versions[pub]++
	m.lastChange[pub] = change
	if _, isLine := obj.(*v1alpha1.SalesRecord); !isLine {
		m.offersChanged[pub] = true
		return
	}
	lines := m.changedLines[pub]
	if lines == nil {
		lines = map[string]struct{}{}
		m.changedLines[pub] = lines
	}
	lines[obj.GetName()] = struct{}{}
}

// Facts returns the sales facts of publisher pub under prog at now: the
// ones computed before for the same version of its inputs and the same
// rules, while still valid at now, or else computed again: from the
// publisher's ledger with the lines that changed read again, or from all
// its lines when the ledger cannot be brought up to date.
// A nil memo computes them every time.
func (m *SalesMemo) Facts(pub types.NamespacedName, prog rewards.ProgramState, now time.Time,
	inputs SalesInputs) (rewards.TierResult, rewards.TierDetail, rewards.SalesFacts, error) {
	if m == nil {
		ledger, err := buildLedger(prog, now, inputs)
		if err != nil {
			return rewards.TierResult{}, rewards.TierDetail{}, rewards.SalesFacts{}, err
		}
		res, detail, facts := ledger.Facts(now)
		return res, detail, facts, nil
	}
	rules := rulesKey(prog)
	if e, ok := m.valid(pub, rules, now); ok {
		return e.res, e.detail, e.facts, nil
	}
	defer m.computing.Lock(pub.String())()
	if e, ok := m.valid(pub, rules, now); ok { // computed while this one waited
		return e.res, e.detail, e.facts, nil
	}
	m.mu.Lock()
	version := m.versions[pub]
	lines, offersChanged := m.changedLines[pub], m.offersChanged[pub]
	delete(m.changedLines, pub)
	delete(m.offersChanged, pub)
	kept, hasLedger := m.ledgers[pub]
	m.mu.Unlock()
	// The changes are read after the version: the ledger is at least as
	// new as it, so the entry never holds facts older than its version.
	var err error
	if !hasLedger || offersChanged || kept.rules != rules || !kept.ledger.Holds(now) {
		kept.ledger, err = buildLedger(prog, now, inputs)
	} else {
		kept.ledger, err = updateLedger(kept.ledger, lines, prog, now, inputs)
	}
	kept.rules = rules
	if err != nil {
		// The changes taken above are not in the ledger, or only some of
		// them: build it again next time.
		m.mu.Lock()
		delete(m.ledgers, pub)
		m.mu.Unlock()
		return rewards.TierResult{}, rewards.TierDetail{}, rewards.SalesFacts{}, err
	}
	res, detail, facts := kept.ledger.Facts(now)
	m.mu.Lock()
	m.ledgers[pub] = kept
	prev, hadEntry := m.entries[pub]
	m.entries[pub] = salesEntry{version: version, rules: rules, computedAt: now, res: res, detail: detail, facts: facts}
	m.mu.Unlock()
	// Without an entry before, no activation of the publisher was decided
	// on facts of this memo: each computes them when reconciled.
	if m.OnChange != nil && hadEntry && (prev.rules != rules || !prev.facts.DecidesLike(facts)) {
		m.OnChange(pub)
	}
	return res, detail, facts, nil
}

// valid returns publisher pub's entry if it was computed for the current
// version of its inputs and the rules in force, and still holds at now.
func (m *SalesMemo) valid(pub types.NamespacedName, rules string, now time.Time) (salesEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[pub]
	return e, ok && e.version == m.versions[pub] && e.rules == rules && !now.Before(e.computedAt) &&
		(e.res.NextChangeAt == nil || now.Before(*e.res.NextChangeAt))
}

// buildLedger evaluates all of a publisher's lines.
func buildLedger(prog rewards.ProgramState, now time.Time, inputs SalesInputs) (*rewards.Ledger, error) {
	offers, records, err := inputs.all()
	if err != nil {
		return nil, err
	}
	return rewards.NewLedger(prog.Rules, offers, records, now), nil
}

// updateLedger brings a publisher's ledger up to date with the lines that
// changed (putLines), or builds it again when it refused one.
func updateLedger(ledger *rewards.Ledger, lines map[string]struct{}, prog rewards.ProgramState, now time.Time,
	inputs SalesInputs) (*rewards.Ledger, error) {
	complete, err := putLines(ledger, lines, now, inputs)
	if err != nil || complete {
		return ledger, err
	}
	return buildLedger(prog, now, inputs)
}

// putLines brings a publisher's ledger up to date with the lines that
// changed: each is read again and put in the ledger, or taken out when it
// was deleted or no longer belongs to one of the publisher's offers. It
// reports false when the ledger refused a line (a first cancelled
// purchase, for which it must be built again with every line's spec).
func putLines(ledger *rewards.Ledger, lines map[string]struct{}, now time.Time, inputs SalesInputs) (bool, error) {
	for name := range lines {
		rec, err := inputs.line(name)
		if err != nil {
			return false, err
		}
		if rec == nil || !ledger.HasOffer(rec.Spec.OfferRef.Name) {
			ledger.Remove(name)
			continue
		}
		if !ledger.Put(rec, now) {
			return false, nil
		}
	}
	return true, nil
}

// Forget drops a deleted publisher's entry. Its version stays: versions
// only grow, so an entry computed before can never match a later one.
func (m *SalesMemo) Forget(pub types.NamespacedName) {
	if m == nil {
		return
	}
	m.mu.Lock()
	delete(m.entries, pub)
	delete(m.ledgers, pub)
	delete(m.changedLines, pub)
	delete(m.offersChanged, pub)
	m.mu.Unlock()
}

// rulesKey identifies the rules in force: the program and the revision
// holding them (the same rules, whatever object or generation they come
// from), or none.
func rulesKey(prog rewards.ProgramState) string {
	return prog.Name + "/" + prog.Revision + "/" + strconv.FormatBool(prog.Missing)
}
