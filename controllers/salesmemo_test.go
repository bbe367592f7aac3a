package controllers

import (
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// memoFixture is a publisher's inputs as the cache would list them, and a
// count of how often the memo listed them.
type memoFixture struct {
	offers  []v1alpha1.Offer
	records []v1alpha1.SalesRecord
	listed  int
}

// memoNow and memoPublisher are when and whose facts the memo tests ask.
var (
	memoNow       = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)
	memoPublisher = types.NamespacedName{Namespace: "ns", Name: "contoso"}
)

// newMemoFixture is memoPublisher with one Transact offer live for a year
// and no line yet.
func newMemoFixture() *memoFixture {
	offer := testenv.Offer("ns", "saas", memoPublisher.Name, v1alpha1.ListingTypeTransact, memoNow.AddDate(-1, 0, 0))
	return &memoFixture{offers: []v1alpha1.Offer{*offer}}
}

func (f *memoFixture) inputs() ([]v1alpha1.Offer, []v1alpha1.SalesRecord, error) {
	f.listed++
	return f.offers, f.records, nil
}

func (f *memoFixture) addLine(name, amount string, billedAt time.Time) {
	f.records = append(f.records, *testenv.SalesRecord("ns", name, "saas", amount, "USD", billedAt))
}

// lineChange is a sales line as a watch hears of it: uid at resourceVersion rv.
func lineChange(uid, rv string) *v1alpha1.SalesRecord {
	rec := testenv.SalesRecord("ns", uid, "saas", "1", "USD", time.Time{})
	rec.UID, rec.ResourceVersion = types.UID(uid), rv
	return rec
}

func memoProgram(uid string, generation int64) rewards.ProgramState {
	prog := testenv.Program()
	prog.UID, prog.Generation = types.UID(uid), generation
	return rewards.ProgramStateOf(prog.Name, prog)
}

// The memo answers from what it computed while the publisher's inputs and
// the rules in force are the same and the facts cannot have changed by
// themselves; any of those changing makes it list and evaluate again.
func TestSalesMemo(t *testing.T) {
	now, pub, prog, f := memoNow, memoPublisher, memoProgram("uid-1", 1), newMemoFixture()
	f.addLine("a", "30000.00", now.AddDate(0, -1, 0))
	m := newSalesMemo()

	billed := func(at time.Time, p rewards.ProgramState) string {
		t.Helper()
		res, _, _, err := m.facts(pub, p, at, f.inputs)
		if err != nil {
			t.Fatalf("facts: %v", err)
		}
		return res.BilledSales.String()
	}
	expect := func(step, got, want string, listed int) {
		t.Helper()
		if got != want || f.listed != listed {
			t.Errorf("%s: billed %s after %d listings, want %s after %d", step, got, f.listed, want, listed)
		}
	}

	expect("first call evaluates the lines", billed(now, prog), "30000.00", 1)
	expect("same inputs: answered from the memo, nothing listed", billed(now.Add(time.Hour), prog), "30000.00", 1)

	// A line added but not yet heard of by the watches: the memo keeps its
	// answer (the reconcile the watch starts comes after changed).
	f.addLine("b", "5000", now.AddDate(0, 0, -1))
	expect("a change not yet announced", billed(now.Add(time.Hour), prog), "30000.00", 1)
	m.changed(pub, lineChange("b", "10"))
	expect("a changed line: listed and evaluated again", billed(now.Add(time.Hour), prog), "35000.00", 2)
	m.changed(pub, lineChange("b", "10"))
	expect("the same change heard by another watch", billed(now.Add(time.Hour), prog), "35000.00", 2)
	m.changed(types.NamespacedName{Namespace: "ns", Name: "fabrikam"}, lineChange("x", "11"))
	expect("another publisher's change", billed(now.Add(time.Hour), prog), "35000.00", 2)

	expect("other rules in force", billed(now.Add(time.Hour), memoProgram("uid-1", 2)), "35000.00", 3)
	expect("a program created again (another UID)", billed(now.Add(time.Hour), memoProgram("uid-2", 2)), "35000.00", 4)

	// A line billed in the future counts from its instant: the facts change
	// by themselves then, and the memo does not answer past it.
	future := now.AddDate(0, 0, 2)
	f.addLine("c", "1000", future)
	m.changed(pub, lineChange("c", "12"))
	prog2 := memoProgram("uid-2", 2)
	expect("the future line does not count yet", billed(now.Add(time.Hour), prog2), "35000.00", 5)
	expect("still before it", billed(future.Add(-time.Second), prog2), "35000.00", 5)
	expect("at its instant: evaluated again", billed(future, prog2), "36000.00", 6)

	m.forget(pub)
	expect("a deleted publisher's entry is gone", billed(future, prog2), "36000.00", 7)

	var none *salesMemo
	if res, _, _, err := none.facts(pub, prog2, future, f.inputs); err != nil || res.BilledSales.String() != "36000.00" || f.listed != 8 {
		t.Errorf("a nil memo evaluates every time: billed %s, %d listings, %v", res.BilledSales, f.listed, err)
	}
	none.changed(pub, lineChange("d", "13")) // and ignores changes
}

// Workers started by the same change evaluate a publisher's lines once:
// the others wait for that evaluation and take its result.
func TestSalesMemoEvaluatesOnceForConcurrentWorkers(t *testing.T) {
	now, pub, prog, f := memoNow, memoPublisher, memoProgram("uid-1", 1), newMemoFixture()
	f.addLine("a", "100", now.AddDate(0, -1, 0))
	m := newSalesMemo()

	var mu sync.Mutex
	release := make(chan struct{})
	inputs := func() ([]v1alpha1.Offer, []v1alpha1.SalesRecord, error) {
		<-release // hold the evaluation until every worker has asked
		mu.Lock()
		defer mu.Unlock()
		return f.inputs()
	}
	const workers = 8
	var started, done sync.WaitGroup
	billed := make([]string, workers)
	for i := range workers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			res, _, _, err := m.facts(pub, prog, now, inputs)
			if err != nil {
				t.Error(err)
			}
			billed[i] = res.BilledSales.String()
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
	if f.listed != 1 {
		t.Errorf("%d evaluations for %d concurrent workers of one change, want 1", f.listed, workers)
	}
	for i, b := range billed {
		if b != "100.00" {
			t.Errorf("worker %d: billed %s, want 100.00", i, b)
		}
	}
}
