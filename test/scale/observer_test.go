//go:build scale

package scale

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// conditionFloor is the condition the floor (test/scale/floor) writes.
const conditionFloor = "ScaleFloor"

// summary is what the benchmark needs of an object's latest version: it
// keeps this, not the object, so that watching 70,000 objects costs little
// memory.
type summary struct {
	kind        string
	generation  int64
	observedGen int64
	readyGen    int64 // the Ready condition's observedGeneration; -1 without one
	floorGen    int64 // the ScaleFloor condition's; -1 without one
	conditions  int
	phase       v1alpha1.ActivationPhase // activations
	billedSales v1alpha1.DerivedMoney    // publishers
	seenAt      time.Time                // when the watch delivered this version
}

// Checks: does an object show what a run writes, for its generation?
func byOperator(s *summary) bool { return s.observedGen == s.generation && s.readyGen == s.generation }
func byFloor(s *summary) bool    { return s.floorGen == s.generation }
func wiped(s *summary) bool      { return s.conditions == 0 && s.observedGen == 0 }

func summarize(obj client.Object, now time.Time) *summary {
	s := &summary{generation: obj.GetGeneration(), seenAt: now}
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *v1alpha1.RewardsProgram:
		s.kind, s.observedGen, conds = "RewardsProgram", o.Status.ObservedGeneration, o.Status.Conditions
	case *v1alpha1.Publisher:
		s.kind, s.observedGen, conds = "Publisher", o.Status.ObservedGeneration, o.Status.Conditions
		s.billedSales = o.Status.BilledSales
	case *v1alpha1.Offer:
		s.kind, s.observedGen, conds = "Offer", o.Status.ObservedGeneration, o.Status.Conditions
	case *v1alpha1.SalesRecord:
		s.kind, s.observedGen, conds = "SalesRecord", o.Status.ObservedGeneration, o.Status.Conditions
	case *v1alpha1.BenefitActivation:
		s.kind, s.observedGen, conds = "BenefitActivation", o.Status.ObservedGeneration, o.Status.Conditions
		s.phase = o.Status.Phase
	}
	s.conditions = len(conds)
	s.readyGen, s.floorGen = -1, -1
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady); c != nil {
		s.readyGen = c.ObservedGeneration
	}
	if c := meta.FindStatusCondition(conds, conditionFloor); c != nil {
		s.floorGen = c.ObservedGeneration
	}
	return s
}

// observer follows the five kinds with one watch each (no polling) and
// keeps each object's summary. Objects belong to sides (the operator's
// copy of the dataset and the floor's), told apart by namespace; for each
// side it keeps how many objects pass the side's current check, and the
// MODIFIED events since the last reset: the status writes of a run.
type observer struct {
	c       client.WithWatch
	t       *testing.T
	running sync.WaitGroup // the watches
	// sideOf names the side of an object's namespace ("" for a
	// cluster-scoped object).
	sideOf func(namespace string) string

	mu        sync.Mutex
	objs      map[string]*summary // by kind/namespace/name
	sides     map[string]*tally
	expiredAt map[string]time.Time // activations: when first seen Expired
	changed   chan struct{}        // closed and replaced on every event
}

// tally is what the observer counts of one side.
type tally struct {
	check    func(*summary) bool
	objects  int
	passing  int
	allAt    time.Time      // when the last object passed the check
	modified map[string]int // MODIFIED events by object key
}

func newTally() *tally { return &tally{check: wiped, modified: map[string]int{}} }

func key(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// kindOf and namespaceOfKey take a key apart.
func kindOf(k string) string { return k[:strings.IndexByte(k, '/')] }

func namespaceOfKey(k string) string {
	rest := k[strings.IndexByte(k, '/')+1:]
	return rest[:strings.IndexByte(rest, '/')]
}

func newObserver(t *testing.T, c client.WithWatch, sideOf func(string) string, sides ...string) *observer {
	o := &observer{c: c, t: t, sideOf: sideOf, objs: map[string]*summary{}, sides: map[string]*tally{},
		expiredAt: map[string]time.Time{}, changed: make(chan struct{})}
	for _, s := range sides {
		o.sides[s] = newTally()
	}
	return o
}

// start lists each kind (in pages) and then watches it from the list's
// resourceVersion until ctx ends. It returns once every list is done.
func (o *observer) start(ctx context.Context) error {
	lists := []client.ObjectList{&v1alpha1.RewardsProgramList{}, &v1alpha1.PublisherList{}, &v1alpha1.OfferList{},
		&v1alpha1.SalesRecordList{}, &v1alpha1.BenefitActivationList{}}
	for _, l := range lists {
		rv, err := o.list(ctx, l)
		if err != nil {
			return err
		}
		o.running.Go(func() { o.follow(ctx, l, rv) })
	}
	return nil
}

func (o *observer) list(ctx context.Context, l client.ObjectList) (string, error) {
	opts := []client.ListOption{client.Limit(500)}
	rv := ""
	for {
		if err := o.c.List(ctx, l, opts...); err != nil {
			return "", err
		}
		if rv == "" {
			rv = l.GetResourceVersion() // the first page's snapshot, which later pages continue
		}
		now := time.Now()
		if err := meta.EachListItem(l, func(obj runtime.Object) error {
			o.update(watch.Added, obj.(client.Object), now)
			return nil
		}); err != nil {
			return "", err
		}
		if l.GetContinue() == "" {
			return rv, nil
		}
		opts = []client.ListOption{client.Limit(500), client.Continue(l.GetContinue())}
	}
}

// follow watches from rv, again from the last version seen when the API
// server closes the watch (it does every 30 to 60 minutes), and lists
// again if that version is too old.
func (o *observer) follow(ctx context.Context, l client.ObjectList, rv string) {
	for ctx.Err() == nil {
		w, err := o.c.Watch(ctx, l, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
		if err != nil {
			if ctx.Err() == nil {
				o.t.Logf("watch %T: %v; again in 1s", l, err)
				time.Sleep(time.Second)
			}
			continue
		}
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Added, watch.Modified, watch.Deleted:
				obj := ev.Object.(client.Object)
				o.update(ev.Type, obj, time.Now())
				rv = obj.GetResourceVersion()
			case watch.Bookmark:
				rv = ev.Object.(client.Object).GetResourceVersion()
			case watch.Error:
				if ctx.Err() != nil {
					break
				}
				err := apierrors.FromObject(ev.Object)
				o.t.Logf("watch %T: %v; listing again", l, err)
				if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
					if newRV, lerr := o.list(ctx, l); lerr == nil {
						rv = newRV
					}
				}
			}
		}
		w.Stop()
	}
}

