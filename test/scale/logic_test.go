//go:build scale

package scale

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Unit tests of the benchmark's own arithmetic and bookkeeping: what its
// report rests on, checked without a control plane.

// managerMetrics is a manager's /metrics as controller-runtime serves it,
// trimmed to what passDone and leading read.
func managerMetrics(publishers, offers, queued, busy, leader string) string {
	return `# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="publisher",result="success"} ` + publishers + `
controller_runtime_reconcile_total{controller="publisher",result="error"} 1
controller_runtime_reconcile_total{controller="offer",result="success"} ` + offers + `
controller_runtime_reconcile_total{controller="offer",result="requeue"} 0
# TYPE workqueue_depth gauge
workqueue_depth{controller="publisher",name="publisher",priority=""} 0
workqueue_depth{controller="offer",name="offer",priority="-100"} ` + queued + `
workqueue_depth{controller="offer",name="offer",priority="0"} 0
# TYPE controller_runtime_active_workers gauge
controller_runtime_active_workers{controller="publisher"} ` + busy + `
controller_runtime_active_workers{controller="offer"} 0
# TYPE leader_election_master_status gauge
leader_election_master_status{name="rewards-operator-0123456789.rewards.marketplace.io"} ` + leader + `
`
}

// The startup pass is done when every controller has reconciled at least
// its kind's objects (every result counted), nothing is queued at any
// priority and no worker is busy; until then it says what is left.
func TestPassDone(t *testing.T) {
	want := map[string]int{"publisher": 10, "offer": 50}
	for name, c := range map[string]struct {
		metrics  string
		want     map[string]int
		done     bool
		leftHas  []string
		leftNone string
	}{
		"done":                         {managerMetrics("9", "50", "0", "0", "1"), want, true, nil, ""},
		"more reconciles than objects": {managerMetrics("30", "70", "0", "0", "1"), want, true, nil, ""},
		"not every object reconciled":  {managerMetrics("8", "50", "0", "0", "1"), want, false, []string{"publisher 9 of 10 reconciled"}, "offer"},
		"an object queued at low priority": {managerMetrics("9", "50", "3", "0", "1"), want, false,
			[]string{"offer 3 queued"}, "publisher"},
		"a worker busy": {managerMetrics("9", "50", "0", "1", "1"), want, false, []string{"publisher 1 being reconciled"}, "offer"},
		"a controller not started": {managerMetrics("9", "50", "0", "0", "1"), map[string]int{"publisher": 10, "salesrecord": 5}, false,
			[]string{"salesrecord not started"}, "publisher"},
		"no metrics yet": {"", want, false, []string{"offer not started", "publisher not started"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			families, err := parseMetrics(strings.NewReader(c.metrics), "test")
			if err != nil {
				t.Fatal(err)
			}
			done, left := passDone(families, c.want)
			if done != c.done {
				t.Errorf("done = %v (left: %q), want %v", done, left, c.done)
			}
			for _, s := range c.leftHas {
				if !strings.Contains(left, s) {
					t.Errorf("left = %q, want it to say %q", left, s)
				}
			}
			if c.leftNone != "" && strings.Contains(left, c.leftNone) {
				t.Errorf("left = %q names %s, which is done", left, c.leftNone)
			}
		})
	}
}

// A replica leads when its Lease gauge is 1; a standby reports 0, and a
// manager without leader election nothing.
func TestLeading(t *testing.T) {
	for metrics, want := range map[string]bool{
		managerMetrics("1", "1", "0", "0", "1"):          true,
		managerMetrics("1", "1", "0", "0", "0"):          false,
		"# TYPE go_goroutines gauge\ngo_goroutines 12\n": false,
	} {
		families, err := parseMetrics(strings.NewReader(metrics), "test")
		if err != nil {
			t.Fatal(err)
		}
		if got := leading(families); got != want {
			t.Errorf("leading = %v, want %v, of\n%s", got, want, metrics)
		}
	}
}

// The writes a new line causes to its own publisher's objects are told
// apart from every other write: only those are the reaction.
func TestOwnedBy(t *testing.T) {
	mine := ownedBy("scale-op-02", "pub-00042")
	for k, want := range map[string]bool{
		key("Publisher", "scale-op-02", "pub-00042"):                 true,
		key("SalesRecord", "scale-op-02", "pub-00042-day2-restart"):  true,
		key("BenefitActivation", "scale-op-02", "pub-00042-onetime"): true,
		key("Publisher", "scale-op-02", "pub-00043"):                 false,
		key("Publisher", "scale-floor-02", "pub-00042"):              false,
		key("RewardsProgram", "", "scale"):                           false,
	} {
		if got := mine(k); got != want {
			t.Errorf("ownedBy(%s) = %v, want %v", k, got, want)
		}
	}
}

