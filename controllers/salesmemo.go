package controllers

import (
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// salesMemo computes a publisher's sales facts (rules S1–S7: the tier, the
// breakdown and forecast, fraud reports) once per change of their inputs
// and shares them: a new sales line used to be summed again by the
// publisher's reconcile and by each of its activations', so a publisher's
// cost per event grew with its lines times its activations.
//
// An entry is valid while its inputs are the same (the program's rules in
// force, the resourceVersions of the publisher's offers and lines: a
// fingerprint the caller computes from the cache it just read) and until
// the instant the facts change by themselves (a line ageing out, an offer
// going live). It never answers from inputs the caller did not read, so it
// is never staler than the cache.
type salesMemo struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]salesEntry
}

type salesEntry struct {
	fingerprint uint64
	computedAt  time.Time
	res         rewards.TierResult
	detail      rewards.TierDetail
	facts       rewards.SalesFacts
}

func newSalesMemo() *salesMemo {
	return &salesMemo{entries: map[types.NamespacedName]salesEntry{}}
}

// facts returns the sales facts of publisher pub under prog, computed from
// offers and records at now, or the ones computed before from the same
// inputs and still valid at now. A nil memo computes them every time.
func (m *salesMemo) facts(pub types.NamespacedName, prog rewards.ProgramState, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord,
	now time.Time) (rewards.TierResult, rewards.TierDetail, rewards.SalesFacts) {
	if m == nil {
		res, detail := rewards.ComputeTierDetail(prog.Rules, offers, records, now)
		return res, detail, rewards.SalesFactsOf(res, prog.Rules, offers, records)
	}
	fp := fingerprint(prog, offers, records)
	m.mu.Lock()
	e, ok := m.entries[pub]
	m.mu.Unlock()
	if ok && e.fingerprint == fp && !now.Before(e.computedAt) && (e.res.NextChangeAt == nil || now.Before(*e.res.NextChangeAt)) {
		return e.res, e.detail, e.facts
	}
	res, detail := rewards.ComputeTierDetail(prog.Rules, offers, records, now)
	e = salesEntry{fingerprint: fp, computedAt: now, res: res, detail: detail, facts: rewards.SalesFactsOf(res, prog.Rules, offers, records)}
	m.mu.Lock()
	m.entries[pub] = e
	m.mu.Unlock()
	return e.res, e.detail, e.facts
}

// forget drops a deleted publisher's entry.
func (m *salesMemo) forget(pub types.NamespacedName) {
	if m == nil {
		return
	}
	m.mu.Lock()
	delete(m.entries, pub)
	m.mu.Unlock()
}

// fingerprint identifies the inputs of a publisher's sales facts: the rules
// in force and every offer and line, by name and resourceVersion (which
// changes with any change of the object). It does not depend on the order
// the cache lists them in. Hashing them costs far less than evaluating the
// lines again.
func fingerprint(prog rewards.ProgramState, offers []v1alpha1.Offer, records []v1alpha1.SalesRecord) uint64 {
	sum := hashOf("program", prog.Name, prog.UID, strconv.FormatInt(prog.RulesGeneration, 10), strconv.FormatBool(prog.Missing))
	for i := range offers {
		sum += hashOf("offer", offers[i].Name, offers[i].ResourceVersion)
	}
	for i := range records {
		sum += hashOf("record", records[i].Name, records[i].ResourceVersion)
	}
	return sum
}

// hashOf hashes strings, each one delimited.
func hashOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}
