package gather

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

// memoFixture is a publisher's inputs as the cache would list them, and a
// count of how often the memo listed them all and read one line.
type memoFixture struct {
	offers  []v1alpha1.Offer
	records []v1alpha1.SalesRecord
	listed  int
	read    int
}

// memoNow and memoPublisher are when and whose facts the memo tests ask.
var (
	memoNow       = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)
	memoPublisher = types.NamespacedName{Namespace: "ns", Name: "contoso"}
)

// newMemoFixture is memoPublisher with one Transact offer live for a year
// and no line yet.
func newMemoFixture() *memoFixture {
	offer := build.Offer("ns", "saas", memoPublisher.Name, v1alpha1.ListingTypeTransact, memoNow.AddDate(-1, 0, 0))
	return &memoFixture{offers: []v1alpha1.Offer{*offer}}
}

func (f *memoFixture) inputs() SalesInputs {
	return SalesInputs{all: f.all, line: f.line}
}

func (f *memoFixture) all() ([]v1alpha1.Offer, []*v1alpha1.SalesRecord, error) {
	f.listed++
	records := make([]*v1alpha1.SalesRecord, len(f.records))
	for i := range f.records {
		rec := f.records[i]
		records[i] = &rec
	}
	return f.offers, records, nil
}

func (f *memoFixture) line(name string) (*v1alpha1.SalesRecord, error) {
	f.read++
	for i := range f.records {
		if f.records[i].Name == name {
			rec := f.records[i]
			return &rec, nil
		}
	}
	return nil, nil
}

func (f *memoFixture) removeLine(name string) {
	f.records = slices.DeleteFunc(f.records, func(r v1alpha1.SalesRecord) bool { return r.Name == name })
}

func (f *memoFixture) addLine(name, amount string, billedAt time.Time) {
	f.records = append(f.records, *build.SalesRecord("ns", name, "saas", amount, "USD", billedAt))
}

// lineChange is a sales line as a watch hears of it: uid at resourceVersion rv.
func lineChange(uid, rv string) *v1alpha1.SalesRecord {
	rec := build.SalesRecord("ns", uid, "saas", "1", "USD", time.Time{})
	rec.UID, rec.ResourceVersion = types.UID(uid), rv
	return rec
}

// memoProgram is the state of a valid program whose rules differ by their
// description: another description, another revision of rules.
func memoProgram(description string, uid types.UID) rewards.ProgramState {
	prog := build.Program()
	prog.Name, prog.UID, prog.Spec.Description = "gold", uid, description
	return rewards.ProgramStateOf(prog.Name, prog, nil)
}