// The two copies of the dataset are the same objects in namespaces of
// their own.
func TestDatasetCopies(t *testing.T) {
	now := time.Now()
	op := newDataset("scale-op", 7, 3, 40, now)
	fl := newDataset("scale-floor", 7, 3, 40, now)
	if got := strings.Join(op.allNamespaces(), ","); got != "scale-op-00,scale-op-01,scale-op-02,scale-op-big" {
		t.Errorf("namespaces %s", got)
	}
	for _, ns := range op.allNamespaces() {
		if fl.owns(ns) {
			t.Errorf("both copies own %s", ns)
		}
	}
	made := func(d *dataset) [][]string {
		groups := d.objects(datasetRand())
		out := make([][]string, 0, len(groups))
		for _, group := range groups {
			var g []string
			for _, o := range group {
				s := o.GetName()
				switch x := o.(type) {
				case *v1alpha1.SalesRecord:
					s += " " + string(x.Spec.Amount) + " " + x.Spec.BilledAt.UTC().String()
				case *v1alpha1.Publisher:
					if x.Namespace == d.big {
						s += " (big)"
					}
				}
				g = append(g, s)
			}
			out = append(out, g)
		}
		return out
	}
	x, y := made(op), made(fl)
	if len(x) != len(y) {
		t.Fatalf("%d groups against %d", len(x), len(y))
	}
	for i := range x {
		if strings.Join(x[i], "\n") != strings.Join(y[i], "\n") {
			t.Errorf("group %d differs between the copies", i)
		}
	}
	if n := len(x[2]); n != 7*recordsPerPublisher+40 {
		t.Errorf("%d sales lines, want %d", n, 7*recordsPerPublisher+40)
	}
}

// The observer counts each side's objects, convergence and writes apart.
func TestObserverSides(t *testing.T) {
	op := newDataset("scale-op", 1, 1, 0, time.Now())
	fl := newDataset("scale-floor", 1, 1, 0, time.Now())
	b := &bench{op: op, fl: fl}
	o := newObserver(t, nil, b.sideOf, sideOperator, sideFloor)
	pub := func(ns string, observed int64, conds ...metav1.Condition) *v1alpha1.Publisher {
		p := &v1alpha1.Publisher{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pub-00000", Generation: 1}}
		p.Status.ObservedGeneration, p.Status.Conditions = observed, conds
		return p
	}
	now := time.Now()
	o.update(watch.Added, pub("scale-op-00", 0), now)
	o.update(watch.Added, pub("scale-floor-00", 0), now)
	o.update(watch.Added, &v1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: "scale", Generation: 1}}, now)
	o.update(watch.Added, pub("elsewhere", 0), now)
	if n, _ := o.counts(sideOperator); n != 2 {
		t.Errorf("operator's side: %d objects, want the publisher and the program", n)
	}
	if n, _ := o.counts(sideFloor); n != 1 {
		t.Errorf("floor's side: %d objects, want 1", n)
	}
	o.setCheck(sideOperator, byOperator)
	o.setCheck(sideFloor, byFloor)
	floorMark := metav1.Condition{Type: conditionFloor, Status: metav1.ConditionTrue, ObservedGeneration: 1}
	o.update(watch.Modified, pub("scale-floor-00", 1, floorMark), now)
	if got := o.failing(sideFloor); len(got) != 0 {
		t.Errorf("floor's side failing %v after the floor's write", got)
	}
	if got := o.failing(sideOperator); len(got) != 2 {
		t.Errorf("operator's side failing %v, want its two objects", got)
	}
	if n, _ := o.writes(sideFloor, nil); n != 1 {
		t.Errorf("floor's side: %d writes, want 1", n)
	}
	if n, _ := o.writes(sideOperator, nil); n != 0 {
		t.Errorf("operator's side: %d writes, want 0", n)
	}
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, ObservedGeneration: 1}
	o.update(watch.Modified, pub("scale-op-00", 1, ready), now)
	o.update(watch.Modified, &v1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: "scale", Generation: 1},
		Status: v1alpha1.RewardsProgramStatus{ObservedGeneration: 1, Conditions: []metav1.Condition{ready}}}, now)
	if got := o.failing(sideOperator); len(got) != 0 {
		t.Errorf("operator's side failing %v after its writes", got)
	}
	n, byKind := o.writes(sideOperator, nil)
	if n != 2 || byKind["Publisher"] != 1 || byKind["RewardsProgram"] != 1 {
		t.Errorf("operator's side: %d writes %v, want one publisher's and one program's", n, byKind)
	}
	if n, _ := o.writes(sideOperator, ownedBy("scale-op-00", "pub-00000")); n != 1 {
		t.Errorf("operator's side without the publisher's own: %d writes, want the program's", n)
	}
}

// With -baseline, the floor's side holds an operator: it converges by the
// operator's check, not the floor's condition, and the report names it.
func TestBaselineSide(t *testing.T) {
	b := &bench{}
	operatorDone := &summary{generation: 1, observedGen: 1, readyGen: 1, floorGen: -1}
	floorDone := &summary{generation: 1, floorGen: 1, readyGen: -1}
	if b.other() != "floor" || !b.otherCheck()(floorDone) || b.otherCheck()(operatorDone) {
		t.Errorf("without -baseline: the other side is %q, and must pass by the floor's condition only", b.other())
	}
	defer func(was string) { *flagBaseline = was }(*flagBaseline)
	*flagBaseline = "/src/of/another/commit"
	if b.other() != "baseline" || !b.otherCheck()(operatorDone) || b.otherCheck()(floorDone) {
		t.Errorf("with -baseline: the other side is %q, and must pass by the operator's check only", b.other())
	}
}