func (o *observer) update(t watch.EventType, obj client.Object, now time.Time) {
	s := summarize(obj, now)
	k := key(s.kind, obj.GetNamespace(), obj.GetName())
	o.mu.Lock()
	defer o.mu.Unlock()
	side := o.sides[o.sideOf(obj.GetNamespace())]
	if side == nil {
		return // another namespace than the benchmark's
	}
	old := o.objs[k]
	if old != nil {
		side.objects--
		if side.check(old) {
			side.passing--
		}
	}
	if t == watch.Deleted {
		delete(o.objs, k)
	} else {
		o.objs[k] = s
		side.objects++
		if side.check(s) {
			side.passing++
		}
	}
	if t == watch.Modified {
		side.modified[k]++
	}
	if s.phase == v1alpha1.ActivationExpired {
		if _, ok := o.expiredAt[k]; !ok {
			o.expiredAt[k] = now
		}
	}
	if side.passing == side.objects && side.allAt.IsZero() {
		side.allAt = now
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

// stop waits for the watches to end once ctx is done, so that none logs
// after the test.
func (o *observer) stop() { o.running.Wait() }

// setCheck makes check the test of convergence of a side from now on, and
// resets its counts of writes.
func (o *observer) setCheck(side string, check func(*summary) bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.sides[side]
	t.check, t.passing, t.allAt = check, 0, time.Time{}
	for k, s := range o.objs {
		if o.sideOf(namespaceOfKey(k)) == side && check(s) {
			t.passing++
		}
	}
	if t.passing == t.objects {
		t.allAt = time.Now()
	}
	t.modified = map[string]int{}
}

// writes returns a side's MODIFIED events since the last setCheck or
// resetWrites, in all and by kind, leaving out the objects whose keys
// except holds (nil: none).
func (o *observer) writes(side string, except func(key string) bool) (int, map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	total, byKind := 0, map[string]int{}
	for k, n := range o.sides[side].modified {
		if except != nil && except(k) {
			continue
		}
		total += n
		byKind[kindOf(k)] += n
	}
	return total, byKind
}

func (o *observer) resetWrites(side string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sides[side].modified = map[string]int{}
}

// counts returns how many objects a side has, by kind.
func (o *observer) counts(side string) (int, map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	byKind := map[string]int{}
	for k, s := range o.objs {
		if o.sideOf(namespaceOfKey(k)) == side {
			byKind[s.kind]++
		}
	}
	return o.sides[side].objects, byKind
}

// waitAll waits until every object of a side passes its check, and
// returns when the watch delivered the last one.
func (o *observer) waitAll(ctx context.Context, side string, timeout time.Duration, progress func(passing, total int) error) (time.Time, error) {
	deadline := time.After(timeout)
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		o.mu.Lock()
		t := o.sides[side]
		at, passing, total, ch := t.allAt, t.passing, t.objects, o.changed
		o.mu.Unlock()
		if !at.IsZero() {
			return at, nil
		}
		select {
		case <-ch:
		case <-tick.C:
			if err := progress(passing, total); err != nil {
				return time.Time{}, err
			}
		case <-deadline:
			return time.Time{}, fmt.Errorf("after %s, %d of %d objects converged", timeout, passing, total)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// waitFor waits until ok holds of the summary of the object at k (nil if
// there is none), and returns when the watch delivered that version.
func (o *observer) waitFor(ctx context.Context, timeout time.Duration, k string, ok func(*summary) bool) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		o.mu.Lock()
		s, ch := o.objs[k], o.changed
		var at time.Time
		if ok(s) {
			at = time.Now()
			if s != nil {
				at = s.seenAt
			}
		}
		o.mu.Unlock()
		if !at.IsZero() {
			return at, nil
		}
		select {
		case <-ch:
		case <-deadline:
			return time.Time{}, fmt.Errorf("%s: not there after %s", k, timeout)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// failing returns the keys of a side's objects that fail its check.
func (o *observer) failing(side string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.sides[side]
	var out []string
	for k, s := range o.objs {
		if o.sideOf(namespaceOfKey(k)) == side && !t.check(s) {
			out = append(out, k)
		}
	}
	return out
}

// get returns a copy of the summary of the object at k; the zero summary
// if there is none.
func (o *observer) get(k string) summary {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.objs[k]; ok {
		return *s
	}
	return summary{}
}

// expired returns when the watch first saw the activation at k Expired.
func (o *observer) expired(k string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at, ok := o.expiredAt[k]
	return at, ok
}