// The memo answers from what it computed while the publisher's inputs and
// the rules in force are the same and the facts cannot have changed by
// themselves. A changed line is read again and put in the publisher's
// ledger; the rules or the offers changing, or the facts changing by
// themselves, make it list and evaluate all the lines again.
func TestSalesMemo(t *testing.T) {
	now, pub, prog, f := memoNow, memoPublisher, memoProgram("v1", "uid-1"), newMemoFixture()
	f.addLine("a", "30000.00", now.AddDate(0, -1, 0))
	m := NewSalesMemo()

	billed := func(at time.Time, p rewards.ProgramState) string {
		t.Helper()
		res, _, _, err := m.Facts(pub, p, at, f.inputs())
		if err != nil {
			t.Fatalf("facts: %v", err)
		}
		return res.BilledSales.String()
	}
	expect := func(step, got, want string, listed, read int) {
		t.Helper()
		if got != want || f.listed != listed || f.read != read {
			t.Errorf("%s: billed %s after %d listings and %d lines read, want %s after %d and %d", step, got, f.listed, f.read, want, listed, read)
		}
	}

	expect("first call evaluates the lines", billed(now, prog), "30000.00", 1, 0)
	expect("same inputs: answered from the memo, nothing read", billed(now.Add(time.Hour), prog), "30000.00", 1, 0)

	// A line added but not yet heard of by the watches: the memo keeps its
	// answer (the reconcile the watch starts comes after changed).
	f.addLine("b", "5000", now.AddDate(0, 0, -1))
	expect("a change not yet announced", billed(now.Add(time.Hour), prog), "30000.00", 1, 0)
	m.Changed(pub, lineChange("b", "10"))
	expect("a new line: read and put in the ledger, the others not listed", billed(now.Add(time.Hour), prog), "35000.00", 1, 1)
	m.Changed(pub, lineChange("b", "10"))
	expect("the same change heard by another watch", billed(now.Add(time.Hour), prog), "35000.00", 1, 1)
	m.Changed(types.NamespacedName{Namespace: "ns", Name: "fabrikam"}, lineChange("x", "11"))
	expect("another publisher's change", billed(now.Add(time.Hour), prog), "35000.00", 1, 1)

	f.records[1].Spec.Fraud = v1alpha1.FraudProven
	m.Changed(pub, lineChange("b", "12"))
	expect("S3: a line changed to fraud Proven no longer counts", billed(now.Add(time.Hour), prog), "30000.00", 1, 2)
	f.removeLine("b")
	m.Changed(pub, lineChange("b", "13"))
	expect("a deleted line is taken out", billed(now.Add(time.Hour), prog), "30000.00", 1, 3)
	f.addLine("b", "5000", now.AddDate(0, 0, -1))
	f.records[1].Spec.OfferRef.Name = "another-publishers-offer"
	m.Changed(pub, lineChange("b", "14"))
	expect("a line of another publisher's offer is not this one's", billed(now.Add(time.Hour), prog), "30000.00", 1, 4)
	f.removeLine("b")

	expect("other rules in force (another revision)", billed(now.Add(time.Hour), memoProgram("v2", "uid-1")), "30000.00", 2, 4)
	prog2 := memoProgram("v2", "uid-2")
	expect("the same rules in a program created again: the same revision, answered from the memo", billed(now.Add(time.Hour), prog2), "30000.00", 2, 4)
	m.Changed(pub, &f.offers[0])
	expect("an offer changed: every line evaluated again", billed(now.Add(time.Hour), prog2), "30000.00", 3, 4)

	// A line billed in the future counts from its instant: the facts change
	// by themselves then, and the memo does not answer past it.
	future := now.AddDate(0, 0, 2)
	f.addLine("c", "1000", future)
	m.Changed(pub, lineChange("c", "15"))
	expect("the future line does not count yet", billed(now.Add(time.Hour), prog2), "30000.00", 3, 5)
	expect("still before it", billed(future.Add(-time.Second), prog2), "30000.00", 3, 5)
	expect("at its instant: evaluated again", billed(future, prog2), "31000.00", 4, 5)

	// The ledger keeps no line's spec until one is a cancelled purchase,
	// which R4 evaluates with every line as of a grant's instant: the
	// first one makes the memo list and evaluate every line again.
	f.records[len(f.records)-1].Spec.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase}
	m.Changed(pub, lineChange("c", "16"))
	expect("S3: a first cancelled purchase: read, then every line evaluated again", billed(future, prog2), "30000.00", 5, 6)
	_, _, facts, err := m.Facts(pub, prog2, future, f.inputs())
	if got := facts.CancelledLinesAt(future); err != nil || len(got) != 1 || got[0].Name != "c" {
		t.Errorf("R4: the facts' cancelled purchases are %+v (%v); want c", got, err)
	}
	f.addLine("d", "2000", now.AddDate(0, 0, -1))
	f.records[len(f.records)-1].Spec.Cancellation = &v1alpha1.Cancellation{Reason: v1alpha1.CancellationAccidentalPurchase}
	m.Changed(pub, lineChange("d", "17"))
	expect("another cancelled purchase: the ledger keeps specs, only the line is read", billed(future, prog2), "30000.00", 5, 7)

	m.Forget(pub)
	expect("a deleted publisher's entry is gone", billed(future, prog2), "30000.00", 6, 7)

	var none *SalesMemo
	if res, _, _, err := none.Facts(pub, prog2, future, f.inputs()); err != nil || res.BilledSales.String() != "30000.00" || f.listed != 7 {
		t.Errorf("a nil memo evaluates every time: billed %s, %d listings, %v", res.BilledSales, f.listed, err)
	}
	none.Changed(pub, lineChange("d", "16")) // and ignores changes
}

// A ledger that could not be brought up to date (the cache failed to read
// a changed line, or to list them all) is not trusted again: the next call
// lists every line, the changed ones included.
func TestSalesMemoRebuildsAfterAFailedRead(t *testing.T) {
	cacheDown := errors.New("cache not synced")
	cases := map[string]func(*SalesInputs){
		"ReadingALine": func(in *SalesInputs) {
			in.line = func(string) (*v1alpha1.SalesRecord, error) { return nil, cacheDown }
		},
		"ListingTheLines": func(in *SalesInputs) {
			in.all = func() ([]v1alpha1.Offer, []*v1alpha1.SalesRecord, error) { return nil, nil, cacheDown }
		},
	}
	for name, fail := range cases {
		t.Run(name, func(t *testing.T) {
			now, pub, prog, f := memoNow, memoPublisher, memoProgram("v1", "uid-1"), newMemoFixture()
			f.addLine("a", "100", now.AddDate(0, -1, 0))
			m := NewSalesMemo()
			if _, _, _, err := m.Facts(pub, prog, now, f.inputs()); err != nil {
				t.Fatal(err)
			}
			f.addLine("b", "50", now.AddDate(0, 0, -1))
			m.Changed(pub, lineChange("b", "10"))
			if name == "ListingTheLines" {
				m.Changed(pub, &f.offers[0]) // the offers changed: the lines are listed
			}
			failing := f.inputs()
			fail(&failing)
			if _, _, _, err := m.Facts(pub, prog, now, failing); !errors.Is(err, cacheDown) {
				t.Fatalf("facts: error %v, want %v", err, cacheDown)
			}
			res, _, _, err := m.Facts(pub, prog, now, f.inputs())
			if err != nil || res.BilledSales.String() != "150.00" || f.listed != 2 {
				t.Errorf("after a failed read: billed %s after %d listings (%v), want 150.00 after 2", res.BilledSales, f.listed, err)
			}
		})
	}
}

// Workers started by the same change evaluate a publisher's lines once:
// the others wait for that evaluation and take its result.
func TestSalesMemoEvaluatesOnceForConcurrentWorkers(t *testing.T) {
	now, pub, prog, f := memoNow, memoPublisher, memoProgram("v1", "uid-1"), newMemoFixture()
	f.addLine("a", "100", now.AddDate(0, -1, 0))
	m := NewSalesMemo()

	var mu sync.Mutex
	release := make(chan struct{})
	inputs := f.inputs()
	inputs.all = func() ([]v1alpha1.Offer, []*v1alpha1.SalesRecord, error) {
		<-release // hold the evaluation until every worker has asked
		mu.Lock()
		defer mu.Unlock()
		return f.all()
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
			res, _, _, err := m.Facts(pub, prog, now, inputs)
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

// The memo tells of a publisher whose sales facts changed in a way an
// activation's decision reads, and only then: a new line that leaves the
// tier and the rest as they were requeues no activation.
func TestSalesMemoNotifiesWhatActivationsRead(t *testing.T) {
	now, pub, prog, f := memoNow, memoPublisher, memoProgram("v1", "uid-1"), newMemoFixture()
	f.addLine("a", "30000.00", now.AddDate(0, -2, 0)) // Tier 2
	m := NewSalesMemo()
	var told []types.NamespacedName
	m.OnChange = func(p types.NamespacedName) { told = append(told, p) }

	step := func(name string, p rewards.ProgramState, wantTold int) {
		t.Helper()
		if _, _, _, err := m.Facts(pub, p, now, f.inputs()); err != nil {
			t.Fatal(err)
		}
		if len(told) != wantTold {
			t.Errorf("%s: told %d times, want %d", name, len(told), wantTold)
		}
	}
	step("first computation: no activation decided on an earlier one", prog, 0)
	f.addLine("b", "100", now.AddDate(0, -1, 0))
	m.Changed(pub, lineChange("b", "10"))
	step("a new line, same tier, same next change", prog, 0)
	f.addLine("c", "80000", now.AddDate(0, -1, 0))
	m.Changed(pub, lineChange("c", "11"))
	step("B2: a new line reaching Tier 3", prog, 1)
	f.addLine("d", "100", now.AddDate(0, -1, 0))
	f.records[len(f.records)-1].Spec.Fraud = v1alpha1.FraudSuspected
	m.Changed(pub, lineChange("d", "12"))
	step("R3: a line reported as fraud", prog, 2)
	step("nothing changed", prog, 2)
	step("other rules in force", memoProgram("v2", "uid-1"), 3)
	if told[0] != pub {
		t.Errorf("told of %v, want %v", told[0], pub)
	}
}
